/**
 * One convergence of a user workflow: read the facts (or take those a reconciliation observed),
 * plan with the pure planner (user-plan.ts), apply the operations one activity at a time
 * (user-apply.ts), then record the outcome and publish it as search attributes. A per-user error
 * is recorded in the state, never thrown: it must not block the workflow's next request.
 */
import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { normalizeEmail } from '../contracts/shared';
import type { Step, SyncRequest } from '../contracts/user';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { describeFailure, rememberReconciles } from './entity';
import { applyUserOperation } from './user-apply';
import { summaryPrivacy, who, type UserContext, type UserRun } from './user-context';
import { STEPS, userDetails } from './summaries';
import { claim, identityConflict, link } from './user-link';
import { mapUser } from './user-mapping';
import { planUser, scopeOf, type JumpCloudUserFacts, type NotionUserFacts } from './user-plan';
import { deriveUserStatus } from './user-status';

interface JumpCloudFacts {
  user: JumpCloudUserFacts | null;
  bound: boolean;
  boundGroupIds: string[];
}

/** The facts about the user in JumpCloud: the reconciliation's if given, else read now. */
async function readJumpCloud(ctx: UserContext, request: SyncRequest, steps: Step[]): Promise<JumpCloudFacts> {
  if (request.observed)
    return { user: request.observed.jumpcloud, bound: request.observed.bound, boundGroupIds: [] };
  const { jumpcloud } = ctx.api;
  const id = ctx.input.jumpcloudUserId;
  const user = await jumpcloud.jumpcloudGetUser.executeWithOptions(
    { summary: STEPS.user.readJumpCloud(who(ctx)) },
    [id],
  );
  steps.push({ step: 'read JumpCloud user', outcome: user ? `${user.username} (${user.state})` : 'deleted' });
  if (!user || user.state !== 'ACTIVATED') return { user, bound: false, boundGroupIds: [] };
  const [groups, boundGroups, boundUsers] = await Promise.all([
    jumpcloud.jumpcloudUserGroupIds.executeWithOptions({ summary: STEPS.user.readGroups(who(ctx)) }, [id]),
    jumpcloud.jumpcloudAppBindings.executeWithOptions({ summary: STEPS.user.readBoundGroups() }, [
      'user_group',
    ]),
    jumpcloud.jumpcloudAppBindings.executeWithOptions({ summary: STEPS.user.readBoundUsers() }, ['user']),
  ]);
  const bound = boundUsers.includes(id) || groups.some((group) => boundGroups.includes(group));
  steps.push({ step: 'check binding to the Notion application', outcome: bound ? 'bound' : 'not bound' });
  return { user, bound, boundGroupIds: groups.filter((group) => boundGroups.includes(group)) };
}

/**
 * Issue 18: the linked member as this workflow last read or wrote it, for a change from the feed
 * (one Notion request per change instead of a read and a write). Not for a reconciliation (it
 * brings what it read), `provision` (an admin asks for Notion as it is now) or a fresh read.
 */
function lastKnownNotion(
  ctx: UserContext,
  request: SyncRequest,
  fresh: boolean,
): NotionUserFacts | undefined {
  const facts = ctx.state.notionFacts;
  if (fresh || request.observed || request.reason === 'provision') return undefined;
  if (!facts || facts.id !== ctx.state.notionId) return undefined;
  return ctx.patches.has('notion-last-known-facts') ? facts : undefined;
}

/** The linked Notion user, else the member whose email matches (U3), else none. */
async function readNotion(
  ctx: UserContext,
  run: UserRun,
  request: SyncRequest,
  userName: string | undefined,
  fresh: boolean,
): Promise<NotionUserFacts | null> {
  const { steps } = run;
  if (request.observed) return request.observed.notion;
  const known = lastKnownNotion(ctx, request, fresh);
  if (known) {
    run.lastKnownNotion = true;
    steps.push({
      step: 'linked Notion user, as last read or written',
      outcome: known.active ? 'member' : 'removed',
    });
    return known;
  }
  const { notion } = ctx.api;
  if (ctx.state.notionId) {
    const user = await notion.notionGetUser.executeWithOptions(
      { summary: STEPS.user.readNotion(who(ctx), ctx.state.notionId) },
      [ctx.state.notionId],
    );
    steps.push({
      step: 'read linked Notion user',
      outcome: user ? (user.active ? 'member' : 'removed') : 'not found',
    });
    return user;
  }
  if (!userName) return null;
  const user = await notion.notionFindUserByEmail.executeWithOptions(
    { summary: STEPS.user.findInNotion(who(ctx, userName)) },
    [userName],
  );
  steps.push({ step: `match Notion user ${userName}`, outcome: user ? 'found' : 'none' });
  return user;
}

