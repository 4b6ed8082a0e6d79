/**
 * The Notion workspace the emulator holds: accounts, workspace membership, groups, and the
 * behaviour switches for what the real service leaves unknown. No HTTP here; business refusals
 * are thrown as `ScimError`s because their status codes are part of the emulated behaviour.
 *
 * Users are indexed by id and by userName (the lower-cased email) and groups by id and name, so
 * that no request scans the workspace except a list or a name-part filter.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { parseSnapshot, SnapshotError } from '../common/snapshot';
import { ScimError } from './scim';

export const ROLES = ['owner', 'membership_admin', 'member', 'restricted_member'] as const;
export type Role = (typeof ROLES)[number];

export interface UserRecord {
  readonly id: string;
  /** The email, lower-cased (Notion lower-cases emails). */
  userName: string;
  givenName?: string;
  familyName?: string;
  formatted?: string;
  title?: string;
  role: Role;
  /** A member of the workspace. False once removed: the Notion account itself lives on. */
  active: boolean;
  readonly created: number;
  lastModified: number;
}

export interface GroupRecord {
  readonly id: string;
  displayName: string;
  /** Member user ids, in the order they were added. */
  readonly members: Set<string>;
  /** The group is the only full-access holder of some page: Notion refuses to delete it. */
  soleOwner: boolean;
  readonly created: number;
  lastModified: number;
}

export const configSchema = z.strictObject({
  verifiedDomains: z.array(z.string().min(1)),
  /** Removed members stay in listings and GET with `active:false` (else they vanish: 404). */
  removedUsersListed: z.boolean(),
  /** False: every authenticated request answers 401, as with a revoked token. */
  tokenValid: z.boolean(),
  /** Shuffle list order on every call, so that offset paging yields duplicates and misses. */
  unstableOrdering: z.boolean(),
  /** Test-only (issue 15): these members are served without their `userName`, as a broken answer would be. */
  malformedUserIds: z.array(z.string()).optional(),
});
export type NotionConfig = z.infer<typeof configSchema>;
export const configPatchSchema = configSchema.partial();

export const seedSchema = z.strictObject({
  users: z
    .array(
      z.strictObject({
        userName: z.string().min(1),
        givenName: z.string().optional(),
        familyName: z.string().optional(),
        formatted: z.string().optional(),
        active: z.boolean().optional(),
        role: z.enum(ROLES).optional(),
      }),
    )
    .optional(),
  groups: z
    .array(
      z.strictObject({
        displayName: z.string().min(1),
        members: z.array(z.string()).optional(),
        soleOwner: z.boolean().optional(),
      }),
    )
    .optional(),
});
export type NotionSeed = z.infer<typeof seedSchema>;

const epochMs = z.number().int().min(0);

/**
 * The Notion emulator's snapshot (version 1): the token owner, the configuration, every account
 * (members and removed members, ids, names, role, meta times) and every group (ids, members,
 * soleOwner flag, meta times), in the order the workspace holds them.
 */
export const notionSnapshotSchema = z.strictObject({
  version: z.literal(1),
  emulator: z.literal('notion'),
  tokenOwner: z.strictObject({ id: z.string().min(1), userName: z.string().min(1) }),
  config: configSchema,
  users: z.array(
    z.strictObject({
      id: z.string().min(1),
      userName: z.string().min(1),
      givenName: z.string().optional(),
      familyName: z.string().optional(),
      formatted: z.string().optional(),
      title: z.string().optional(),
      role: z.enum(ROLES),
      /** False: removed from the workspace (the account lives on). */
      active: z.boolean(),
      created: epochMs,
      lastModified: epochMs,
      /** Ids of the groups the user is in, in the order it joined them. */
      groups: z.array(z.string()),
    }),
  ),
  groups: z.array(
    z.strictObject({
      id: z.string().min(1),
      displayName: z.string().min(1),
      /** Member user ids, in the order they were added. */
      members: z.array(z.string()),
      soleOwner: z.boolean(),
      created: epochMs,
      lastModified: epochMs,
    }),
  ),
});
/** What `snapshot()` returns and `restore()` reads (JSON-serialisable). */
export type NotionSnapshot = z.output<typeof notionSnapshotSchema>;

