/**
 * Full reconciliation of users (SPEC C5, C7): the desired state from JumpCloud and the actual
 * state from Notion, each read in bulk (one paged listing, not one lookup per user), the durable
 * links from the user workflows' search attributes, and the same planner the user workflows run.
 * Only the users that differ are handed to their workflows (signal-with-start, started if
 * absent). Nothing of the directory travels through workflow history: the activity returns counts
 * (and, for a dry run, the plan).
 */
import { heartbeat } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { JumpCloudClient } from '../api/jumpcloud';
import type { NotionScimClient, NotionUser } from '../api/notion';
import { type Observed, type UserPolicy } from '../contracts/user';
import {
  mapUser,
  planUser,
  scopeOf,
  type JumpCloudUserFacts,
  type UserOperation,
} from '../workflows/user-plan';
import type { DeactivationDecision } from '../contracts/connector';
import { mapFailures } from './failures';
import { planGroupsDryRun } from './group-dry-run';
import { toJumpCloudUserFacts } from './jumpcloud';
import { toNotionUserFacts } from './notion';
import type { ReconcileSummary } from '../contracts/reconcile';
import { EntityGateway } from '../temporal/entities';

export interface ReconcileInput {
  connectorId: string;
  reconcileId: string;
  dryRun: boolean;
  /** G8: a dry run plans the groups too while group management is enabled. */
  groupManagement?: boolean;
}

const PLAN_LIMIT = 2_000;
const DISPATCH_CONCURRENCY = 16;

export interface ReconcileDeps {
  jumpcloud: JumpCloudClient;
  notion: NotionScimClient;
  client: Client;
  appId: string;
  taskQueue: string;
  policy: UserPolicy;
  /** C6: asks the connector whether this reconciliation may deactivate `count` users. */
  reserveDeactivations: (count: number) => Promise<DeactivationDecision>;
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

export async function reconcileUsers(deps: ReconcileDeps, input: ReconcileInput): Promise<ReconcileSummary> {
  return mapFailures(async () => {
    heartbeat({ phase: 'reading JumpCloud' });
    // Each listing is read again while it does not add up; an incomplete one still shows who is
    // there, but proves no absence: nobody missing from it is taken as deleted or unbound.
    const [appUsers, allUsers] = await Promise.all([
      deps.jumpcloud.readApplicationUserListing(deps.appId),
      deps.jumpcloud.readUserListing(),
    ]);
    const bound = new Set(appUsers.items.map((u) => u.id));
    const users = new Map<string, JumpCloudUserFacts>(
      allUsers.items.map((u) => [u.id, toJumpCloudUserFacts(u)]),
    );
    const jumpcloudProblems = [
      ...appUsers.problems.map((p) => `application users: ${p}`),
      ...allUsers.problems.map((p) => `system users: ${p}`),
    ];

    heartbeat({ phase: 'reading Notion' });
    let listing = await deps.notion.listUsers();
    if (!listing.complete) listing = await deps.notion.listUsers(); // unstable order: one more try
    const byId = new Map(listing.items.map((u) => [u.id, u]));
    const byUserName = new Map(listing.items.map((u) => [u.userName, u]));

    heartbeat({ phase: 'reading links' });
    const links = new Map<string, Link>();
    const gateway = new EntityGateway(deps.client, deps.taskQueue);
    for await (const user of gateway.find({ connectorId: input.connectorId, kind: 'user' })) {
      if (user.jumpcloudId)
        links.set(user.jumpcloudId, { notionId: user.notionId, syncState: user.syncState });
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
    const work: { id: string; observed: Observed; username?: string; operations: UserOperation[] }[] = [];
    let inScope = 0;
    let unconfirmed = 0;
    for (const id of new Set([...bound, ...links.keys()])) {
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
      if (!notion && mapping?.ok) notion = byUserName.get(mapping.user.userName);
      // An incomplete listing proves no absence: never deactivate or re-create on it.
      if (!notion && !listing.complete && (!scope.inScope || link?.notionId)) continue;
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
      if (operations.length > 0 || retry || unrecorded || unlinked)
        work.push({ id, observed, username: user?.username, operations });
    }

    const summary: ReconcileSummary = {
      reconcileId: input.reconcileId,
      dryRun: input.dryRun,
      jumpcloudInScope: inScope,
      notionMembers: listing.items.filter((u) => u.active).length,
      notionListingComplete: listing.complete,
      ...(jumpcloudProblems.length > 0 ? { jumpcloudListingProblems: jumpcloudProblems, unconfirmed } : {}),
      planned,
      dispatched: 0,
    };
    if (input.dryRun) {
      const withOperations = work.filter((w) => w.operations.length > 0);
      summary.plan = withOperations.slice(0, PLAN_LIMIT).map((w) => ({
        jumpcloudId: w.id,
        username: w.username,
        operations: w.operations.map(describeOperation),
      }));
      if (withOperations.length > PLAN_LIMIT) summary.truncated = withOperations.length - PLAN_LIMIT;
      if (input.groupManagement) {
        heartbeat({ phase: 'planning groups' });
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

    let next = 0;
    await Promise.all(
      Array.from({ length: DISPATCH_CONCURRENCY }, async () => {
        while (next < work.length) {
          const item = work[next++]!;
          await gateway.syncUser(input.connectorId, item.id, deps.policy, {
            reason: 'reconcile',
            reconcileId: input.reconcileId,
            observed: item.observed,
            policy: deps.policy,
            ...(item.operations.some((o) => o.kind === 'deactivate') && deactivation ? { deactivation } : {}),
          });
          summary.dispatched += 1;
          if (summary.dispatched % 100 === 0)
            heartbeat({ phase: 'dispatching', dispatched: summary.dispatched });
        }
      }),
    );
    return summary;
  });
}
