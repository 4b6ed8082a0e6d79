/**
 * C6 inside a user workflow: whether the mass-change guard lets this deactivation or creation
 * through now (the connector decides; an admin's approval or rejection overrides), and the hold
 * recorded when it does not.
 */
import { STEPS } from './summaries';
import { who, type UserContext, type UserRun } from './user-context';
import type { UserOperation } from './user-plan';

type Deactivate = Extract<UserOperation, { kind: 'deactivate' }>;

/** C6: whether the guard lets this deactivation through now; a held one is recorded. */
export async function deactivationAllowed(
  ctx: UserContext,
  run: UserRun,
  operation: Deactivate,
): Promise<boolean> {
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
    decision = await ctx.api.main.requestDeactivation.executeWithOptions(
      {
        summary: STEPS.user.askDeactivation(who(ctx)),
      },
      [
        ctx.input.connectorId,
        { jumpcloudUserId: ctx.input.jumpcloudUserId, ...(request.batch ? { batch: request.batch } : {}) },
      ],
    );
  if (decision === 'granted') return true;
  ctx.state.held = { reason: operation.reason, since: previouslyHeld?.since ?? new Date().toISOString() };
  steps.push({
    step,
    outcome: 'held: more deactivations than DEACTIVATION_THRESHOLD; awaiting `jc-notion approve`',
  });
  return false;
}

/**
 * C6 for creations (issue 14): a first bulk creation above the threshold waits for an admin; a
 * held or rejected creation stays so until an admin decides or a reconciliation proposes it again.
 */
export function creationAllowed(ctx: UserContext, run: UserRun, userName: string): boolean {
  const { request, previouslyHeld, steps } = run;
  if (request.deactivation === 'approved') return true;
  const step = `create Notion user ${userName}`;
  if (run.previouslyRejected && !request.reconcileId) {
    run.rejectionKept = true;
    steps.push({
      step,
      outcome: 'skipped: an admin rejected this creation; the next reconciliation proposes it again',
    });
    return false;
  }
  if (request.creation !== 'hold' && previouslyHeld?.kind !== 'create') return true;
  ctx.state.held = {
    kind: 'create',
    reason: 'the first reconciliation creates more members than DEACTIVATION_THRESHOLD',
    since: previouslyHeld?.since ?? new Date().toISOString(),
  };
  steps.push({
    step,
    outcome: 'held: a first bulk creation above DEACTIVATION_THRESHOLD; awaiting `jc-notion approve`',
  });
  return false;
}