/** Attributes a user write may change; `null` clears an optional attribute. */
export interface UserChange {
  userName?: string;
  givenName?: string | null;
  familyName?: string | null;
  formatted?: string | null;
  title?: string | null;
  role?: Role;
  active?: boolean;
}

export interface UserInput {
  userName: string;
  givenName?: string;
  familyName?: string;
  formatted?: string;
  title?: string;
  role?: Role;
}

export type UserFilter = { attribute: 'userName' | 'givenName' | 'familyName'; value: string };

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export function normalizeEmail(value: string, field = 'userName'): string {
  const email = value.trim().toLowerCase();
  if (!EMAIL.test(email) || CONTROL.test(email)) {
    throw new ScimError(
      400,
      `${field} must be a valid email address: ${JSON.stringify(value)}`,
      'invalidValue',
    );
  }
  return email;
}

function checkText(field: string, value: string | null | undefined) {
  if (typeof value === 'string' && CONTROL.test(value)) {
    throw new ScimError(400, `${field} must not contain control characters`, 'invalidValue');
  }
}

function isNormalizedEmail(value: string): boolean {
  return value === value.trim().toLowerCase() && EMAIL.test(value) && !CONTROL.test(value);
}

const domainOf = (email: string) => email.slice(email.lastIndexOf('@') + 1);

export interface StoreOptions {
  ownerEmail: string;
  config: NotionConfig;
}

export class NotionStore {
  config: NotionConfig;
  /** The owner of the SCIM token: always a member, cannot be removed (restored with its id). */
  private owner: string = randomUUID();
  private readonly ownerEmail: string;
  private readonly users = new Map<string, UserRecord>();
  private readonly byUserName = new Map<string, UserRecord>();
  private readonly groups = new Map<string, GroupRecord>();
  private readonly groupsByName = new Map<string, Set<GroupRecord>>();
  private readonly groupsOfUser = new Map<string, Set<GroupRecord>>();
  /** Users a listing shows, in creation order; rebuilt after a change of membership. */
  private listed: UserRecord[] | null = null;
  private changes = 0;

  constructor(options: StoreOptions) {
    this.ownerEmail = normalizeEmail(options.ownerEmail, 'ownerEmail');
    this.config = configSchema.parse({
      ...options.config,
      verifiedDomains: options.config.verifiedDomains.map((d) => d.toLowerCase()),
    });
    this.reset();
  }

  get ownerId(): string {
    return this.owner;
  }

  /** Changes whenever the workspace or the configuration may have (to save only when needed). */
  get revision(): number {
    return this.changes;
  }

  // ---- control ---------------------------------------------------------------------------

  /** Empty workspace; the token owner (same id) and the configuration are kept. */
  reset(): void {
    this.changes += 1;
    this.users.clear();
    this.byUserName.clear();
    this.groups.clear();
    this.groupsByName.clear();
    this.groupsOfUser.clear();
    this.listed = null;
    const now = Date.now();
    this.insertUser({
      id: this.ownerId,
      userName: this.ownerEmail,
      givenName: 'Workspace',
      familyName: 'Owner',
      formatted: 'Workspace Owner',
      role: 'owner',
      active: true,
      created: now,
      lastModified: now,
    });
  }

  configure(patch: Partial<NotionConfig>): NotionConfig {
    const parsed = configPatchSchema.parse(patch);
    this.changes += 1;
    if (parsed.verifiedDomains) parsed.verifiedDomains = parsed.verifiedDomains.map((d) => d.toLowerCase());
    if (
      parsed.removedUsersListed !== undefined &&
      parsed.removedUsersListed !== this.config.removedUsersListed
    ) {
      this.listed = null;
    }
    this.config = { ...this.config, ...parsed };
    return this.config;
  }

