/**
 * What a JumpCloud user should be in Notion, and the fewest operations that make it so
 * (SPEC U1–U9, U11). Pure and deterministic: the user workflow runs it, dry runs run the same
 * code without executing, and unit tests cover it exhaustively.
 */
import { emailKey } from '../contracts/shared';
import type { DesiredNotionUser, FieldProblem, Mapping } from './user-mapping';
import type { SyncRequest } from '../contracts/user';

/** What JumpCloud says about a user (null fields: absent). */
export interface JumpCloudUserFacts {
  id: string;
  username: string;
  email?: string;
  firstname?: string;
  lastname?: string;
  state: 'STAGED' | 'ACTIVATED' | 'SUSPENDED';
  /**
   * Issue 16: with `SEARCH_ATTRIBUTES_PII=hashed`, the keyed hashes the workflow publishes instead
   * of the email and username (computed by the activity that read the user: the key is a secret).
   */
  searchKeys?: { email?: string; username?: string };
}

/** What Notion says about the linked (or matched) user. */
export interface NotionUserFacts {
  id: string;
  userName: string;
  active: boolean;
  givenName?: string;
  familyName?: string;
  formatted?: string;
  /** Notion's workspace role (`owner`, `membership_admin`, `member`, `restricted_member`), if told. */
  role?: string;
}

export type { DesiredNotionUser } from './user-mapping';

export type OutOfScopeReason = 'deleted' | 'suspended' | 'staged' | 'unbound';

/** U1: bound to the application (directly or through a group) and ACTIVATED. */
export type Scope = { inScope: true } | { inScope: false; reason: OutOfScopeReason };

export function scopeOf(user: JumpCloudUserFacts | null, bound: boolean): Scope {
  if (!user) return { inScope: false, reason: 'deleted' };
  if (user.state === 'SUSPENDED') return { inScope: false, reason: 'suspended' };
  if (user.state === 'STAGED') return { inScope: false, reason: 'staged' };
  if (!bound) return { inScope: false, reason: 'unbound' };
  return { inScope: true };
}

export interface UserChanges {
  userName?: string;
  email?: string;
  givenName?: string | null;
  familyName?: string | null;
  formatted?: string | null;
}

/** Issue 18: the Notion member as it is after `changes` were written to it. */
export function withChanges(facts: NotionUserFacts, changes: UserChanges): NotionUserFacts {
  const next: NotionUserFacts = { ...facts };
  if (changes.userName !== undefined) next.userName = changes.userName;
  for (const field of ['givenName', 'familyName', 'formatted'] as const) {
    const value = changes[field];
    if (value === null) delete next[field];
    else if (value !== undefined) next[field] = value;
  }
  return next;
}

export type UserOperation =
  | { kind: 'create'; user: DesiredNotionUser }
  | { kind: 'reactivate'; notionId: string; user: DesiredNotionUser }
  | { kind: 'update'; notionId: string; changes: UserChanges }
  | { kind: 'deactivate'; notionId: string; reason: OutOfScopeReason }
  /**
   * U6: would be deactivated, or its email changed so that NOTION_PROTECTED_USERS no longer names
   * it (`email-change`), but it is protected (listed, or a Notion workspace owner): nothing is sent.
   */
  | {
      kind: 'protected';
      notionId: string;
      reason: OutOfScopeReason | 'email-change';
      by: 'NOTION_PROTECTED_USERS' | 'workspace owner';
    }
  /** U9: cannot be provisioned; nothing is sent. */
  | { kind: 'invalid'; problems: FieldProblem[] };

/**
 * U5: the attributes that differ, case-sensitively (a change of case alone is a change). Absent
 * and empty are the same: Notion may omit name parts it has no value for.
 */
export function diffUser(desired: DesiredNotionUser, actual: NotionUserFacts): UserChanges {
  const changes: UserChanges = {};
  const same = (a: string | undefined, b: string | undefined) => (a ?? '') === (b ?? '');
  // One identity however Notion spells it (NFD, case, KELVIN SIGN): no rename onto itself.
  if (emailKey(desired.userName) !== emailKey(actual.userName)) {
    changes.userName = desired.userName;
    changes.email = desired.email;
  }
  for (const field of ['givenName', 'familyName', 'formatted'] as const) {
    if (!same(desired[field], actual[field])) changes[field] = desired[field] ?? null;
  }
  return changes;
}