export async function convergeUser(ctx: UserContext, request: SyncRequest): Promise<Step[]> {
  const { state } = ctx;
  const steps: Step[] = [];
  if (request.policy) state.policy = request.policy;
  if (request.deactivation === 'rejected') {
    // C6: an admin dropped the held deactivation; the member stays. A later reconciliation
    // proposes it again while the user is out of scope.
    if (state.status === 'held') {
      state.status = 'rejected';
      state.held = undefined;
      steps.push({ step: 'held deactivation', outcome: 'rejected by an admin: the member stays in Notion' });
      publishUser(ctx);
    }
    return steps;
  }
  const run: UserRun = {
    request,
    steps,
    previouslyHeld: state.held,
    previouslyRejected: state.status === 'rejected',
    rejectionKept: false,
  };
  state.held = undefined;
  const { usernameSource, protectedUsers } = ctx.policy();
  let joinGroups: string[] = [];
  /**
   * The facts (the reconciliation's, the last known for a change, or read now when `fresh`) and
   * the plan they lead to.
   */
  const observe = async (from: SyncRequest, fresh = false) => {
    const { user, bound, boundGroupIds } = await readJumpCloud(ctx, from, steps);
    if (user) adoptIdentity(ctx, user);
    const scope = scopeOf(user, bound);
    const mapping =
      scope.inScope && user
        ? mapUser(user, usernameSource, { refuseInvisible: ctx.patches.has('u9-invisible-characters') })
        : undefined;
    const notionUser = await readNotion(
      ctx,
      run,
      from,
      mapping?.ok ? mapping.user.userName : undefined,
      fresh,
    );
    // A reconciliation has checked its matches against every link; a match read here is claimed.
    if (notionUser && scope.inScope) {
      if (from.observed) link(state, notionUser.id);
      else await claim(ctx, notionUser);
    }
    state.notionFacts = notionUser && notionUser.id === state.notionId ? notionUser : undefined;
    const operations = planUser({ scope, mapping, notion: notionUser, linked: state.linked, protectedUsers });
    return { scope, boundGroupIds, operations };
  };
  /** Reads, plans and applies; throws what stops this user (recorded below, never rethrown). */
  const attempt = async (): Promise<void> => {
    if (request.conflict) {
      const user = request.observed?.jumpcloud;
      if (user) adoptIdentity(ctx, user);
      throw identityConflict(request.conflict.userName, request.conflict.notionId, request.conflict.with);
    }
    let { scope, boundGroupIds, operations } = await observe(request);
    // Issue 14: a bulk listing's word is not enough to remove anyone. Before a deactivation the
    // user is read again by id (user, its groups, the application's bindings) and planned anew.
    if (
      request.observed &&
      operations.some((o) => o.kind === 'deactivate') &&
      ctx.patches.has('confirm-before-deactivate')
    ) {
      steps.push({
        step: 'confirm before deactivating',
        outcome: `the reconciliation saw the user ${scope.inScope ? 'in scope' : `out of scope (${scope.reason})`}: reading it again by id`,
      });
      ({ scope, boundGroupIds, operations } = await observe({ ...request, observed: undefined }, true));
    }

    state.error = undefined;
    if (operations.length === 0)
      steps.push({
        step: 'compare',
        outcome: scope.inScope ? 'in sync' : `out of scope (${scope.reason})`,
      });
    for (const operation of operations) await applyUserOperation(ctx, run, operation);
    if (operations.some((o) => o.kind === 'create' || o.kind === 'reactivate')) joinGroups = boundGroupIds;

    if (!state.error) {
      if (!scope.inScope) state.deletedInJumpCloud = scope.reason === 'deleted' && state.linked;
      state.status = deriveUserStatus({
        inScope: scope.inScope,
        invalid: operations.some((o) => o.kind === 'invalid'),
        held: Boolean(state.held),
        rejectionKept: run.rejectionKept,
        protectedUser: operations.some((o) => o.kind === 'protected') || Boolean(run.protectedAtDeactivation),
        deletedInJumpCloud: state.deletedInJumpCloud,
        linked: state.linked,
      });
      if (scope.inScope) state.deletedInJumpCloud = false;
    }
  };
  // A convergence planned on the last known facts that fails (a write refused: the member is
  // gone, or Notion differs) is run once more on a fresh read before any error is recorded.
  for (let pass = 1; pass <= 2; pass++) {
    try {
      await attempt();
      break;
    } catch (error) {
      const { code, message } = describeFailure(error);
      state.notionFacts = undefined;
      if (run.lastKnownNotion && pass === 1) {
        run.lastKnownNotion = false;
        steps.push({ step: 'write refused', outcome: `${code}: ${message}; reading Notion again` });
        continue;
      }
      state.error = { code, message, at: new Date().toISOString() };
      state.status = 'error';
      steps.push({ step: 'error', outcome: `${code}: ${message}` });
      break;
    }
  }
  state.lastSyncAt = new Date().toISOString();
  if (request.reconcileId) state.lastReconcileId = request.reconcileId;
  const settled = request.reconcileIds ?? (request.reconcileId ? [request.reconcileId] : []);
  if (settled.length > 0) state.reconcileIds = rememberReconciles(state.reconcileIds, settled);
  publishUser(ctx);
  // G2/G9 outside reconciliations (which hand the groups over themselves): a user just
  // provisioned joins its bound groups in Notion now, once its link is published.
  if (joinGroups.length > 0 && state.notionId && ctx.patches.has('g9-groups-after-provision')) {
    const count = await ctx.api.main.nudgeGroups.executeWithOptions(
      { summary: STEPS.user.nudgeGroups(who(ctx), joinGroups.length) },
      [
        ctx.input.connectorId,
        joinGroups,
        {
          reason: `member ${state.username ?? ctx.input.jumpcloudUserId} provisioned`,
          provisioned: { [ctx.input.jumpcloudUserId]: state.notionId },
        },
      ],
    );
    steps.push({
      step: 'sync its bound groups',
      outcome: count > 0 ? `${count} group(s) asked` : 'group management off',
    });
  }
  return steps;
}