  /**
   * Adds to the workspace as given, bypassing the API's rules (verified domains); users are
   * matched by userName (the token owner included), groups by displayName.
   */
  seed(input: NotionSeed): { users: Record<string, string>; groups: Record<string, string> } {
    const seed = seedSchema.parse(input);
    this.changes += 1;
    const ids = { users: {} as Record<string, string>, groups: {} as Record<string, string> };
    for (const entry of seed.users ?? []) {
      const userName = normalizeEmail(entry.userName);
      if (userName === this.ownerEmail && entry.active === false) {
        throw new Error(`the token owner ${userName} cannot be removed`);
      }
      let user = this.byUserName.get(userName);
      if (!user) {
        const now = Date.now();
        user = this.insertUser({
          id: randomUUID(),
          userName,
          role: 'member',
          active: true,
          created: now,
          lastModified: now,
        });
      }
      if (entry.givenName !== undefined) user.givenName = entry.givenName;
      if (entry.familyName !== undefined) user.familyName = entry.familyName;
      if (entry.formatted !== undefined) user.formatted = entry.formatted;
      if (entry.role) user.role = entry.role;
      if (entry.active === false && user.active) this.removeFromWorkspace(user);
      if (entry.active !== false && !user.active) this.setActive(user, true);
      ids.users[userName] = user.id;
    }
    for (const entry of seed.groups ?? []) {
      const memberIds = (entry.members ?? []).map((name) => {
        const user = this.byUserName.get(normalizeEmail(name));
        if (!user?.active) throw new Error(`group ${entry.displayName}: ${name} is not a workspace member`);
        return user.id;
      });
      const existing = this.groupsByName.get(entry.displayName)?.values().next().value;
      const group = existing ?? this.createGroup(entry.displayName, []);
      for (const id of memberIds) this.addMember(group, id);
      if (entry.soleOwner !== undefined) group.soleOwner = entry.soleOwner;
      ids.groups[entry.displayName] = group.id;
    }
    return ids;
  }

  /** The whole workspace and configuration as a JSON-serialisable document. */
  snapshot(): NotionSnapshot {
    return structuredClone({
      version: 1 as const,
      emulator: 'notion' as const,
      tokenOwner: { id: this.ownerId, userName: this.ownerEmail },
      config: this.config,
      users: [...this.users.values()].map((user) => ({
        ...user,
        groups: [...(this.groupsOfUser.get(user.id) ?? [])].map((group) => group.id),
      })),
      groups: [...this.groups.values()].map((group) => ({
        id: group.id,
        displayName: group.displayName,
        members: [...group.members],
        soleOwner: group.soleOwner,
        created: group.created,
        lastModified: group.lastModified,
      })),
    });
  }

