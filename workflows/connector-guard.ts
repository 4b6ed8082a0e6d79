/**
 * C6 in the connector workflow: the mass-deactivation guard's Updates (one user's deactivation,
 * a reconciliation's reservation, an admin's decision) and the approval alert, sent a little after
 * the first hold so that it counts a whole batch. The arithmetic is pure (deactivation-ledger.ts).
 */
import { setHandler } from '@temporalio/workflow';
import {
  decideDeactivationsUpdate,
  requestDeactivationUpdate,
  requestGroupChangeUpdate,
  reserveCreationsUpdate,
  reserveDeactivationsUpdate,
  type DeactivationDecision,
} from '../contracts/connector';
import type { ConnectorContext } from './connector-context';
import type { Timed } from './connector-credentials';
import {
  addToApproval,
  approvalAlert,
  decideDeactivation,
  decideGroupChange,
  pruneGuard,
  reserveCreations,
  reserveDeactivations,
  type GuardDecision,
} from './deactivation-ledger';
import { STEPS } from './summaries';

/** The alert waits a little so that it counts a whole batch, not its first member. */
const APPROVAL_ALERT_DELAY_MS = 10_000;

export function handleDeactivationGuard(ctx: ConnectorContext, windowMs: number | undefined): Timed {
  const { state } = ctx;
  let alertAt = 0;
  const pruned = () => pruneGuard(state.deactivationGuard, Date.now(), windowMs);
  const record = (
    { decision, guard, held }: GuardDecision,
    kind: 'deactivation' | 'group' = 'deactivation',
  ): DeactivationDecision => {
    state.deactivationGuard = guard;
    if (held) {
      if (!state.approval) alertAt = Date.now() + APPROVAL_ALERT_DELAY_MS;
      state.approval = addToApproval(state.approval, held, new Date().toISOString(), kind);
    }
    return decision;
  };

  setHandler(requestDeactivationUpdate, (request) => {
    const decided = decideDeactivation(pruned(), request, Date.now());
    // A batch asked for by the feed: its users, held too, count themselves as they ask.
    return record(request.forBatch ? { decision: decided.decision, guard: decided.guard } : decided);
  });
  setHandler(reserveDeactivationsUpdate, (request) =>
    record(reserveDeactivations(pruned(), request, Date.now())),
  );
  setHandler(requestGroupChangeUpdate, (request) =>
    record(decideGroupChange(pruned(), request, Date.now()), 'group'),
  );
  setHandler(reserveCreationsUpdate, (request) => {
    const { decision, trusted, held } = reserveCreations(Boolean(state.creationsTrusted), request);
    state.creationsTrusted = trusted;
    if (held) {
      if (!state.approval) alertAt = Date.now() + APPROVAL_ALERT_DELAY_MS;
      state.approval = addToApproval(state.approval, held, new Date().toISOString(), 'creation');
    }
    return decision;
  });
  setHandler(decideDeactivationsUpdate, async (request) => {
    const { decision, expect } =
      typeof request === 'string' ? { decision: request, expect: undefined } : request;
    const users = await ctx.patient.releaseHeldDeactivations.executeWithOptions(
      { summary: STEPS.connector.decideHeld(decision) },
      expect === undefined ? [state.connectorId, decision] : [state.connectorId, decision, expect],
    );
    // An approved bulk creation is trusted: later reconciliations create without asking.
    if (decision === 'approve' && state.approval?.creations) state.creationsTrusted = true;
    state.approval = undefined;
    state.lastApproval = { decision, at: new Date().toISOString(), users };
    return { decision, users };
  });

  const alertDue = () => Boolean(state.approval && !state.approval.alerted);
  return {
    dueAt: () => (alertDue() ? alertAt : undefined),
    run: async (now) => {
      if (alertDue() && now >= alertAt && state.approval) {
        state.approval.alerted = true;
        ctx.alerts.push(approvalAlert(state.approval));
      }
      return Promise.resolve();
    },
  };
}
