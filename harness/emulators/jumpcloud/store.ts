/**
 * The emulated JumpCloud organisation: users, user groups (with nested groups), SSO
 * applications and their bindings, and the Directory Insights journal. The HTTP routes and the
 * programmatic API both mutate it through these methods, so both validate alike and both append
 * the matching events; seeding does neither (a seed is the pre-existing state).
 */
import { badRequest, conflict, describeZodError, notFound } from './errors';
import { EventJournal, type InsightsEvent } from './journal';
import {
  ObjectIdFactory,
  applicationOperationSchema,
  groupWriteSchema,
  isObjectId,
  memberOperationSchema,
  userCreateSchema,
  userUpdateSchema,
  type Application,
  type ApplicationOperation,
  type GraphConnection,
  type GraphObject,
  type GraphObjectWithPaths,
  type GroupWriteInput,
  type MemberOperation,
  type SystemUser,
  type UserCreateInput,
  type UserGroup,
  type UserState,
  type UserUpdateInput,
} from './model';
import { jumpCloudSeedSchema, type JumpCloudSeed } from './seed';
import { jumpCloudSnapshotSchema, type JumpCloudSnapshot } from './snapshot';
import { parseSnapshot, SnapshotError } from '../common/snapshot';
import type { z } from 'zod';

export interface DirectoryOptions {
  /** Organisation id carried by objects and events. */
  organization: string;
  /** Id of the `Notion` SSO application, which always exists. */
  notionAppId: string;
}

/** Who made a change, for the event's `client_ip`. */
export interface MutationContext {
  clientIp?: string;
}

type MemberType = 'user' | 'user_group';

/** The administrator whose API key the emulator accepts (events' `initiated_by`). */
export const API_ADMIN = {
  type: 'admin',
  id: '5f3c2b1a0e9d8c7b6a594837',
  email: 'admin@example.com',
} as const;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * How the directory tells emails apart: JumpCloud refuses a second user with the same email in
 * another letter case, but is not known to fold other Unicode letters — a `\u212Aate@…` account
 * (KELVIN SIGN) can sit beside `kate@…` (issue 14). The emulator lower-cases ASCII letters only.
 */
export function emailIndexKey(email: string): string {
  return email.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}
// eslint-disable-next-line no-control-regex
const BAD_USERNAME = /[\s\u0000-\u001f\u007f]/;
const NOTION_APP_CREATED = '2023-07-19T14:02:10.000Z';

export interface DirectoryState {
  organization: string;
  applications: Application[];
  users: SystemUser[];
  groups: (UserGroup & { members: GraphObject[] })[];
  bindings: { application: string; users: string[]; groups: string[] }[];
  insights: { delayMs: number; events: number };
}

/** The directory's maps, to roll a failed seed back (or install a restored snapshot). */
interface Checkpoint {
  users: Map<string, SystemUser>;
  usernames: Map<string, string>;
  emails: Map<string, string>;
  groups: Map<string, UserGroup>;
  groupNames: Map<string, string>;
  members: Map<string, Map<string, MemberType>>;
  parents: Map<string, Set<string>>;
  applications: Map<string, Application>;
  bindings: Map<string, Map<string, MemberType>>;
  nextUid: number;
}

export class JumpCloudDirectory {
  readonly journal = new EventJournal();
  readonly organization: string;
  readonly notionAppId: string;

  private readonly ids = new ObjectIdFactory();
  private users = new Map<string, SystemUser>();
  /** Lower-cased username → id. */
  private usernames = new Map<string, string>();
  /** Lower-cased email → id. */
  private emails = new Map<string, string>();
  private groups = new Map<string, UserGroup>();
  /** Lower-cased group name → id. */
  private groupNames = new Map<string, string>();
  /** Group → its direct members (users and nested groups), in the order they were added. */
  private members = new Map<string, Map<string, MemberType>>();
  /** User or group → the groups it is a direct member of. */
  private parents = new Map<string, Set<string>>();
  private applications = new Map<string, Application>();
  /** Application → the users and groups bound to it directly. */
  private bindings = new Map<string, Map<string, MemberType>>();
  private nextUid = 5001;
  /**
   * Raw fields served over users' records (a test control, `setRawUserFields`): not part of the
   * model, its events or its snapshots.
   */
  private rawUserFields = new Map<string, Record<string, unknown>>();

  private userRevision = 0;
  /** Changes that emit no event (seed, reset, restore); the journal counts the others. */
  private changes = 0;

  /** Resolved traversals, valid while the graph does not change. */
  private traversals = new Map<string, GraphObjectWithPaths[]>();