  /**
   * Replaces the workspace, the token owner's id and the configuration with a snapshot's, all or
   * nothing: a malformed or inconsistent snapshot, or one of another token owner, is refused
   * with a `SnapshotError` and the workspace stays as it was.
   */
  restore(input: unknown): void {
    const snapshot = structuredClone(parseSnapshot('Notion', 'notion', notionSnapshotSchema, input));
    if (snapshot.tokenOwner.userName !== this.ownerEmail)
      throw new SnapshotError(
        `the Notion snapshot's token owner is ${snapshot.tokenOwner.userName}, not this emulator's (${this.ownerEmail})`,
      );
    const invalid = (message: string) => new SnapshotError(`invalid Notion snapshot: ${message}`);

    const users = new Map<string, UserRecord>();
    const byUserName = new Map<string, UserRecord>();
    for (const { groups: _groups, ...user } of snapshot.users) {
      if (users.has(user.id)) throw invalid(`the user id ${user.id} is used twice`);
      if (!isNormalizedEmail(user.userName))
        throw invalid(`user ${user.id}: userName ${JSON.stringify(user.userName)} is not a lower-case email`);
      if (byUserName.has(user.userName)) throw invalid(`the userName ${user.userName} is used twice`);
      users.set(user.id, user);
      byUserName.set(user.userName, user);
    }
    const owner = users.get(snapshot.tokenOwner.id);
    if (owner?.userName !== this.ownerEmail || !owner.active)
      throw invalid(`the token owner ${snapshot.tokenOwner.id} is not a member named ${this.ownerEmail}`);

    const groups = new Map<string, GroupRecord>();
    const groupsByName = new Map<string, Set<GroupRecord>>();
    let memberships = 0;
    for (const entry of snapshot.groups) {
      if (groups.has(entry.id)) throw invalid(`the group id ${entry.id} is used twice`);
      const members = new Set(entry.members);
      if (members.size !== entry.members.length) throw invalid(`group ${entry.id} lists a member twice`);
      for (const id of members)
        if (!users.get(id)?.active) throw invalid(`group ${entry.id}: ${id} is not a workspace member`);
      const group: GroupRecord = { ...entry, members };
      groups.set(group.id, group);
      let same = groupsByName.get(group.displayName);
      if (!same) groupsByName.set(group.displayName, (same = new Set()));
      same.add(group);
      memberships += members.size;
    }
    const groupsOfUser = new Map<string, Set<GroupRecord>>();
    let backLinks = 0;
    for (const user of snapshot.users) {
      const of = new Set<GroupRecord>();
      for (const id of user.groups) {
        const group = groups.get(id);
        if (!group?.members.has(user.id) || of.has(group))
          throw invalid(`user ${user.id}: its groups do not match the groups' members`);
        of.add(group);
      }
      if (of.size > 0) groupsOfUser.set(user.id, of);
      backLinks += of.size;
    }
    if (backLinks !== memberships) throw invalid("users' groups do not list every group membership");

    // Valid: replace everything at once.
    this.changes += 1;
    this.owner = owner.id;
    this.config = {
      ...snapshot.config,
      verifiedDomains: snapshot.config.verifiedDomains.map((d) => d.toLowerCase()),
    };
    for (const [target, source] of [
      [this.users, users],
      [this.byUserName, byUserName],
      [this.groups, groups],
      [this.groupsByName, groupsByName],
      [this.groupsOfUser, groupsOfUser],
    ] as [Map<string, unknown>, Map<string, unknown>][]) {
      target.clear();
      for (const [key, value] of source) target.set(key, value);
    }
    this.listed = null;
  }

  /** The snapshot, with each group's members' userNames for readers. */
  state() {
    const { version: _version, emulator: _emulator, ...workspace } = this.snapshot();
    return {
      ...workspace,
      groups: workspace.groups.map((group) => ({
        ...group,
        memberUserNames: group.members.map((id) => this.users.get(id)?.userName),
      })),
    };
  }

  // ---- users -----------------------------------------------------------------------------

  /** A user the API shows: a member, or a removed member while removed members stay listed. */
  visibleUser(id: string): UserRecord | undefined {
    const user = this.users.get(id);
    return user && (user.active || this.config.removedUsersListed) ? user : undefined;
  }

  userNameOf(id: string): string | undefined {
    return this.users.get(id)?.userName;
  }

  /** The users a listing shows, in a stable order (the caller must not modify the array). */
  listUsers(filter?: UserFilter): readonly UserRecord[] {
    if (filter?.attribute === 'userName') {
      const user = this.byUserName.get(filter.value.toLowerCase());
      return user && this.visibleUser(user.id) ? [user] : [];
    }
    const all = this.listedUsers();
    if (!filter) return all;
    // Name parts are case sensitive on the real service.
    return all.filter((user) => user[filter.attribute] === filter.value);
  }

  /** POST: creates the account, or re-adds a removed member (same id). */
  createUser(input: UserInput): UserRecord {
    this.changes += 1;
    const userName = normalizeEmail(input.userName);
    for (const field of ['givenName', 'familyName', 'formatted', 'title'] as const)
      checkText(field, input[field]);
    const existing = this.byUserName.get(userName);
    if (existing?.active) {
      throw new ScimError(409, `User ${userName} is already a member of this workspace`, 'uniqueness');
    }
    const now = Date.now();
    if (existing) {
      // The account exists: it joins the workspace again. Its profile is only rewritten where
      // the domain is verified, as for any profile change.
      if (this.isVerified(userName)) {
        if (input.givenName !== undefined) existing.givenName = input.givenName;
        if (input.familyName !== undefined) existing.familyName = input.familyName;
        if (input.formatted !== undefined) existing.formatted = input.formatted;
      }
      if (input.title !== undefined) existing.title = input.title;
      existing.role = input.role ?? 'member';
      this.setActive(existing, true);
      return existing;
    }
    // Notion creates an account for any email, verified domain or not.
    return this.insertUser({
      id: randomUUID(),
      userName,
      ...(input.givenName !== undefined ? { givenName: input.givenName } : {}),
      ...(input.familyName !== undefined ? { familyName: input.familyName } : {}),
      ...(input.formatted !== undefined ? { formatted: input.formatted } : {}),
      ...(input.title !== undefined ? { title: input.title } : {}),
      role: input.role ?? 'member',
      active: true,
      created: now,
      lastModified: now,
    });
  }

