/**
 * Applying one planned operation of a user (create, reactivate, update, deactivate…) as activities,
 * each step written to the user's log; deactivations pass the C6 guard first.
 */
import { ApplicationFailure, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { Step, SyncRequest, UserPolicy, UserState, UserWorkflowInput } from '../contracts/user';
import { API_ACTIVITY_OPTIONS, apiActivities, failureType } from './entity';
import { claim, link } from './user-link';
import { planUser, type UserOperation } from './user-plan';

/** The activities a user workflow calls. */
export function userApi() {
  const { notion, jumpcloud } = apiActivities();
  return {
    notion,
    jumpcloud,
    // Notion answers a userName change onto another account's email with a 500: a few attempts only.
    notionRename: apiActivities({
      scheduleToCloseTimeout: undefined,
      retry: { ...API_ACTIVITY_OPTIONS.retry, maximumAttempts: 3 },
    }).notion,
    // The connector answers these; if it cannot for an hour, the user records the error.
    main: proxyActivities<Activities>({
      startToCloseTimeout: '1 minute',
      scheduleToCloseTimeout: '1 hour',
      retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
    }),
  };
}

/** A user workflow's run: its input, its live state and its activities. */
export interface UserContext {
  input: UserWorkflowInput;
  state: UserState;
  api: ReturnType<typeof userApi>;
  policy: () => UserPolicy;
}

/** One convergence: the request, its log, and what C6 needs to know across its operations. */
export interface UserRun {
  request: SyncRequest;
  steps: Step[];
  /** The deactivation held before this convergence (held stays held until an admin decides). */
  previouslyHeld: UserState['held'];
  /** An admin rejected this user's deactivation before. */
  previouslyRejected: boolean;
  /** …and it stays rejected after this convergence. */
  rejectionKept: boolean;
  /** U6: the worker found the member protected when it came to deactivate it. */
  protectedAtDeactivation?: boolean;
}

type Deactivate = Extract<UserOperation, { kind: 'deactivate' }>;

/** C6: whether the guard lets this deactivation through now; a held one is recorded. */
async function deactivationAllowed(ctx: UserContext, run: UserRun, operation: Deactivate): Promise<boolean> {
  const { request, previouslyHeld, steps } = run;
  const directive = request.deactivation;
  const step = `deactivate Notion member (active=false; ${operation.reason})`;
  // A rejected deactivation is proposed again by reconciliations only, not by every later hint
  // of the change the admin has just reviewed.
  if (run.previouslyRejected && directive !== 'approved' && !request.reconcileId) {
    run.rejectionKept = true;
    steps.push({
      step,
      outcome: 'skipped: an admin rejected this deactivation; the next reconciliation proposes it again',
    });
    return false;
  }
  let decision: 'granted' | 'held';
  if (directive === 'approved' || (directive === 'granted' && !previouslyHeld)) decision = 'granted';
  // Held stays held until an admin decides, whatever the rolling hour says later.
  else if (directive === 'hold' || previouslyHeld) decision = 'held';
  else
    decision = await ctx.api.main.requestDeactivation(ctx.input.connectorId, {
      jumpcloudUserId: ctx.input.jumpcloudUserId,
      ...(request.batch ? { batch: request.batch } : {}),
    });
  if (decision === 'granted') return true;
  ctx.state.held = { reason: operation.reason, since: previouslyHeld?.since ?? new Date().toISOString() };
  steps.push({
    step,
    outcome: 'held: more deactivations than DEACTIVATION_THRESHOLD; awaiting `jc-notion approve`',
  });
  return false;
}

export async function applyUserOperation(
  ctx: UserContext,
  run: UserRun,
  operation: UserOperation,
): Promise<void> {
  const { state, api } = ctx;
  const { steps } = run;
  switch (operation.kind) {
    case 'create': {
      const created = await api.notion.notionCreateUser(operation.user);
      if (created.outcome === 'created') {
        link(state, created.user.id);
        steps.push({
          step: `create Notion user ${operation.user.userName}`,
          outcome: `created ${created.user.id}`,
        });
        return;
      }
      // U3: a member with this email exists already: link it, then converge its attributes.
      const existing = await api.notion.notionFindUserByEmail(operation.user.userName);
      steps.push({
        step: `create Notion user ${operation.user.userName}`,
        outcome: 'already a member: linked',
      });
      if (!existing)
        throw ApplicationFailure.nonRetryable(
          'Notion answered 409 but finds no member with this email',
          'Conflict',
        );
      await claim(ctx, existing);
      const follow = planUser({
        scope: { inScope: true },
        mapping: { ok: true, user: operation.user },
        notion: existing,
        linked: true,
        protectedUsers: ctx.policy().protectedUsers,
      });
      const followRun: UserRun = { ...run, request: { reason: 'follow-up' }, previouslyHeld: undefined };
      for (const next of follow) await applyUserOperation(ctx, followRun, next);
      return;
    }
    case 'reactivate': {
      const outcome = await api.notion.notionActivateUser(operation.notionId, operation.user.userName);
      if (outcome === 'activated') {
        steps.push({ step: 'reactivate Notion member (active=true)', outcome: 'activated' });
        return;
      }
      // U7: the id is gone: POST re-adds the existing account.
      const created = await api.notion.notionCreateUser(operation.user);
      if (created.outcome !== 'created')
        throw ApplicationFailure.nonRetryable(
          'Notion no longer knows the id but refuses to re-add the user',
          'Conflict',
        );
      link(state, created.user.id);
      steps.push({
        step: 'reactivate Notion member (re-added by POST)',
        outcome: `re-added ${created.user.id}`,
      });
      return;
    }
    case 'update': {
      const proxy = operation.changes.userName ? api.notionRename : api.notion;
      try {
        await proxy.notionUpdateUser(
          operation.notionId,
          operation.changes,
          state.email ?? operation.notionId,
        );
        steps.push({ step: `update ${Object.keys(operation.changes).join(', ')}`, outcome: 'updated' });
      } catch (error) {
        if (operation.changes.userName && failureType(error) === 'ServerError')
          throw ApplicationFailure.nonRetryable(
            `Notion refused to change the email to ${operation.changes.userName} (it answers 500 when another Notion account has that email)`,
            'Conflict',
          );
        throw error;
      }
      return;
    }
    case 'deactivate': {
      if (patched('c6-deactivation-guard') && !(await deactivationAllowed(ctx, run, operation))) return;
      const outcome = await api.notion.notionDeactivateUser(
        operation.notionId,
        state.email ?? operation.notionId,
      );
      // U6 (NOTION_PROTECTED_USERS): the worker found the member protected at the moment of acting.
      if (outcome === 'protected') run.protectedAtDeactivation = true;
      steps.push({
        step: `deactivate Notion member (active=false; ${operation.reason})`,
        outcome:
          outcome === 'protected'
            ? 'skipped: protected user (NOTION_PROTECTED_USERS, a workspace owner or the token owner)'
            : outcome,
      });
      return;
    }
    case 'protected':
      steps.push(
        operation.reason === 'email-change'
          ? {
              step: 'change the email',
              outcome:
                'skipped: the member is protected by NOTION_PROTECTED_USERS and its new email is not listed there: add it, then the change is made',
            }
          : {
              step: `deactivate Notion member (${operation.reason})`,
              outcome: `skipped: protected user (${operation.by})`,
            },
      );
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
