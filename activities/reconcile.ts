/**
 * Full reconciliation of users (SPEC C5, C7): the desired state from JumpCloud and the actual
 * state from Notion, each read in bulk (one paged listing, not one lookup per user), the durable
 * links from the user workflows' search attributes, and the same planner the user workflows run.
 * Only the users that differ are handed to their workflows (signal-with-start, started if
 * absent). Nothing of the directory travels through workflow history: the activity returns counts
 * (and, for a dry run, the plan).
 */
import { activityInfo, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { JumpCloudClient } from '../api/jumpcloud';
import type { NotionScimClient, NotionUser } from '../api/notion';
import { emailKey } from '../contracts/shared';
import { type Observed, type SyncRequest, type UserPolicy } from '../contracts/user';
import { planUser, scopeOf, type JumpCloudUserFacts, type UserOperation } from '../workflows/user-plan';
import type { DeactivationDecision } from '../contracts/connector';
import { mapUser } from '../workflows/user-mapping';
import { mapFailures } from './failures';
import { planGroupsDryRun } from './group-dry-run';
import { toJumpCloudUserFacts } from './jumpcloud';
import type { SearchKeys } from '../temporal/search-keys';
import { toNotionUserFacts } from './notion';
import type { ReconcileSummary } from '../contracts/reconcile';
import { EntityGateway } from '../temporal/entities';
import { checkpointDetailsSchema, type ListingCheckpoints } from './listing-checkpoints';
import { handOverAll, settleWindow } from './dispatch';
import { countSettled } from './settle';
import { reportProgress } from './progress';

export interface ReconcileInput {
  connectorId: string;
  reconcileId: string;
  dryRun: boolean;
  /** G8: a dry run plans the groups too while group management is enabled. */
  groupManagement?: boolean;
}

const PLAN_LIMIT = 2_000;
const DISPATCH_CONCURRENCY = 16;
/**
 * Issue 18: users handed over and not yet settled, at most (well under the worker's workflow
 * cache, about 2,300 with Node's default heap); see `settleWindow`.
 */
export const DISPATCH_WINDOW = 1_000;
/** The window widens when nothing settled for this long (users waiting on credentials, a hold). */
const WINDOW_STALL_MS = 60_000;
/** …and opens this long before the activity's time is up, so the hand-over always ends in it. */
const WINDOW_MARGIN_MS = 15 * 60_000;

export interface ReconcileDeps {
  jumpcloud: JumpCloudClient;
  notion: NotionScimClient;
  client: Client;
  appId: string;
  taskQueue: string;
  policy: UserPolicy;
  /** C6: asks the connector whether this reconciliation may deactivate `count` users. */
  reserveDeactivations: (count: number) => Promise<DeactivationDecision>;
  /** C6 (issue 14): …and create `count` members (held on a first, untrusted bulk creation). */
  reserveCreations: (count: number) => Promise<DeactivationDecision>;
  /** Issue 15: the listings' pages kept by this process, for a retried attempt to resume from. */
  checkpoints: ListingCheckpoints;
  /** Issue 16: the hashes published instead of emails and usernames (hashed mode). */
  searchKeys?: SearchKeys;
  /** Issue 18: users handed over and not yet settled, at most (default `DISPATCH_WINDOW`). */
  dispatchWindow?: number;
  /** Issue 18: tells the reconciliation how many users it is about to hand over (its progress). */
  announceHandOver?: (users: number) => Promise<void>;
}

interface Link {
  notionId?: string;
  syncState?: string;
}

/** `create ann@example.com`, `update familyName, formatted`, `deactivate (suspended)`… */
export function describeOperation(operation: UserOperation): string {
  switch (operation.kind) {
    case 'create':
      return `create ${operation.user.userName}`;
    case 'reactivate':
      return `reactivate ${operation.user.userName}`;
    case 'update':
      return `update ${Object.keys(operation.changes).join(', ')}`;
    case 'deactivate':
      return `deactivate (${operation.reason})`;
    case 'protected':
      return `keep protected user (${operation.reason})`;
    case 'invalid':
      return `error: ${operation.problems.map((p) => `${p.field} ${p.message}`).join('; ')}`;
  }
}

interface Candidate {
  id: string;
  username?: string;
  scope: ReturnType<typeof scopeOf>;
  link?: Link;
  mapping?: ReturnType<typeof mapUser>;
  notion?: NotionUser;
}

/**
 * Issue 14: one Notion member, one JumpCloud user. Users in scope whose emails are one identity
 * once normalised and case-folded (`emailKey`), or who would take a member another user is linked
 * to, are conflicts: nothing is written for them. The one user already linked to the member keeps
 * it, unless others are linked to it too. A user deleted in JumpCloud holds nothing.
 */
export function findIdentityConflicts(
  rows: readonly Candidate[],
): Map<string, { notionId: string; userName: string; with: string[] }> {
  const byKey = new Map<string, string[]>();
  const byMember = new Map<string, string[]>();
  const add = (map: Map<string, string[]>, key: string, id: string) => {
    const ids = map.get(key) ?? [];
    if (!ids.includes(id)) ids.push(id);
    map.set(key, ids);
  };
  for (const row of rows) {
    if (row.link?.notionId && row.link.syncState !== 'deleted') add(byMember, row.link.notionId, row.id);
    if (!row.scope.inScope || !row.mapping?.ok) continue;
    add(byKey, emailKey(row.mapping.user.userName), row.id);
    if (row.notion) add(byMember, row.notion.id, row.id);
  }
  const holds = (row: Candidate | undefined, notionId: string) => row?.link?.notionId === notionId;
  const byId = new Map(rows.map((row) => [row.id, row]));
  const conflicts = new Map<string, { notionId: string; userName: string; with: string[] }>();
  for (const row of rows) {
    if (!row.scope.inScope || !row.mapping?.ok) continue;
    const userName = row.mapping.user.userName;
    const notionId = row.notion?.id;
    const others = new Set([
      ...(byKey.get(emailKey(userName)) ?? []),
      ...(notionId ? (byMember.get(notionId) ?? []) : []),
    ]);
    others.delete(row.id);
    if (others.size === 0) continue;
    const soleHolder =
      notionId !== undefined &&
      holds(row, notionId) &&
      [...others].every((other) => !holds(byId.get(other), notionId));
    if (soleHolder) continue;
    const names = [...others].map((other) => byId.get(other)?.username ?? other).sort();
    conflicts.set(row.id, { notionId: notionId ?? '(not in Notion yet)', userName, with: names });
  }
  return conflicts;
}

export async function reconcileUsers(deps: ReconcileDeps, input: ReconcileInput): Promise<ReconcileSummary> {
  // Issue 15: an attempt after one that failed part-way resumes its listings from their last
  // pages when this process still holds them (the previous attempt's heartbeat names them).
  const previous = checkpointDetailsSchema.safeParse(activityInfo().heartbeatDetails);
  let phase = 'reading JumpCloud';
  const checkpoint = deps.checkpoints.open(previous.success ? previous.data.checkpoint : undefined, () =>
    report(),
  );
  const report = (next = phase, extra: Record<string, unknown> = {}) => {
    phase = next;
    reportProgress({ phase, checkpoint: checkpoint.key, listings: checkpoint.positions(), ...extra });
  };
  const result = await mapFailures(async () => {
    report('reading JumpCloud', checkpoint.resumed ? { resumed: true } : {});
    // Each listing is read again while it does not add up; an incomplete one still shows who is
    // there, but proves no absence: nobody missing from it is taken as deleted or unbound.
    const [appUsers, allUsers] = await Promise.all([
      deps.jumpcloud.readApplicationUserListing(
        deps.appId,
        checkpoint.listing('jumpcloud application users'),
      ),
      deps.jumpcloud.readUserListing(undefined, checkpoint.listing('jumpcloud users')),
    ]);
    const bound = new Set(appUsers.items.map((u) => u.id));
    const users = new Map<string, JumpCloudUserFacts>(
      allUsers.items.map((u) => [u.id, toJumpCloudUserFacts(u, deps.searchKeys)]),
    );
    const jumpcloudProblems = [
      ...appUsers.problems.map((p) => `application users: ${p}`),
      ...allUsers.problems.map((p) => `system users: ${p}`),
    ];

    report('reading Notion');
    const members = checkpoint.listing<NotionUser>('notion members');
    let listing = await deps.notion.listUsers(members);
    if (!listing.complete) listing = await deps.notion.listUsers(members); // unstable order: one more try
    const byId = new Map(listing.items.map((u) => [u.id, u]));
    const byUserName = new Map(listing.items.map((u) => [emailKey(u.userName), u]));

    report('reading links');
    const links = new Map<string, Link>();
    /** A retried attempt's: the users an earlier attempt of this reconciliation brought to a settled state. */
    const settledEarlier = new Set<string>();
    const gateway = new EntityGateway(deps.client, deps.taskQueue);
    for await (const user of gateway.find({ connectorId: input.connectorId, kind: 'user' })) {
      if (!user.jumpcloudId) continue;
      links.set(user.jumpcloudId, { notionId: user.notionId, syncState: user.syncState });
      if (user.reconcileIds?.includes(input.reconcileId)) settledEarlier.add(user.jumpcloudId);
    }

    const planned: ReconcileSummary['planned'] = {
      create: 0,
      reactivate: 0,
      update: 0,
      deactivate: 0,
      protected: 0,
      invalid: 0,
      retry: 0,
    };
    const work: {
      id: string;
      observed?: Observed;
      username?: string;
      operations: UserOperation[];
      conflict?: SyncRequest['conflict'];
      /** Issue 15: its record (or its member's) does not fit the schema. */
      unreadable?: string;
    }[] = [];
    let inScope = 0;
    const summary: ReconcileSummary = {
      reconcileId: input.reconcileId,
      dryRun: input.dryRun,
      jumpcloudInScope: 0,
      notionMembers: listing.items.filter((u) => u.active).length,
      notionListingComplete: listing.complete,
      planned,
      dispatched: 0,
    };
    let unconfirmed = 0;
    // Issue 15: a record that does not fit the schema is there, but unreadable: its user is handed
    // to its workflow without facts, which reads it and records the error (U9) for `status`;
    // nothing is concluded from its absence among the readable ones.
    const unreadableUsers = new Map(allUsers.rejected.map((r) => [r.id!, r.problem]));
    const unreadableMembers = new Map(listing.rejected.map((r) => [r.id!, r.problem]));
    const unreadable: { id: string; username?: string; problem: string }[] = [];
    const rows = [];
    for (const id of new Set([...bound, ...links.keys()])) {
      const memberProblem = links.get(id)?.notionId
        ? unreadableMembers.get(links.get(id)!.notionId!)
        : undefined;
      const problem = unreadableUsers.get(id) ?? memberProblem;
      if (problem !== undefined) {
        const where = unreadableUsers.has(id) ? 'JumpCloud' : 'Notion';
        unreadable.push({ id, username: users.get(id)?.username, problem: `${where}: ${problem}` });
        continue;
      }
      // Absent from an incomplete listing: not known to be deleted or unbound; left as it is.
      if ((!users.has(id) && !allUsers.complete) || (!bound.has(id) && !appUsers.complete)) {
        unconfirmed += 1;
        continue;
      }
      const user = users.get(id) ?? null;
      const scope = scopeOf(user, bound.has(id));
      const link = links.get(id);
      const mapping = scope.inScope && user ? mapUser(user, deps.policy.usernameSource) : undefined;
      if (scope.inScope) inScope += 1;
      let notion: NotionUser | undefined;
      if (link?.notionId) notion = byId.get(link.notionId);
      if (!notion && mapping?.ok) notion = byUserName.get(emailKey(mapping.user.userName));
      // An incomplete listing proves no absence: never deactivate or re-create on it.
      if (!notion && !listing.complete && (!scope.inScope || link?.notionId)) continue;
      rows.push({ id, username: user?.username, user, scope, link, mapping, notion });
    }
    const conflicts = findIdentityConflicts(rows);

    for (const { id, user, scope, link, mapping, notion } of rows) {
      const conflict = conflicts.get(id);
      if (conflict) {
        // Issue 14: nothing is planned for it; its workflow records the conflict (`status`).
        summary.conflicts = (summary.conflicts ?? 0) + 1;
        const facts: Observed = { jumpcloud: user, bound: bound.has(id), notion: null };
        work.push({ id, username: user?.username, observed: facts, operations: [], conflict });
        continue;
      }
      const observed: Observed = {
        jumpcloud: user,
        bound: bound.has(id),
        notion: notion ? toNotionUserFacts(notion) : null,
      };
      const operations = planUser({
        scope,
        mapping,
        notion: observed.notion,
        linked: Boolean(link?.notionId) || (Boolean(notion) && scope.inScope),
        protectedUsers: deps.policy.protectedUsers,
      });
      // C6: a deactivation already held waits for the admin's decision, not for this run's.
      if (
        link?.syncState === 'held' &&
        operations.length > 0 &&
        operations.every((o) => o.kind === 'deactivate')
      )
        continue;
      for (const operation of operations) planned[operation.kind] += 1;
      // A user whose last attempt failed is retried once per reconciliation, never in a loop.
      const retry = operations.length === 0 && link?.syncState === 'error';
      if (retry) planned.retry += 1;
      // A linked user out of scope but not yet marked as such also gets its workflow's record updated.
      const unrecorded =
        operations.length === 0 && !scope.inScope && link !== undefined && link.syncState === 'in-sync';
      // U3: a member matched by userName with nothing to change still needs its durable link, or it
      // would never be deactivated once it leaves the scope (a pre-existing or imported member).
      const unlinked = operations.length === 0 && scope.inScope && notion !== undefined && !link?.notionId;
      // A hold (creation or deactivation) that this run no longer plans is lifted by its workflow.
      const staleHold = operations.length === 0 && link?.syncState === 'held';
      if (operations.length > 0 || retry || unrecorded || unlinked || staleHold)
        work.push({ id, observed, username: user?.username, operations });
    }
    for (const { id, username, problem } of unreadable)
      work.push({ id, username, operations: [], unreadable: problem });
    if (unreadable.length > 0) summary.unreadable = unreadable.length;
    summary.jumpcloudInScope = inScope;
    if (jumpcloudProblems.length > 0) {
      summary.jumpcloudListingProblems = jumpcloudProblems;
      summary.unconfirmed = unconfirmed;
    }
    if (input.dryRun) {
      report('counting groups');
      summary.jumpcloudGroupsInScope = (
        await deps.jumpcloud.listApplicationGroups(deps.appId).catch(() => undefined)
      )?.length;
      const withOperations = work.filter((w) => w.operations.length > 0 || w.conflict || w.unreadable);
      summary.plan = withOperations.slice(0, PLAN_LIMIT).map((w) => ({
        jumpcloudId: w.id,
        username: w.username,
        operations: w.conflict
          ? [`conflict: ${w.conflict.userName} is also ${w.conflict.with.join(', ')}'s: nothing written`]
          : w.unreadable
            ? [`error: unreadable record (${w.unreadable}): nothing written`]
            : w.operations.map(describeOperation),
      }));
      if (withOperations.length > PLAN_LIMIT) summary.truncated = withOperations.length - PLAN_LIMIT;
      if (input.groupManagement) {
        report('planning groups');
        summary.groupPlan = await planGroupsDryRun({
          jumpcloud: deps.jumpcloud,
          notion: deps.notion,
          client: deps.client,
          appId: deps.appId,
          connectorId: input.connectorId,
        });
      }
      return summary;
    }

    // C6: one decision for all of this reconciliation's deactivations; nothing else waits for it.
    let deactivation: 'granted' | 'hold' | undefined;
    if (planned.deactivate > 0) {
      const decision = await deps.reserveDeactivations(planned.deactivate);
      deactivation = decision === 'granted' ? 'granted' : 'hold';
      if (decision === 'held') summary.held = planned.deactivate;
    }
    let creation: 'granted' | 'hold' | undefined;
    if (planned.create > 0) {
      const decision = await deps.reserveCreations(planned.create);
      creation = decision === 'granted' ? 'granted' : 'hold';
      if (decision === 'held') summary.heldCreations = planned.create;
    }

    // A retried attempt plans again from what it reads now: users an earlier attempt signalled
    // settle the reconcileId as well, so its own are told apart (the workflow waits for those).
    const attempt = activityInfo().attempt;
    if (attempt > 1) {
      summary.settleId = `${input.reconcileId}#${attempt}`;
      // …and the users an earlier attempt already brought to a settled state, not handed over
      // again (in sync now), are this reconciliation's too: counted, so that its report (and
      // `sync`'s progress, which counts every attempt's) covers the whole run, not this attempt.
      for (const item of work) settledEarlier.delete(item.id);
      if (settledEarlier.size > 0) summary.settledEarlier = summary.dispatched = settledEarlier.size;
    }
    const { cancellationSignal } = Context.current();
    // Nothing to hand over (a quiet hour's reconciliation): nothing to tell, no history event.
    if (work.length > 0) await deps.announceHandOver?.(summary.dispatched + work.length);
    const { currentAttemptScheduledTimestampMs, startToCloseTimeoutMs } = activityInfo();
    const window = settleWindow({
      size: deps.dispatchWindow ?? DISPATCH_WINDOW,
      settled: () =>
        countSettled(deps.client, cancellationSignal, {
          connectorId: input.connectorId,
          kind: 'user',
          reconcileId: summary.settleId ?? input.reconcileId,
        }),
      signal: cancellationSignal,
      pollMs: 1_000,
      stallMs: WINDOW_STALL_MS,
      openAt: currentAttemptScheduledTimestampMs + startToCloseTimeoutMs - WINDOW_MARGIN_MS,
      onWait: ({ settled }) => report('dispatching', { dispatched: summary.dispatched, settled }),
    });
    await handOverAll(
      work,
      DISPATCH_CONCURRENCY,
      cancellationSignal,
      async (item) => {
        await gateway.syncUser(input.connectorId, item.id, deps.policy, {
          reason: 'reconcile',
          reconcileId: input.reconcileId,
          ...(summary.settleId ? { reconcileIds: [input.reconcileId, summary.settleId] } : {}),
          ...(item.observed ? { observed: item.observed } : {}),
          ...(item.conflict ? { conflict: item.conflict } : {}),
          policy: deps.policy,
          ...(item.operations.some((o) => o.kind === 'deactivate') && deactivation ? { deactivation } : {}),
          ...(item.operations.some((o) => o.kind === 'create') && creation ? { creation } : {}),
        });
        summary.dispatched += 1;
        if (summary.dispatched % 100 === 0) report('dispatching', { dispatched: summary.dispatched });
      },
      window,
    );
    return summary;
  });
  // Kept while the activity may be retried; dropped once it succeeded.
  checkpoint.close();
  return result;
}