  /** PATCH/PUT: applies every change or none. */
  updateUser(user: UserRecord, change: UserChange): UserRecord {
    this.changes += 1;
    for (const field of ['givenName', 'familyName', 'formatted', 'title'] as const)
      checkText(field, change[field]);
    const userName = change.userName === undefined ? user.userName : normalizeEmail(change.userName);
    const differs = (field: 'givenName' | 'familyName' | 'formatted') =>
      change[field] !== undefined && (change[field] ?? undefined) !== user[field];
    const profileChanged =
      userName !== user.userName || differs('givenName') || differs('familyName') || differs('formatted');

    if (profileChanged && !this.isVerified(user.userName)) {
      // The real status is unknown (Notion only documents that such changes are refused): 400
      // `mutability`, the SCIM code for an attribute this client may not change.
      throw new ScimError(
        400,
        `Cannot update the profile of ${user.userName}: the email domain ${domainOf(user.userName)} is not verified for this workspace`,
        'mutability',
      );
    }
    if (userName !== user.userName && this.byUserName.has(userName)) {
      // Observed on the real service: a clash on email change is a 500, unlike POST's 409.
      throw new ScimError(500, 'Internal server error');
    }
    if (change.active === false && user.id === this.ownerId) throw this.ownerRemovalError();

    if (userName !== user.userName) {
      this.byUserName.delete(user.userName);
      user.userName = userName;
      this.byUserName.set(userName, user);
    }
    for (const field of ['givenName', 'familyName', 'formatted', 'title'] as const) {
      const value = change[field];
      if (value === null) delete user[field];
      else if (value !== undefined) user[field] = value;
    }
    if (change.role) user.role = change.role;
    user.lastModified = Date.now();
    if (change.active === false && user.active) this.removeFromWorkspace(user);
    if (change.active === true && !user.active) this.setActive(user, true);
    return user;
  }

  /** DELETE: removes the member from the workspace (the account cannot be deleted by SCIM). */
  deleteUser(user: UserRecord): void {
    this.changes += 1;
    if (user.id === this.ownerId) throw this.ownerRemovalError();
    if (user.active) this.removeFromWorkspace(user);
  }

  private ownerRemovalError() {
    // Notion documents the refusal, not its code: 403, as the token's owner may not do this.
    return new ScimError(
      403,
      `The workspace owner who created this SCIM token (${this.ownerEmail}) cannot be removed via the API`,
    );
  }

  private isVerified(email: string): boolean {
    return this.config.verifiedDomains.includes(domainOf(email));
  }

  private insertUser(user: UserRecord): UserRecord {
    this.users.set(user.id, user);
    this.byUserName.set(user.userName, user);
    if (this.listed && (user.active || this.config.removedUsersListed)) this.listed.push(user);
    return user;
  }

  private setActive(user: UserRecord, active: boolean) {
    user.active = active;
    user.lastModified = Date.now();
    if (!this.config.removedUsersListed) this.listed = null;
  }

  /** Removing a member also takes it out of every group. */
  private removeFromWorkspace(user: UserRecord) {
    this.setActive(user, false);
    const now = Date.now();
    for (const group of this.groupsOfUser.get(user.id) ?? []) {
      group.members.delete(user.id);
      group.lastModified = now;
    }
    this.groupsOfUser.delete(user.id);
  }