  constructor(options: DirectoryOptions) {
    this.organization = options.organization;
    this.notionAppId = options.notionAppId;
    this.reset();
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /** Empty directory and journal; the `Notion` application stays. */
  reset(): void {
    this.users = new Map();
    this.usernames = new Map();
    this.emails = new Map();
    this.groups = new Map();
    this.groupNames = new Map();
    this.members = new Map();
    this.parents = new Map();
    this.applications = new Map();
    this.bindings = new Map();
    this.nextUid = 5001;
    this.rawUserFields = new Map();
    this.userRevision += 1;
    this.changes += 1;
    this.journal.clear();
    this.graphChanged();
    this.addApplication(this.notionAppId, 'Notion', NOTION_APP_CREATED);
  }

  /** Adds a seed's objects, all or nothing, without events. */
  seed(input: JumpCloudSeed): void {
    const parsed = jumpCloudSeedSchema.safeParse(input);
    if (!parsed.success) throw badRequest(`invalid seed: ${describeZodError(parsed.error)}`);
    const seed = parsed.data;
    const checkpoint = this.checkpoint();
    try {
      for (const app of seed.applications) {
        const id = app.id ?? this.ids.next();
        this.requireFreeId(id);
        if (this.findApplication(app.name)) throw conflict(`application ${app.name} already exists`);
        this.addApplication(id, app.name, new Date().toISOString());
      }
      for (const user of seed.users) {
        const { id, created, state, ...fields } = user;
        if (id) this.requireFreeId(id);
        this.insertUser(this.buildUser(parseBody(userCreateSchema, { ...fields, state }), id, created));
      }
      for (const group of seed.groups) {
        if (group.id) this.requireFreeId(group.id);
        const body = parseBody(groupWriteSchema, {
          name: group.name,
          description: group.description,
          email: group.email,
        });
        this.requireGroupNameFree(body.name);
        this.insertGroup(this.buildGroup(body, group.id));
      }
      for (const group of seed.groups) {
        const groupId = this.groupIdByName(group.name);
        for (const username of group.members) this.link(groupId, this.userIdByUsername(username), 'user');
        for (const name of group.groups) {
          const nested = this.groupIdByName(name);
          if (this.reaches(nested, groupId)) throw badRequest(`seed nests ${name} in ${group.name}, a cycle`);
          this.link(groupId, nested, 'user_group');
        }
      }
      for (const binding of seed.bindings) {
        const app =
          binding.application === undefined
            ? this.application(this.notionAppId)
            : this.findApplication(binding.application);
        if (!app) throw notFound(`application ${binding.application}`);
        const bound = this.boundTo(app._id);
        for (const name of binding.groups) bound.set(this.groupIdByName(name), 'user_group');
        for (const username of binding.users) bound.set(this.userIdByUsername(username), 'user');
      }
    } catch (error) {
      this.install(checkpoint);
      throw error;
    }
    this.changes += 1;
    this.graphChanged();
  }

  state(): DirectoryState {
    return {
      organization: this.organization,
      applications: [...this.applications.values()],
      users: [...this.users.values()],
      groups: [...this.groups.values()].map((group) => ({
        ...group,
        members: [...this.membersOf(group.id)].map(([id, type]) => ({ id, type })),
      })),
      bindings: [...this.applications.keys()].map((application) => {
        const bound = [...this.boundTo(application)];
        return {
          application,
          users: bound.filter(([, type]) => type === 'user').map(([id]) => id),
          groups: bound.filter(([, type]) => type === 'user_group').map(([id]) => id),
        };
      }),
      insights: { delayMs: this.journal.delayMs, events: this.journal.size },
    };
  }

  /** Changes whenever the directory or the journal does (to save a snapshot only when needed). */
  get revision(): number {
    return this.changes + this.journal.revision;
  }

  /** The whole organisation and journal as a JSON-serialisable document (see `./snapshot`). */
  snapshot(): JumpCloudSnapshot {
    const refs = (map: Map<string, MemberType>) => [...map].map(([id, type]) => ({ id, type }));
    return structuredClone({
      version: 1 as const,
      emulator: 'jumpcloud' as const,
      organization: this.organization,
      notionAppId: this.notionAppId,
      counters: { nextUid: this.nextUid, objectIds: this.ids.lastCounter },
      applications: [...this.applications.values()],
      users: [...this.users.values()],
      groups: [...this.groups.values()].map((group) => ({
        ...group,
        members: refs(this.membersOf(group.id)),
      })),
      memberOf: Object.fromEntries(
        [...this.parents].filter(([, groups]) => groups.size > 0).map(([id, groups]) => [id, [...groups]]),
      ),
      bindings: [...this.applications.keys()].map((application) => ({
        application,
        members: refs(this.boundTo(application)),
      })),
      insights: { delayMs: this.journal.delayMs, events: this.journal.entryList() },
    });
  }

  /**
   * Replaces the organisation and the journal with a snapshot's, all or nothing: a snapshot that
   * is malformed, inconsistent, or of another organisation is refused with a `SnapshotError`
   * and the directory stays as it was.
   */
  restore(input: unknown): void {
    const snapshot = structuredClone(parseSnapshot('JumpCloud', 'jumpcloud', jumpCloudSnapshotSchema, input));
    if (snapshot.organization !== this.organization)
      throw new SnapshotError(
        `the JumpCloud snapshot is of organisation ${snapshot.organization}, not of this emulator's (${this.organization})`,
      );
    if (snapshot.notionAppId !== this.notionAppId)
      throw new SnapshotError(
        `the JumpCloud snapshot's Notion application is ${snapshot.notionAppId}, not this emulator's (${this.notionAppId})`,
      );
    const invalid = (message: string) => new SnapshotError(`invalid JumpCloud snapshot: ${message}`);
    const next: Checkpoint = {
      users: new Map(),
      usernames: new Map(),
      emails: new Map(),
      groups: new Map(),
      groupNames: new Map(),
      members: new Map(),
      parents: new Map(),
      applications: new Map(),
      bindings: new Map(),
      nextUid: snapshot.counters.nextUid,
    };
    const used = new Set<string>();
    const claim = (id: string, what: string) => {
      if (used.has(id)) throw invalid(`the id of ${what} ${id} is used twice`);
      used.add(id);
    };

    for (const app of snapshot.applications) {
      claim(app._id, 'application');
      next.applications.set(app._id, app);
    }
    if (!next.applications.has(this.notionAppId))
      throw invalid(`the Notion application ${this.notionAppId} is missing`);

    for (const user of snapshot.users) {
      claim(user._id, 'user');
      const username = user.username.toLowerCase();
      const email = emailIndexKey(user.email);
      if (next.usernames.has(username)) throw invalid(`the username ${user.username} is used twice`);
      if (next.emails.has(email)) throw invalid(`the email ${user.email} is used twice`);
      next.users.set(user._id, user);
      next.usernames.set(username, user._id);
      next.emails.set(email, user._id);
    }
    for (const user of next.users.values())
      if (user.manager && !next.users.has(user.manager))
        throw invalid(`the manager ${user.manager} of user ${user._id} is not a user`);

    for (const { members: _members, ...group } of snapshot.groups) {
      claim(group.id, 'user group');
      const name = group.name.toLowerCase();
      if (next.groupNames.has(name)) throw invalid(`the user group name ${group.name} is used twice`);
      next.groups.set(group.id, {
        ...group,
        memberQueryExemptions: group.memberQueryExemptions as GraphObject[],
      });
      next.groupNames.set(name, group.id);
    }
    const exists = (ref: { id: string; type: MemberType }) =>
      ref.type === 'user' ? next.users.has(ref.id) : next.groups.has(ref.id);
    const refMap = (refs: { id: string; type: MemberType }[], owner: string) => {
      const map = new Map<string, MemberType>();
      for (const ref of refs) {
        if (!exists(ref)) throw invalid(`${owner}: ${ref.type} ${ref.id} does not exist`);
        if (map.has(ref.id)) throw invalid(`${owner}: ${ref.type} ${ref.id} is listed twice`);
        map.set(ref.id, ref.type);
      }
      return map;
    };

    let links = 0;
    for (const group of snapshot.groups) {
      const members = refMap(group.members, `members of user group ${group.id}`);
      next.members.set(group.id, members);
      links += members.size;
    }
    const cycle = nestedInItself(next.members);
    if (cycle !== undefined) throw invalid(`user group ${cycle} is nested in itself`);
    let backLinks = 0;
    for (const [id, groupIds] of Object.entries(snapshot.memberOf)) {
      const parents = new Set(groupIds);
      if (parents.size !== groupIds.length) throw invalid(`memberOf.${id} lists a group twice`);
      for (const groupId of parents)
        if (!next.members.get(groupId)?.has(id))
          throw invalid(`memberOf.${id} names user group ${groupId}, whose members do not include it`);
      next.parents.set(id, parents);
      backLinks += parents.size;
    }
    if (backLinks !== links) throw invalid('memberOf does not list every group membership');

    for (const binding of snapshot.bindings) {
      if (!next.applications.has(binding.application))
        throw invalid(`bindings name application ${binding.application}, which does not exist`);
      if (next.bindings.has(binding.application))
        throw invalid(`bindings list application ${binding.application} twice`);
      next.bindings.set(
        binding.application,
        refMap(binding.members, `bindings of application ${binding.application}`),
      );
    }

    const eventIds = new Set<string>();
    for (const { event } of snapshot.insights.events) {
      if (eventIds.has(event.id)) throw invalid(`the Directory Insights event id ${event.id} is used twice`);
      eventIds.add(event.id);
    }

    // Valid: replace everything at once.
    this.install(next);
    this.rawUserFields = new Map();
    this.ids.resumeAfter(snapshot.counters.objectIds);
    this.journal.load(snapshot.insights.events, snapshot.insights.delayMs);
    this.changes += 1;
  }

  // ---- users ----------------------------------------------------------------------------------

  listUsers(): SystemUser[] {
    return [...this.users.values()];
  }

  /** Changes whenever any user changes (for caches of user lists). */
  get usersRevision(): number {
    return this.userRevision;
  }

  getUser(id: string): SystemUser {
    const user = this.users.get(id);
    if (!user) throw isObjectId(id) ? notFound(`user ${id}`) : badRequest(`invalid object id ${id}`);
    return user;
  }

  findUserByUsername(username: string): SystemUser | undefined {
    const id = this.usernames.get(username.toLowerCase());
    return id === undefined ? undefined : this.users.get(id);
  }

  findUserByEmail(email: string): SystemUser | undefined {
    const id = this.emails.get(emailIndexKey(email));
    return id === undefined ? undefined : this.users.get(id);
  }

  createUser(input: UserCreateInput, context: MutationContext = {}): SystemUser {
    const user = this.buildUser(parseBody(userCreateSchema, input));
    this.insertUser(user);
    this.emit('user_create', { resource: userResource(user) }, context);
    return user;
  }

  updateUser(id: string, input: UserUpdateInput, context: MutationContext = {}): SystemUser {
    const before = this.getUser(id);
    const body = parseBody(userUpdateSchema, input);
    if (body.username !== undefined) this.requireUsernameFree(body.username, id);
    if (body.email !== undefined) this.requireEmailFree(body.email, id);
    if (body.manager !== undefined && body.manager !== '') this.requireManager(body.manager, id);

    const {
      state: requested,
      suspended,
      password: _password,
      addresses,
      phoneNumbers,
      mfa,
      recoveryEmail,
      ...plain
    } = body;
    const after: SystemUser = { ...before, ...definedOnly(plain) };
    if (addresses) after.addresses = addresses.map((address) => ({ ...address, id: this.ids.next() }));
    if (phoneNumbers) after.phoneNumbers = phoneNumbers.map((phone) => ({ ...phone, id: this.ids.next() }));
    if (mfa) after.mfa = { ...before.mfa, ...definedOnly(mfa) };
    if (recoveryEmail) after.recoveryEmail = { address: recoveryEmail.address, verified: false };
    const state: UserState =
      requested ??
      (suspended === true
        ? 'SUSPENDED'
        : suspended === false && before.state === 'SUSPENDED'
          ? 'ACTIVATED'
          : before.state);
    Object.assign(after, stateFields(state, before.activated));

    this.userRevision += 1;
    this.unindexUser(before);
    this.users.set(id, after);
    this.indexUser(after);

    this.emit('user_update', { resource: userResource(after), changes: diff(before, after) }, context);
    if (before.state !== 'SUSPENDED' && after.state === 'SUSPENDED')
      this.emit('user_suspended', { resource: userResource(after) }, context);
    if (before.state === 'SUSPENDED' && after.state !== 'SUSPENDED')
      this.emit('user_unsuspended', { resource: userResource(after) }, context);
    return after;
  }

  /** Deletes a user; refused (409) while it manages others unless `cascadeManager` clears that. */
  deleteUser(
    id: string,
    options: { cascadeManager?: boolean } = {},
    context: MutationContext = {},
  ): SystemUser {
    const user = this.getUser(id);
    const reports = [...this.users.values()].filter((other) => other.manager === id);
    if (reports.length > 0 && !options.cascadeManager)
      throw conflict(
        `user ${user.username} is the manager of ${reports.length} users; use cascade_manager=null`,
      );
    this.userRevision += 1;
    this.rawUserFields.delete(id);
    for (const report of reports) this.users.set(report._id, { ...report, manager: undefined });
    this.unindexUser(user);
    this.users.delete(id);
    this.unlinkEverywhere(id);
    this.emit('user_delete', { resource: userResource(user) }, context);
    return user;
  }

  // ---- groups ---------------------------------------------------------------------------------

  listGroups(): UserGroup[] {
    return [...this.groups.values()];
  }

  getGroup(id: string): UserGroup {
    const group = this.groups.get(id);
    if (!group) throw isObjectId(id) ? notFound(`user group ${id}`) : badRequest(`invalid object id ${id}`);
    return group;
  }

  findGroupByName(name: string): UserGroup | undefined {
    const id = this.groupNames.get(name.toLowerCase());
    return id === undefined ? undefined : this.groups.get(id);
  }

  createGroup(input: GroupWriteInput, context: MutationContext = {}): UserGroup {
    const body = parseBody(groupWriteSchema, input);
    this.requireGroupNameFree(body.name);
    const group = this.buildGroup(body);
    this.insertGroup(group);
    this.emit('group_create', { resource: groupResource(group) }, context);
    return group;
  }

  /** A full update (`UserGroupPut`): fields left out return to their defaults. */
  updateGroup(id: string, input: GroupWriteInput, context: MutationContext = {}): UserGroup {
    const before = this.getGroup(id);
    const body = parseBody(groupWriteSchema, input);
    this.requireGroupNameFree(body.name, id);
    const after = this.buildGroup(body, id);
    this.groupNames.delete(before.name.toLowerCase());
    this.groups.set(id, after);
    this.groupNames.set(after.name.toLowerCase(), id);
    this.emit('group_update', { resource: groupResource(after), changes: diff(before, after) }, context);
    return after;
  }

  deleteGroup(id: string, context: MutationContext = {}): UserGroup {
    const group = this.getGroup(id);
    for (const [memberId] of this.membersOf(id)) this.parents.get(memberId)?.delete(id);
    this.members.delete(id);
    this.unlinkEverywhere(id);
    this.groups.delete(id);
    this.groupNames.delete(group.name.toLowerCase());
    this.emit('group_delete', { resource: groupResource(group) }, context);
    return group;
  }

  /** `POST /usergroups/{id}/members`: add or remove a user or a nested group. */
  changeGroupMember(groupId: string, input: MemberOperation, context: MutationContext = {}): void {
    const group = this.getGroup(groupId);
    const operation = parseBody(memberOperationSchema, input);
    const target = this.graphObject(operation.type, operation.id);
    const present = this.membersOf(groupId).has(target.id);
    if (operation.op === 'update') {
      if (!present) throw notFound(`${target.type} ${target.id} is not a member of user group ${groupId}`);
      return;
    }
    if (operation.op === 'add') {
      if (present) throw conflict(`${target.type} ${target.id} is already a member of user group ${groupId}`);
      if (target.type === 'user_group' && this.reaches(target.id, groupId))
        throw badRequest(`adding user group ${target.id} to ${groupId} would make a cycle`);
      this.link(groupId, target.id, target.type);
    } else {
      if (!present) throw notFound(`${target.type} ${target.id} is not a member of user group ${groupId}`);
      this.unlink(groupId, target.id);
    }
    this.graphChanged();
    this.emitAssociation(
      operation.op,
      { type: 'user_group', id: groupId, name: group.name },
      target,
      context,
    );
  }

  // ---- applications ---------------------------------------------------------------------------

  listApplications(): Application[] {
    return [...this.applications.values()];
  }

  application(id: string): Application {
    const app = this.applications.get(id);
    if (!app) throw isObjectId(id) ? notFound(`application ${id}`) : badRequest(`invalid object id ${id}`);
    return app;
  }

  /** `POST /applications/{id}/associations`: bind or unbind a user or a user group. */
  changeAssociation(appId: string, input: ApplicationOperation, context: MutationContext = {}): void {
    const app = this.application(appId);
    const operation = parseBody(applicationOperationSchema, input);
    const target = this.graphObject(operation.type, operation.id);
    const bound = this.boundTo(appId);
    const present = bound.has(target.id);
    if (operation.op === 'update') {
      if (!present) throw notFound(`${target.type} ${target.id} is not associated with application ${appId}`);
      return;
    }
    if (operation.op === 'add') {
      if (present)
        throw conflict(`${target.type} ${target.id} is already associated with application ${appId}`);
      bound.set(target.id, target.type);
    } else {
      if (!present) throw notFound(`${target.type} ${target.id} is not associated with application ${appId}`);
      bound.delete(target.id);
    }
    this.graphChanged();
    this.emitAssociation(
      operation.op,
      { type: 'application', id: appId, name: app.displayLabel },
      target,
      context,
    );
  }

  // ---- graph reads ----------------------------------------------------------------------------

  /** Direct members of a group (`GET /usergroups/{id}/members`). */
  groupMembers(groupId: string): GraphConnection[] {
    this.getGroup(groupId);
    return [...this.membersOf(groupId)].map(([id, type]) => ({ to: { id, type } }));
  }

  /** Direct associations of an application of the given target types. */
  applicationAssociations(appId: string, targets: MemberType[]): GraphConnection[] {
    this.application(appId);
    const bound = [...this.boundTo(appId)];
    return targets.flatMap((target) =>
      bound.filter(([, type]) => type === target).map(([id, type]) => ({ to: { id, type } })),
    );
  }

  /** Users bound to an application directly or through (nested) groups, each with every path. */
  applicationUsers(appId: string): GraphObjectWithPaths[] {
    this.application(appId);
    return this.cached(`app-users:${appId}`, () => {
      const found = new Map<string, GraphConnection[][]>();
      for (const [id, type] of this.boundTo(appId)) {
        const hop = { to: { id, type } };
        if (type === 'user') addPath(found, id, [hop]);
        else
          this.walkDown(id, [hop], new Set([id]), (member, path) => {
            if (member.type === 'user') addPath(found, member.id, path);
          });
      }
      return withPaths(found, 'user');
    });
  }

  /** Groups bound to an application directly or nested in bound groups. */
  applicationGroups(appId: string): GraphObjectWithPaths[] {
    this.application(appId);
    return this.cached(`app-groups:${appId}`, () => {
      const found = new Map<string, GraphConnection[][]>();
      for (const [id, type] of this.boundTo(appId)) {
        if (type !== 'user_group') continue;
        const hop = { to: { id, type } };
        addPath(found, id, [hop]);
        this.walkDown(id, [hop], new Set([id]), (member, path) => {
          if (member.type === 'user_group') addPath(found, member.id, path);
        });
      }
      return withPaths(found, 'user_group');
    });
  }

  /** Users of a group, direct and through nested groups (`GET /usergroups/{id}/membership`). */
  groupMembership(groupId: string): GraphObjectWithPaths[] {
    this.getGroup(groupId);
    return this.cached(`membership:${groupId}`, () => {
      const found = new Map<string, GraphConnection[][]>();
      this.walkDown(groupId, [], new Set([groupId]), (member, path) => {
        if (member.type === 'user') addPath(found, member.id, path);
      });
      return withPaths(found, 'user');
    });
  }

  /** Groups a user belongs to, directly and through nesting (`GET /users/{id}/memberof`). */
  userMemberOf(userId: string): GraphObjectWithPaths[] {
    this.getUser(userId);
    return this.cached(`memberof:${userId}`, () => {
      const found = new Map<string, GraphConnection[][]>();
      const walkUp = (id: string, path: GraphConnection[], seen: Set<string>) => {
        for (const parent of this.parents.get(id) ?? []) {
          if (seen.has(parent)) continue;
          const next = [...path, { to: { id: parent, type: 'user_group' as const } }];
          addPath(found, parent, next);
          walkUp(parent, next, new Set([...seen, parent]));
        }
      };
      walkUp(userId, [], new Set());
      return withPaths(found, 'user_group');
    });
  }

  // ---- insights -------------------------------------------------------------------------------

  /** The whole journal; raw events (`appendRawEvent`) are as they were given, whatever they lack. */
  events(): InsightsEvent[] {
    return this.journal.all();
  }

  // ---- raw records (test controls) --------------------------------------------------------------

  /**
   * Makes a user's record malformed as the real service might serve it: `fields` are merged into
   * its JSON as v1 `GET /systemusers`, `GET /systemusers/{id}` and `PUT /systemusers/{id}` return
   * it (e.g. `{state: 'ARCHIVED_SOMEHOW'}`), replacing any set before; `{}` clears them. The model
   * is unchanged: filters, sorting, the other routes, events and snapshots see the user as it is.
   * Deleting the user or resetting the directory clears them too. No event.
   */
  setRawUserFields(id: string, fields: Record<string, unknown>): void {
    this.getUser(id);
    if (Object.keys(fields).length === 0) this.rawUserFields.delete(id);
    else this.rawUserFields.set(id, structuredClone(fields));
  }

  /** The raw fields served over a user's record (`{}`: none). */
  rawFieldsOf(id: string): Record<string, unknown> {
    return structuredClone(this.rawUserFields.get(id) ?? {});
  }

  /** A user's record as the v1 API serves it: the model's, with its raw fields merged in. */
  servedUser(user: SystemUser): Record<string, unknown> {
    const raw = this.rawUserFields.get(user._id);
    return raw ? { ...user, ...raw } : (user as unknown as Record<string, unknown>);
  }

  /**
   * Appends `event` verbatim to the Directory Insights journal (a test control): served as it is
   * (it may lack `timestamp`, `id`…), placed at the time it is appended, so that queries from an
   * earlier start time return it in order. Returns that time (ms). Not part of snapshots.
   */
  appendRawEvent(event: Record<string, unknown>): number {
    const at = Date.now();
    this.journal.appendRaw(structuredClone(event), at);
    return at;
  }

  // ---- internals ------------------------------------------------------------------------------

  private walkDown(
    groupId: string,
    path: GraphConnection[],
    onPath: Set<string>,
    visit: (member: GraphObject, path: GraphConnection[]) => void,
  ): void {
    for (const [id, type] of this.membersOf(groupId)) {
      const next = [...path, { to: { id, type } }];
      visit({ id, type }, next);
      if (type === 'user_group' && !onPath.has(id)) this.walkDown(id, next, new Set([...onPath, id]), visit);
    }
  }

  private cached(key: string, compute: () => GraphObjectWithPaths[]): GraphObjectWithPaths[] {
    let value = this.traversals.get(key);
    if (!value) {
      value = compute();
      this.traversals.set(key, value);
    }
    return value;
  }

  private graphChanged(): void {
    this.traversals.clear();
  }

  /** Whether `to` is `from` or nested (at any depth) in it. */
  private reaches(from: string, to: string): boolean {
    if (from === to) return true;
    const seen = new Set<string>([from]);
    const stack = [from];
    while (stack.length > 0) {
      for (const [id, type] of this.membersOf(stack.pop()!)) {
        if (type !== 'user_group' || seen.has(id)) continue;
        if (id === to) return true;
        seen.add(id);
        stack.push(id);
      }
    }
    return false;
  }

  private membersOf(groupId: string): Map<string, MemberType> {
    let members = this.members.get(groupId);
    if (!members) {
      members = new Map();
      this.members.set(groupId, members);
    }
    return members;
  }

  private boundTo(appId: string): Map<string, MemberType> {
    let bound = this.bindings.get(appId);
    if (!bound) {
      bound = new Map();
      this.bindings.set(appId, bound);
    }
    return bound;
  }

  private link(groupId: string, memberId: string, type: MemberType): void {
    this.membersOf(groupId).set(memberId, type);
    let parents = this.parents.get(memberId);
    if (!parents) {
      parents = new Set();
      this.parents.set(memberId, parents);
    }
    parents.add(groupId);
  }

  private unlink(groupId: string, memberId: string): void {
    this.membersOf(groupId).delete(memberId);
    this.parents.get(memberId)?.delete(groupId);
  }

  /** Removes a deleted user or group from every group and binding. */
  private unlinkEverywhere(id: string): void {
    for (const groupId of this.parents.get(id) ?? []) this.membersOf(groupId).delete(id);
    this.parents.delete(id);
    for (const bound of this.bindings.values()) bound.delete(id);
    this.graphChanged();
  }

  private graphObject(type: MemberType, id: string): { id: string; type: MemberType; name: string } {
    if (type === 'user') {
      const user = this.getUser(id);
      return { id, type, name: user.username };
    }
    const group = this.getGroup(id);
    return { id, type, name: group.name };
  }

  private requireFreeId(id: string): void {
    if (this.users.has(id) || this.groups.has(id) || this.applications.has(id))
      throw conflict(`object id ${id} is already used`);
  }

  private requireUsernameFree(username: string, self?: string): void {
    if (BAD_USERNAME.test(username))
      throw badRequest('username must not contain white space or control characters');
    const owner = this.usernames.get(username.toLowerCase());
    if (owner !== undefined && owner !== self) throw badRequest(`Username '${username}' already exists.`);
  }

  private requireEmailFree(email: string, self?: string): void {
    if (!EMAIL.test(email)) throw badRequest(`email '${email}' is not a valid email address`);
    const owner = this.emails.get(emailIndexKey(email));
    if (owner !== undefined && owner !== self) throw badRequest(`Email address '${email}' already exists.`);
  }

  private requireManager(manager: string, self: string | undefined): void {
    if (manager === self) throw badRequest('a user cannot be its own manager');
    if (!this.users.has(manager)) throw badRequest(`manager ${manager} is not a user`);
  }

  private requireGroupNameFree(name: string, self?: string): void {
    const owner = this.groupNames.get(name.toLowerCase());
    if (owner !== undefined && owner !== self) throw conflict(`a user group named '${name}' already exists`);
  }

  private buildUser(body: z.output<typeof userCreateSchema>, id?: string, created?: string): SystemUser {
    this.requireUsernameFree(body.username);
    this.requireEmailFree(body.email);
    if (body.manager) this.requireManager(body.manager, undefined);
    const {
      state: requested,
      activated,
      suspended,
      password: _password,
      addresses,
      phoneNumbers,
      mfa,
      recoveryEmail,
      ...plain
    } = body;
    const at = created === undefined ? Date.now() : Date.parse(created);
    const state: UserState = requested ?? (suspended ? 'SUSPENDED' : 'ACTIVATED');
    const uid = this.nextUid++;
    return {
      _id: id ?? this.ids.next(at),
      firstname: '',
      middlename: '',
      lastname: '',
      displayname: '',
      description: '',
      company: '',
      costCenter: '',
      department: '',
      employeeType: '',
      jobTitle: '',
      location: '',
      externally_managed: false,
      account_locked: false,
      account_locked_date: null,
      allow_public_key: true,
      badLoginAttempts: 0,
      disableDeviceMaxLoginAttempts: false,
      enable_managed_uid: false,
      enable_user_portal_multifactor: false,
      ldap_binding_user: false,
      password_date: null,
      password_expiration_date: null,
      password_expired: false,
      password_never_expires: false,
      passwordless_sudo: false,
      samba_service_user: false,
      sudo: false,
      totp_enabled: false,
      unix_uid: uid,
      unix_guid: uid,
      attributes: [],
      relationships: [],
      ssh_keys: [],
      ...definedOnly(plain),
      username: body.username,
      email: body.email,
      addresses: (addresses ?? []).map((address) => ({ ...address, id: this.ids.next() })),
      phoneNumbers: (phoneNumbers ?? []).map((phone) => ({ ...phone, id: this.ids.next() })),
      mfa: { configured: false, exclusion: false, ...definedOnly(mfa ?? {}) },
      mfaEnrollment: {
        overallStatus: 'NOT_ENROLLED',
        pushStatus: 'NOT_ENROLLED',
        totpStatus: 'NOT_ENROLLED',
        webAuthnStatus: 'NOT_ENROLLED',
      },
      ...(recoveryEmail ? { recoveryEmail: { address: recoveryEmail.address, verified: false } } : {}),
      ...stateFields(state, activated ?? state === 'ACTIVATED'),
      created: new Date(at).toISOString(),
      organization: this.organization,
      creationSource: 'jumpcloud:api',
    };
  }

  private insertUser(user: SystemUser): void {
    this.userRevision += 1;
    this.users.set(user._id, user);
    this.indexUser(user);
  }

  private indexUser(user: SystemUser): void {
    this.usernames.set(user.username.toLowerCase(), user._id);
    this.emails.set(emailIndexKey(user.email), user._id);
  }

  private unindexUser(user: SystemUser): void {
    this.usernames.delete(user.username.toLowerCase());
    this.emails.delete(emailIndexKey(user.email));
  }

  private buildGroup(body: z.output<typeof groupWriteSchema>, id?: string): UserGroup {
    return {
      id: id ?? this.ids.next(),
      name: body.name,
      type: 'user_group',
      description: body.description ?? '',
      email: body.email ?? '',
      attributes: body.attributes ?? {},
      membershipMethod: body.membershipMethod ?? 'STATIC',
      membershipAutomated: body.membershipAutomated ?? false,
      memberQueryExemptions: (body.memberQueryExemptions ?? []) as GraphObject[],
      memberSuggestionsNotify: body.memberSuggestionsNotify ?? false,
      suggestionCounts: { add: 0, remove: 0, total: 0 },
    };
  }

  private insertGroup(group: UserGroup): void {
    this.groups.set(group.id, group);
    this.groupNames.set(group.name.toLowerCase(), group.id);
  }

  private addApplication(id: string, name: string, created: string): void {
    const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    const field = (label: string, value: string, position: number) => ({
      label,
      type: 'text',
      value,
      visible: true,
      readOnly: false,
      required: true,
      position,
    });
    this.applications.set(id, {
      _id: id,
      name,
      displayName: name,
      displayLabel: name,
      description: '',
      ssoUrl: `https://sso.jumpcloud.com/saml2/${slug}`,
      active: true,
      beta: false,
      color: '',
      created,
      organization: this.organization,
      learnMore: '',
      logo: { url: '', color: '' },
      sso: { type: 'saml', jit: false, hidden: false, beta: false },
      config: {
        idpEntityId: field('IdP Entity ID', `https://sso.jumpcloud.com/saml2/${slug}`, 0),
        spEntityId: field('SP Entity ID', `https://www.${slug}.so/sso/saml`, 1),
        acsUrl: field('ACS URL', `https://www.${slug}.so/sso/saml/callback`, 2),
      },
      databaseAttributes: [],
    });
  }

  private findApplication(nameOrId: string): Application | undefined {
    return (
      this.applications.get(nameOrId) ??
      [...this.applications.values()].find((app) => app.name.toLowerCase() === nameOrId.toLowerCase())
    );
  }

  private groupIdByName(name: string): string {
    const id = this.groupNames.get(name.toLowerCase());
    if (id === undefined) throw notFound(`user group named ${name}`);
    return id;
  }

  private userIdByUsername(username: string): string {
    const id = this.usernames.get(username.toLowerCase());
    if (id === undefined) throw notFound(`user named ${username}`);
    return id;
  }

  private emit(eventType: string, fields: Record<string, unknown>, context: MutationContext): void {
    const at = Date.now();
    const event: InsightsEvent = {
      id: this.ids.next(at),
      event_type: eventType,
      timestamp: new Date(at).toISOString(),
      service: 'directory',
      organization: this.organization,
      '@version': '1',
      client_ip: context.clientIp ?? '127.0.0.1',
      auth_method: 'api-key',
      provider: null,
      success: true,
      initiated_by: { ...API_ADMIN },
      ...fields,
    };
    this.journal.append(event, at);
  }

  private emitAssociation(
    op: 'add' | 'remove',
    from: GraphObject & { name: string },
    to: GraphObject & { name: string },
    context: MutationContext,
  ): void {
    const end = (object: GraphObject & { name: string }) => ({
      type: object.type,
      object_id: object.id,
      name: object.name,
    });
    this.emit(
      'association_change',
      {
        association: {
          op,
          action_source: 'manual',
          connection: { from: end(from), to: end(to) },
          attributes: null,
        },
      },
      context,
    );
  }

  private checkpoint(): Checkpoint {
    const copyNested = <V>(map: Map<string, Map<string, V>>) =>
      new Map([...map].map(([key, inner]) => [key, new Map(inner)]));
    return {
      users: new Map(this.users),
      usernames: new Map(this.usernames),
      emails: new Map(this.emails),
      groups: new Map(this.groups),
      groupNames: new Map(this.groupNames),
      members: copyNested(this.members),
      parents: new Map([...this.parents].map(([key, set]) => [key, new Set(set)])),
      applications: new Map(this.applications),
      bindings: copyNested(this.bindings),
      nextUid: this.nextUid,
    };
  }

  private install(checkpoint: Checkpoint): void {
    Object.assign(this, checkpoint);
    this.userRevision += 1;
    this.graphChanged();
  }
}

function parseBody<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input ?? {});
  if (!parsed.success) throw badRequest(describeZodError(parsed.error));
  return parsed.data;
}

