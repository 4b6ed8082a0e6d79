/**
 * One workflow per JumpCloud user (`jcn/<connector>/user/<JumpCloud id>`): the durable link to its
 * Notion user, the last outcome and per-user errors. It wakes on a `sync` signal, reads JumpCloud
 * and Notion (or uses what a reconciliation has just observed), plans with the pure planner and
 * applies the operations one activity at a time, so its history reads as the user's provisioning
 * log. Per-user errors are recorded, never retried in a loop, and never block other users.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  provisionUserUpdate,
  syncUserSignal,
  userStateQuery,
  userWorkflowInputSchema,
  type Step,
  type SyncRequest,
  type UserPolicy,
  type UserState,
  type UserWorkflowInput,
} from '../contracts/user';
import { MAX_HISTORY_EVENTS } from '../contracts/shared';
import type { Activities } from '../activities';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { API_ACTIVITY_OPTIONS, apiActivities, parseInput, tagEntity } from './entity';
import {
  mapUser,
  planUser,
  scopeOf,
  type JumpCloudUserFacts,
  type NotionUserFacts,
  type UserOperation,
} from './user-plan';

export async function userWorkflow(rawInput: UserWorkflowInput): Promise<void> {
  const input = parseInput(userWorkflowInputSchema, rawInput, 'user workflow');
  const { notion, jumpcloud } = apiActivities();
  // The connector answers these; if it cannot for an hour, the user records the error.
  const main = proxyActivities<Activities>({
    startToCloseTimeout: '1 minute',
    scheduleToCloseTimeout: '1 hour',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
  });
  // Notion answers a userName change onto another account's email with a 500: a few attempts only.
  const notionRename = apiActivities({
    scheduleToCloseTimeout: undefined,
    retry: { ...API_ACTIVITY_OPTIONS.retry, maximumAttempts: 3 },
  }).notion;

  const state: UserState = input.state ?? { linked: false, status: 'pending', deletedInJumpCloud: false };
  const policy = (): UserPolicy => state.policy ?? input.policy;
  const pending: SyncRequest[] = [...(input.pending ?? [])];
  tagEntity('user', input.connectorId, input.jumpcloudUserId);

  setHandler(userStateQuery, () => state);
  setHandler(syncUserSignal, (request) => {
    pending.push(request);
  });
  let busy = false;
  setHandler(provisionUserUpdate, async () => {
    await condition(() => !busy);
    busy = true;
    try {
      const steps = await converge({ reason: 'provision' });
      return { steps, state };
    } finally {
      busy = false;
    }
  });

  /** The facts about the user: the reconciliation's if given, else read now. */
  async function readFacts(
    request: SyncRequest,
    steps: Step[],
  ): Promise<{ user: JumpCloudUserFacts | null; bound: boolean; boundGroupIds: string[] }> {
    if (request.observed)
      return { user: request.observed.jumpcloud, bound: request.observed.bound, boundGroupIds: [] };
    const user = await jumpcloud.jumpcloudGetUser(input.jumpcloudUserId);
    steps.push({
      step: 'read JumpCloud user',
      outcome: user ? `${user.username} (${user.state})` : 'deleted',
    });
    if (!user || user.state !== 'ACTIVATED') return { user, bound: false, boundGroupIds: [] };
    const [groups, boundGroups, boundUsers] = await Promise.all([
      jumpcloud.jumpcloudUserGroupIds(input.jumpcloudUserId),
      jumpcloud.jumpcloudAppBindings('user_group'),
      jumpcloud.jumpcloudAppBindings('user'),
    ]);
    const bound = boundUsers.includes(input.jumpcloudUserId) || groups.some((id) => boundGroups.includes(id));
    steps.push({ step: 'check binding to the Notion application', outcome: bound ? 'bound' : 'not bound' });
    return { user, bound, boundGroupIds: groups.filter((id) => boundGroups.includes(id)) };
  }

  async function converge(request: SyncRequest): Promise<Step[]> {
    const steps: Step[] = [];
    if (request.policy) state.policy = request.policy;
    if (request.deactivation === 'rejected') {
      // C6: an admin dropped the held deactivation; the member stays. A later reconciliation
      // proposes it again while the user is out of scope.
      if (state.status === 'held') {
        state.status = 'rejected';
        state.held = undefined;
        steps.push({
          step: 'held deactivation',
          outcome: 'rejected by an admin: the member stays in Notion',
        });
        publish();
      }
      return steps;
    }
    const previouslyHeld = state.held;
    state.held = undefined;
    previouslyRejected = state.status === 'rejected';
    rejectionKept = false;
    const { usernameSource, protectedUsers } = policy();
    let joinGroups: string[] = [];
    try {
      const { user, bound, boundGroupIds } = await readFacts(request, steps);
      if (user) {
        state.username = user.username;
        state.email = user.email?.trim().toLowerCase();
      }
      const scope = scopeOf(user, bound);
      const mapping = scope.inScope && user ? mapUser(user, usernameSource) : undefined;

      let notionUser: NotionUserFacts | null;
      if (request.observed) notionUser = request.observed.notion;
      else if (state.notionId) {
        notionUser = await notion.notionGetUser(state.notionId);
        steps.push({
          step: 'read linked Notion user',
          outcome: notionUser ? (notionUser.active ? 'member' : 'removed') : 'not found',
        });
      } else if (mapping?.ok) {
        notionUser = await notion.notionFindUserByEmail(mapping.user.userName);
        steps.push({
          step: `match Notion user ${mapping.user.userName}`,
          outcome: notionUser ? 'found' : 'none',
        });
      } else notionUser = null;
      if (notionUser && scope.inScope) link(notionUser.id);

      state.error = undefined;
      const operations = planUser({
        scope,
        mapping,
        notion: notionUser,
        linked: state.linked,
        protectedUsers,
      });
      if (operations.length === 0)
        steps.push({
          step: 'compare',
          outcome: scope.inScope ? 'in sync' : `out of scope (${scope.reason})`,
        });
      for (const operation of operations) await apply(operation, steps, request, previouslyHeld);
      if (operations.some((o) => o.kind === 'create' || o.kind === 'reactivate')) joinGroups = boundGroupIds;

      if (!state.error) {
        if (scope.inScope) state.status = operations.some((o) => o.kind === 'invalid') ? 'error' : 'in-sync';
        else {
          const protectedUser = operations.some((o) => o.kind === 'protected');
          state.deletedInJumpCloud = scope.reason === 'deleted' && state.linked;
          state.status = state.held
            ? 'held'
            : rejectionKept
              ? 'rejected'
              : protectedUser
                ? 'protected'
                : state.deletedInJumpCloud
                  ? 'deleted'
                  : state.linked
                    ? 'deactivated'
                    : 'out-of-scope';
        }
        if (scope.inScope) state.deletedInJumpCloud = false;
      }
    } catch (error) {
      recordError(error, steps);
    }
    state.lastSyncAt = new Date().toISOString();
    if (request.reconcileId) state.lastReconcileId = request.reconcileId;
    publish();
    // G2/G9 outside reconciliations (which hand the groups over themselves): a user just
    // provisioned joins its bound groups in Notion now, once its link is published.
    if (joinGroups.length > 0 && state.notionId && patched('g9-groups-after-provision')) {
      const count = await main.nudgeGroups(input.connectorId, joinGroups, {
        reason: `member ${state.username ?? input.jumpcloudUserId} provisioned`,
        provisioned: { [input.jumpcloudUserId]: state.notionId },
      });
      steps.push({
        step: 'sync its bound groups',
        outcome: count > 0 ? `${count} group(s) asked` : 'group management off',
      });
    }
    return steps;
  }

  /** C6, per converge: the user's deactivation was rejected before, and stays so this time. */
  let previouslyRejected = false;
  let rejectionKept = false;

  /** C6: whether the guard lets this deactivation through now; a held one is recorded. */
  async function deactivationAllowed(
    operation: Extract<UserOperation, { kind: 'deactivate' }>,
    request: SyncRequest,
    previouslyHeld: UserState['held'],
    steps: Step[],
  ): Promise<boolean> {
    let decision: 'granted' | 'held';
    const directive = request.deactivation;
    // A rejected deactivation is proposed again by reconciliations only, not by every later hint
    // of the change the admin has just reviewed.
    if (previouslyRejected && directive !== 'approved' && !request.reconcileId) {
      rejectionKept = true;
      steps.push({
        step: `deactivate Notion member (active=false; ${operation.reason})`,
        outcome: 'skipped: an admin rejected this deactivation; the next reconciliation proposes it again',
      });
      return false;
    }
    if (directive === 'approved' || (directive === 'granted' && !previouslyHeld)) decision = 'granted';
    // Held stays held until an admin decides, whatever the rolling hour says later.
    else if (directive === 'hold' || previouslyHeld) decision = 'held';
    else
      decision = await main.requestDeactivation(input.connectorId, {
        jumpcloudUserId: input.jumpcloudUserId,
        ...(request.batch ? { batch: request.batch } : {}),
      });
    if (decision === 'granted') return true;
    state.held = { reason: operation.reason, since: previouslyHeld?.since ?? new Date().toISOString() };
    steps.push({
      step: `deactivate Notion member (active=false; ${operation.reason})`,
      outcome: 'held: more deactivations than DEACTIVATION_THRESHOLD; awaiting `jc-notion approve`',
    });
    return false;
  }

  async function apply(
    operation: UserOperation,
    steps: Step[],
    request: SyncRequest = { reason: 'follow-up' },
    previouslyHeld?: UserState['held'],
  ): Promise<void> {
    switch (operation.kind) {
      case 'create': {
        const created = await notion.notionCreateUser(operation.user);
        if (created.outcome === 'created') {
          link(created.user.id);
          steps.push({
            step: `create Notion user ${operation.user.userName}`,
            outcome: `created ${created.user.id}`,
          });
          return;
        }
        // U3: a member with this email exists already: link it, then converge its attributes.
        const existing = await notion.notionFindUserByEmail(operation.user.userName);
        steps.push({
          step: `create Notion user ${operation.user.userName}`,
          outcome: 'already a member: linked',
        });
        if (!existing)
          throw ApplicationFailure.nonRetryable(
            'Notion answered 409 but finds no member with this email',
            'Conflict',
          );
        link(existing.id);
        const follow = planUser({
          scope: { inScope: true },
          mapping: { ok: true, user: operation.user },
          notion: existing,
          linked: true,
          protectedUsers: policy().protectedUsers,
        });
        for (const next of follow) await apply(next, steps);
        return;
      }
      case 'reactivate': {
        const outcome = await notion.notionActivateUser(operation.notionId, operation.user.userName);
        if (outcome === 'activated') {
          steps.push({ step: 'reactivate Notion member (active=true)', outcome: 'activated' });
          return;
        }
        // U7: the id is gone: POST re-adds the existing account.
        const created = await notion.notionCreateUser(operation.user);
        if (created.outcome !== 'created') {
          throw ApplicationFailure.nonRetryable(
            'Notion no longer knows the id but refuses to re-add the user',
            'Conflict',
          );
        }
        link(created.user.id);
        steps.push({
          step: 'reactivate Notion member (re-added by POST)',
          outcome: `re-added ${created.user.id}`,
        });
        return;
      }
      case 'update': {
        const proxy = operation.changes.userName ? notionRename : notion;
        try {
          await proxy.notionUpdateUser(
            operation.notionId,
            operation.changes,
            state.email ?? operation.notionId,
          );
          steps.push({ step: `update ${Object.keys(operation.changes).join(', ')}`, outcome: 'updated' });
        } catch (error) {
          if (operation.changes.userName && failureType(error) === 'ServerError') {
            throw ApplicationFailure.nonRetryable(
              `Notion refused to change the email to ${operation.changes.userName} (it answers 500 when another Notion account has that email)`,
              'Conflict',
            );
          }
          throw error;
        }
        return;
      }
      case 'deactivate': {
        if (
          patched('c6-deactivation-guard') &&
          !(await deactivationAllowed(operation, request, previouslyHeld, steps))
        )
          return;
        const outcome = await notion.notionDeactivateUser(
          operation.notionId,
          state.email ?? operation.notionId,
        );
        steps.push({ step: `deactivate Notion member (active=false; ${operation.reason})`, outcome });
        return;
      }
      case 'protected':
        steps.push({
          step: `deactivate Notion member (${operation.reason})`,
          outcome: 'skipped: protected user (NOTION_PROTECTED_USERS)',
        });
        return;
      case 'invalid': {
        const problems = operation.problems.map((p) => `${p.field} ${p.message}`).join('; ');
        state.error = {
          code: 'InvalidData',
          message: `cannot be provisioned: ${problems}`,
          at: new Date().toISOString(),
        };
        state.status = 'error';
        steps.push({ step: 'validate JumpCloud data', outcome: state.error.message });
        return;
      }
    }
  }

  function link(notionId: string): void {
    state.notionId = notionId;
    state.linked = true;
  }

  function recordError(error: unknown, steps: Step[]): void {
    const code = failureType(error) ?? 'Error';
    const cause = error instanceof ActivityFailure && error.cause ? error.cause : error;
    const message = cause instanceof Error ? cause.message : String(cause);
    state.error = { code, message, at: new Date().toISOString() };
    state.status = 'error';
    steps.push({ step: 'error', outcome: `${code}: ${message}` });
  }

  function publish(): void {
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTES.syncState, value: state.status },
      ...(state.username ? [{ key: SEARCH_ATTRIBUTES.username, value: state.username }] : []),
      ...(state.email ? [{ key: SEARCH_ATTRIBUTES.email, value: state.email }] : []),
      ...(state.notionId ? [{ key: SEARCH_ATTRIBUTES.notionId, value: state.notionId }] : []),
      ...(state.lastReconcileId
        ? [{ key: SEARCH_ATTRIBUTES.reconcileId, value: state.lastReconcileId }]
        : []),
    ]);
  }

  const shouldContinueAsNew = () =>
    workflowInfo().continueAsNewSuggested ||
    workflowInfo().historyLength > (input.maxHistoryEvents ?? MAX_HISTORY_EVENTS);

  for (;;) {
    await condition(() => (pending.length > 0 && !busy) || shouldContinueAsNew());
    if (shouldContinueAsNew()) break;
    // Several requests at once converge once: the latest facts win, every reconcile id is kept.
    const batch = pending.splice(0);
    const request = batch[batch.length - 1]!;
    const latest = <K extends keyof SyncRequest>(key: K) => [...batch].reverse().find((r) => r[key])?.[key];
    busy = true;
    try {
      // An admin's decision or a guard's verdict is not lost to a hint that arrived after it.
      await converge({
        ...request,
        reconcileId: latest('reconcileId'),
        deactivation: latest('deactivation'),
        batch: latest('batch'),
      });
    } finally {
      busy = false;
    }
  }
  await condition(allHandlersFinished);
  await continueAsNew<typeof userWorkflow>({ ...input, state, pending });
}

function failureType(error: unknown): string | undefined {
  if (error instanceof ApplicationFailure) return error.type ?? undefined;
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure)
    return error.cause.type ?? undefined;
  if (error instanceof ActivityFailure && error.cause) return error.cause.name;
  return undefined;
}