/** Who the user is, as JumpCloud says now, and what to publish for it (issue 16: maybe hashes). */
function adoptIdentity({ state }: UserContext, user: JumpCloudUserFacts): void {
  state.username = user.username;
  state.email = user.email === undefined ? undefined : normalizeEmail(user.email);
  state.searchKeys = user.searchKeys;
}

/** Issue 19: the UI's current details of the user (no history event: the UI asks the workflow). */
export function showUser(ctx: UserContext): void {
  setCurrentDetails(userDetails(summaryPrivacy(ctx), ctx.input.jumpcloudUserId, ctx.state));
}

/**
 * SPEC §7: the user's state, email and links as search attributes, for `status` and the UI. With
 * hashed search attributes (issue 16) the email and username are published as the hashes the
 * activity that read them computed; the hashes replace any typed value published before.
 */
export function publishUser(ctx: UserContext): void {
  const { state } = ctx;
  showUser(ctx);
  const username = state.searchKeys ? state.searchKeys.username : state.username;
  const email = state.searchKeys ? state.searchKeys.email : state.email;
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.syncState, value: state.status },
    ...(username ? [{ key: SEARCH_ATTRIBUTES.username, value: username }] : []),
    ...(email ? [{ key: SEARCH_ATTRIBUTES.email, value: email }] : []),
    ...(state.notionId ? [{ key: SEARCH_ATTRIBUTES.notionId, value: state.notionId }] : []),
    ...(state.lastReconcileId ? [{ key: SEARCH_ATTRIBUTES.reconcileId, value: state.lastReconcileId }] : []),
    ...(state.reconcileIds ? [{ key: SEARCH_ATTRIBUTES.reconcileIds, value: state.reconcileIds }] : []),
  ]);
}