export interface PlanInput {
  scope: Scope;
  /** The mapping, for users in scope. */
  mapping?: Mapping;
  /** The linked or matched Notion user; null when Notion does not know it (or it vanished). */
  notion: NotionUserFacts | null;
  /** Whether this user was ever linked (only linked users are deactivated: U11). */
  linked: boolean;
  /** NOTION_PROTECTED_USERS, lower-cased. */
  protectedUsers: readonly string[];
}

/** U6: NOTION_PROTECTED_USERS names this email, compared as one identity (emailKey). */
export function isProtected(protectedUsers: readonly string[], email: string): boolean {
  const key = emailKey(email);
  return protectedUsers.some((entry) => emailKey(entry) === key);
}

/** The fewest operations that converge one user (empty: nothing to do). */
export function planUser(input: PlanInput): UserOperation[] {
  const { scope, notion } = input;
  if (!scope.inScope) {
    // U6/U11: only a linked, still-active member is removed; DELETE is never planned.
    if (!input.linked || !notion || !notion.active) return [];
    if (isProtected(input.protectedUsers, notion.userName))
      return [{ kind: 'protected', notionId: notion.id, reason: scope.reason, by: 'NOTION_PROTECTED_USERS' }];
    // Deactivating a workspace owner would revoke the SCIM tokens they made (the token owner's
    // included): owners are removed by hand in Notion, never by this engine.
    if (notion.role === 'owner')
      return [{ kind: 'protected', notionId: notion.id, reason: scope.reason, by: 'workspace owner' }];
    return [{ kind: 'deactivate', notionId: notion.id, reason: scope.reason }];
  }
  const mapping = input.mapping;
  if (!mapping) throw new Error('planUser: a user in scope needs its mapping');
  if (!mapping.ok) return [{ kind: 'invalid', problems: mapping.problems }];
  const desired = mapping.user;
  if (!notion) return [{ kind: 'create', user: desired }];
  const operations: UserOperation[] = [];
  if (!notion.active) operations.push({ kind: 'reactivate', notionId: notion.id, user: desired });
  const changes = diffUser(desired, notion);
  // U6 in two steps: an email change would take a protected member out of NOTION_PROTECTED_USERS
  // (and a later deactivation would find it unprotected). Its email stays until the new one is listed.
  if (
    changes.userName &&
    isProtected(input.protectedUsers, notion.userName) &&
    !isProtected(input.protectedUsers, changes.userName)
  ) {
    delete changes.userName;
    delete changes.email;
    operations.push({
      kind: 'protected',
      notionId: notion.id,
      reason: 'email-change',
      by: 'NOTION_PROTECTED_USERS',
    });
  }
  if (Object.keys(changes).length > 0) operations.push({ kind: 'update', notionId: notion.id, changes });
  return operations;
}

/** Operations that write to Notion (for counting writes and the dry-run summary). */
export function isWrite(operation: UserOperation): boolean {
  return (
    operation.kind === 'create' ||
    operation.kind === 'reactivate' ||
    operation.kind === 'update' ||
    operation.kind === 'deactivate'
  );
}

/**
 * Requests that arrived together converge once: the latest facts win, and an admin's decision, a
 * guard's verdict or a reconciliation's id is not lost to a hint that arrived after it.
 */
export function mergeSyncRequests(batch: SyncRequest[]): SyncRequest {
  const latest = <K extends keyof SyncRequest>(key: K) => [...batch].reverse().find((r) => r[key])?.[key];
  return {
    ...batch[batch.length - 1]!,
    reconcileId: latest('reconcileId'),
    reconcileIds: batch.flatMap((r) => r.reconcileIds ?? (r.reconcileId ? [r.reconcileId] : [])),
    deactivation: latest('deactivation'),
    creation: latest('creation'),
    batch: latest('batch'),
  };
}