  private listedUsers(): UserRecord[] {
    if (!this.listed) {
      this.listed = [];
      for (const user of this.users.values()) {
        if (user.active || this.config.removedUsersListed) this.listed.push(user);
      }
    }
    return this.listed;
  }

  // ---- groups ----------------------------------------------------------------------------

  group(id: string): GroupRecord | undefined {
    return this.groups.get(id);
  }

  listGroups(displayName?: string): GroupRecord[] {
    if (displayName !== undefined) return [...(this.groupsByName.get(displayName) ?? [])];
    return [...this.groups.values()];
  }

  /** Several groups may share a name (nothing documents a uniqueness rule). */
  createGroup(displayName: string, members: readonly string[]): GroupRecord {
    this.changes += 1;
    this.checkDisplayName(displayName);
    this.checkNewMembers(members, new Set());
    const now = Date.now();
    const group: GroupRecord = {
      id: randomUUID(),
      displayName,
      members: new Set(),
      soleOwner: false,
      created: now,
      lastModified: now,
    };
    this.groups.set(group.id, group);
    this.indexName(group);
    for (const id of members) this.addMember(group, id);
    return group;
  }

  /** PATCH/PUT: the new name and/or the new member list, all or nothing. */
  updateGroup(
    group: GroupRecord,
    change: { displayName?: string; members?: readonly string[] },
  ): GroupRecord {
    this.changes += 1;
    if (change.displayName !== undefined) this.checkDisplayName(change.displayName);
    if (change.members) this.checkNewMembers(change.members, group.members);
    if (change.displayName !== undefined && change.displayName !== group.displayName) {
      this.unindexName(group);
      group.displayName = change.displayName;
      this.indexName(group);
    }
    if (change.members) {
      const wanted = new Set(change.members);
      for (const id of [...group.members]) if (!wanted.has(id)) this.removeMember(group, id);
      for (const id of wanted) this.addMember(group, id);
    }
    group.lastModified = Date.now();
    return group;
  }

  deleteGroup(group: GroupRecord): void {
    this.changes += 1;
    if (group.soleOwner) {
      // Documented refusal with no documented code: 409, a conflict with the pages' permissions.
      throw new ScimError(
        409,
        `Group ${group.displayName} cannot be deleted: it would result in no one having full access to one or more pages`,
      );
    }
    for (const id of [...group.members]) this.removeMember(group, id);
    this.unindexName(group);
    this.groups.delete(group.id);
  }

  setSoleOwner(id: string, soleOwner: boolean): GroupRecord | undefined {
    this.changes += 1;
    const group = this.groups.get(id);
    if (group) group.soleOwner = soleOwner;
    return group;
  }

  private checkDisplayName(displayName: string) {
    if (!displayName.trim()) throw new ScimError(400, 'displayName must not be empty', 'invalidValue');
    checkText('displayName', displayName);
  }

  /** Only workspace members can be in groups (no guests, no removed members). */
  private checkNewMembers(members: readonly string[], current: ReadonlySet<string>) {
    const refused = members.filter((id) => !current.has(id) && !this.users.get(id)?.active);
    if (refused.length > 0) {
      // Undocumented on the real service; 400 naming the ids lets a client find the culprit.
      throw new ScimError(
        400,
        `Only workspace members can be added to a group; not a member of this workspace: ${refused.join(', ')}`,
        'invalidValue',
      );
    }
  }

  private addMember(group: GroupRecord, userId: string) {
    if (group.members.has(userId)) return;
    group.members.add(userId);
    let of = this.groupsOfUser.get(userId);
    if (!of) this.groupsOfUser.set(userId, (of = new Set()));
    of.add(group);
  }

  private removeMember(group: GroupRecord, userId: string) {
    group.members.delete(userId);
    this.groupsOfUser.get(userId)?.delete(group);
  }

  private indexName(group: GroupRecord) {
    let same = this.groupsByName.get(group.displayName);
    if (!same) this.groupsByName.set(group.displayName, (same = new Set()));
    same.add(group);
  }

  private unindexName(group: GroupRecord) {
    const same = this.groupsByName.get(group.displayName);
    same?.delete(group);
    if (same?.size === 0) this.groupsByName.delete(group.displayName);
  }
}