/** A user group nested (at some depth) in itself, if any. */
function nestedInItself(members: Map<string, Map<string, MemberType>>): string | undefined {
  const visited = new Map<string, 'open' | 'done'>();
  /** The group met again while open (one on the cycle), if any. */
  const visit = (id: string): string | undefined => {
    const seen = visited.get(id);
    if (seen !== undefined) return seen === 'open' ? id : undefined;
    visited.set(id, 'open');
    for (const [child, type] of members.get(id) ?? []) {
      const cycle = type === 'user_group' ? visit(child) : undefined;
      if (cycle !== undefined) return cycle;
    }
    visited.set(id, 'done');
    return undefined;
  };
  for (const id of members.keys()) {
    const cycle = visit(id);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function stateFields(state: UserState, activated: boolean) {
  return { state, suspended: state === 'SUSPENDED', activated: activated || state === 'ACTIVATED' };
}

function userResource(user: SystemUser) {
  return { type: 'user', id: user._id, username: user.username, email: user.email };
}

function groupResource(group: UserGroup) {
  return { type: 'user_group', id: group.id, name: group.name };
}

/** `changes` of an update event: every top-level field whose value changed. */
function diff(before: object, after: object): { field: string; from: unknown; to: unknown }[] {
  const a = before as Record<string, unknown>;
  const b = after as Record<string, unknown>;
  const changes: { field: string; from: unknown; to: unknown }[] = [];
  for (const field of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (JSON.stringify(a[field]) !== JSON.stringify(b[field]))
      changes.push({ field, from: a[field] ?? null, to: b[field] ?? null });
  }
  return changes;
}

function addPath(found: Map<string, GraphConnection[][]>, id: string, path: GraphConnection[]): void {
  const paths = found.get(id);
  if (paths) paths.push(path);
  else found.set(id, [path]);
}

function withPaths(
  found: Map<string, GraphConnection[][]>,
  type: 'user' | 'user_group',
): GraphObjectWithPaths[] {
  return [...found.keys()].sort().map((id) => ({ id, type, paths: found.get(id)! }));
}
