/**
 * The reconciliation workflow's contract (`jcn/<connector>/reconcile/<id>`, C5/C7): its input, its
 * summary, and the permit Update its bulk-read activity asks for.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { UserOperation } from '../workflows/user-plan';

/**
 * A request permit for the reconcile activity's bulk reads (ADR 0004): the handler runs a no-op
 * activity on the service's rate-limited task queue, so the server's cluster-wide limit paces
 * bulk reads and single requests alike.
 */
export const requestPermitUpdate = defineUpdate<void, ['notion' | 'jumpcloud']>('requestPermit');

/** Issue 15: where a running reconciliation is, for `jc-notion sync`'s progress. */
export interface ReconcileProgress {
  phase: 'starting' | 'reading' | 'users' | 'groups';
  /**
   * Users handed to their workflows, or to be (known once both sides are read and planned; the
   * activity's final count once it ended).
   */
  dispatched?: number;
  groupsDispatched?: number;
}
export const reconcileProgressQuery = defineQuery<ReconcileProgress>('progress');

/**
 * Issue 18: sent by the reconciliation's own activity once it has planned, before it hands the
 * users over (a window at a time, which lasts as long as the sync): how many it will hand over,
 * so that `jc-notion sync` shows the users' progress while they are handed over. A count only.
 */
export const handOverStartedSignal = defineSignal<[{ users: number }]>('handOverStarted');

export interface ReconcileWorkflowInput {
  connectorId: string;
  reconcileId: string;
  dryRun: boolean;
  /** G8: groups are reconciled only while group management is enabled. */
  groupManagement?: boolean;
  /**
   * C5: started by the connector's Schedule. The run then asks the connector for its state (it
   * skips when deactivated or when another reconciliation is running) and takes its id from the
   * workflow id the Schedule gave it.
   */
  scheduled?: boolean;
}

export interface PlanEntry {
  jumpcloudId: string;
  username?: string;
  operations: string[];
}

export interface GroupPlanEntry {
  jumpcloudId: string;
  name?: string;
  operations: string[];
}

export interface ReconcileSummary {
  reconcileId: string;
  dryRun: boolean;
  jumpcloudInScope: number;
  notionMembers: number;
  /** False when Notion's listing was unreliable: absences were then not acted on. */
  notionListingComplete: boolean;
  /**
   * Why a JumpCloud listing did not add up after being read again (issue 14): users missing from
   * it were left as they are (`unconfirmed`), never deactivated on its word.
   */
  jumpcloudListingProblems?: string[];
  unconfirmed?: number;
  /**
   * Issue 15: users whose JumpCloud record (or whose Notion member's) does not fit the schema:
   * handed to their workflows, which record the error (U9); nothing else is concluded.
   */
  unreadable?: number;
  /** Users whose email is another's once normalised and case-folded: nothing written (issue 14). */
  conflicts?: number;
  /** Dry run: user groups bound to the application, directly or nested (the activation preview). */
  jumpcloudGroupsInScope?: number;
  planned: Record<UserOperation['kind'] | 'retry', number>;
  /**
   * User workflows signalled: by the attempt that completed, plus `settledEarlier` (the users an
   * earlier attempt of a retried reconciliation had already brought to a settled state).
   */
  dispatched: number;
  /**
   * What the users signalled by this attempt of the activity publish in `JcnReconcileIds` once
   * settled: the reconcileId, or `<reconcileId>#<attempt>` for a retried attempt (users an earlier
   * attempt signalled settle the reconcileId too: the workflow waits for this attempt's own).
   */
  settleId?: string;
  /**
   * Issue 15: a retried attempt: users that had settled this reconciliation's request in an earlier
   * attempt and were not handed over again (counted in `dispatched`, not waited for).
   */
  settledEarlier?: number;
  /** C6: deactivations held for approval (above DEACTIVATION_THRESHOLD). */
  held?: number;
  /** C6 (issue 14): creations held for approval (a first bulk creation above the threshold). */
  heldCreations?: number;
  /**
   * Issue 15: what the users (and groups) handed over had settled when the reconciliation
   * reported: `complete` unless it stopped waiting at its deadline.
   */
  settled?: { users: number; failed: number; groups?: number; complete: boolean };
  /** Group workflows signalled (group management enabled). */
  groupsDispatched?: number;
  /** Dry run with group management enabled: what each group would get. */
  groupPlan?: GroupPlanEntry[];
  /** Dry run: what would be done, per user (at most PLAN_LIMIT entries). */
  plan?: PlanEntry[];
  truncated?: number;
}
