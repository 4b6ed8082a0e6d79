/**
 * C6, the mass-deactivation guard's arithmetic: a rolling window (one hour) of granted
 * deactivations, the decisions taken per batch (all members of one change or reconciliation share
 * one), and the held count an admin is asked to approve. Pure: the connector workflow passes the
 * clock in (Temporal's, in workflow code) and stores what these functions return.
 */
import type { ApprovalStatus, DeactivationDecision, DeactivationGuardState } from '../contracts/connector';

/** The rolling window of DEACTIVATION_THRESHOLD. */
export const DEACTIVATION_WINDOW_MS = 3_600_000;

export interface Held {
  count: number;
  reason: string;
}

export interface GuardDecision {
  decision: DeactivationDecision;
  guard: DeactivationGuardState;
  /** Present when the decision holds deactivations: what to add to the approval. */
  held?: Held;
}

/** The guard without the entries that left the window. */
export function pruneGuard(
  guard: DeactivationGuardState | undefined,
  now: number,
  windowMs = DEACTIVATION_WINDOW_MS,
): DeactivationGuardState {
  const ledger = (guard?.ledger ?? []).filter((entry) => now - entry.at < windowMs);
  const batches = Object.fromEntries(
    Object.entries(guard?.batches ?? {}).filter(([, batch]) => now - batch.at < windowMs),
  );
  const groupLedger = guard?.groupLedger?.filter((at) => now - at < windowMs);
  return { ledger, batches, ...(groupLedger ? { groupLedger } : {}) };
}

/**
 * A group creation or deletion (issue 14): counted in a window of its own, one by one; past the
 * threshold within the hour, held for an admin like deactivations.
 */
export function decideGroupChange(
  pruned: DeactivationGuardState,
  request: { threshold: number; change: 'create' | 'delete' },
  now: number,
): GuardDecision {
  const granted = pruned.groupLedger ?? [];
  if (granted.length + 1 > request.threshold)
    return {
      decision: 'held',
      guard: pruned,
      held: {
        count: 1,
        reason: `more than ${request.threshold} group creations or deletions in one hour (DEACTIVATION_THRESHOLD)`,
      },
    };
  return { decision: 'granted', guard: { ...pruned, groupLedger: [...granted, now] } };
}

/** Deactivations granted within the window. */
export function grantedInWindow(guard: DeactivationGuardState): number {
  return guard.ledger.reduce((sum, entry) => sum + entry.count, 0);
}

function windowReason(threshold: number): string {
  return `more than ${threshold} deactivations in one hour (DEACTIVATION_THRESHOLD)`;
}

/**
 * One user's deactivation. A batch (a group unbound, a bulk change) is decided once, for its
 * whole size, and its later members get the same answer; a held member adds one to the approval.
 */
export function decideDeactivation(
  pruned: DeactivationGuardState,
  request: { threshold: number; batch?: { id: string; size: number } },
  now: number,
): GuardDecision {
  const { threshold, batch } = request;
  const known = batch ? pruned.batches[batch.id] : undefined;
  if (known) {
    // A held batch's members each add themselves, with the reason the batch was held for.
    const held = known.decision === 'held' ? { count: 1, reason: known.reason ?? 'held' } : undefined;
    return { decision: known.decision, guard: pruned, ...(held ? { held } : {}) };
  }
  const size = batch?.size ?? 1;
  const decision: DeactivationDecision = grantedInWindow(pruned) + size > threshold ? 'held' : 'granted';
  const reason =
    decision === 'granted'
      ? undefined
      : batch && batch.size > threshold
        ? `one change would deactivate ${batch.size} users (DEACTIVATION_THRESHOLD ${threshold})`
        : windowReason(threshold);
  const guard: DeactivationGuardState = {
    ledger: decision === 'granted' ? [...pruned.ledger, { at: now, count: size }] : pruned.ledger,
    batches: batch
      ? { ...pruned.batches, [batch.id]: { decision, at: now, ...(reason ? { reason } : {}) } }
      : pruned.batches,
  };
  return reason === undefined ? { decision, guard } : { decision, guard, held: { count: 1, reason } };
}

/** A reconciliation's deactivations, reserved all at once before any is applied. */
export function reserveDeactivations(
  pruned: DeactivationGuardState,
  request: { count: number; threshold: number },
  now: number,
): GuardDecision {
  const { count, threshold } = request;
  if (count > threshold || grantedInWindow(pruned) + count > threshold) {
    const reason =
      count > threshold
        ? `one reconciliation would deactivate ${count} users (DEACTIVATION_THRESHOLD ${threshold})`
        : windowReason(threshold);
    return { decision: 'held', guard: pruned, held: { count, reason } };
  }
  return { decision: 'granted', guard: { ...pruned, ledger: [...pruned.ledger, { at: now, count }] } };
}

/**
 * A reconciliation's creations (issue 14): held while no bulk creation has been trusted (granted
 * or approved) and there are more than the threshold; once trusted, never held again.
 */
export function reserveCreations(
  trusted: boolean,
  request: { count: number; threshold: number },
): { decision: DeactivationDecision; trusted: boolean; held?: Held } {
  const { count, threshold } = request;
  if (trusted || count <= threshold) return { decision: 'granted', trusted: trusted || count > 0 };
  return {
    decision: 'held',
    trusted: false,
    held: {
      count,
      reason: `the first reconciliation would create ${count} Notion members (DEACTIVATION_THRESHOLD ${threshold}): is JUMPCLOUD_APP_ID the right application?`,
    },
  };
}

/** The approval with newly held changes added; its first reason and start are kept. */
export function addToApproval(
  approval: ApprovalStatus | undefined,
  held: Held,
  at: string,
  kind: 'deactivation' | 'creation' | 'group' = 'deactivation',
): ApprovalStatus {
  const creations = (approval?.creations ?? 0) + (kind === 'deactivation' ? 0 : held.count);
  return {
    since: approval?.since ?? at,
    held: (approval?.held ?? 0) + held.count,
    reason: approval?.reason ?? held.reason,
    alerted: approval?.alerted,
    ...(creations > 0 ? { creations } : {}),
  };
}

/** The mail that tells the admin deactivations wait for a decision. */
export function approvalAlert(approval: ApprovalStatus): { subject: string; text: string } {
  return {
    subject: approval.creations
      ? `${approval.held} change(s) await approval`
      : `${approval.held} deactivation(s) await approval`,
    text: [
      `${approval.creations ? 'Changes' : 'Deactivations'} are held: ${approval.reason}.`,
      'Nothing else is held up. Review them with `jc-notion status`, then run `jc-notion approve` to apply them',
      'or `jc-notion reject` to drop them.',
    ].join('\n'),
  };
}
