/**
 * What the connector workflow's parts share: its state, the alerts waiting to be mailed, its
 * activities, and starting its children (reconciliations, the change feed).
 */
import {
  ParentClosePolicy,
  patched,
  proxyActivities,
  startChild,
  uuid4,
  workflowInfo,
  type ActivityInterfaceFor,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities, JumpCloudActivities, NotionActivities } from '../activities';
import { reconcileEndedUnreported, type ConnectorStatus, type ReconcileReport } from '../contracts/connector';
import { reconcileIdOf, workflowIds } from '../temporal/ids';
import { taskQueues } from '../temporal/task-queues';
import type { Alert } from './credentials-state';
import { feedWorkflow } from './feed';
import { reconcileWorkflow } from './reconcile';
import { STARTS, STEPS } from './summaries';

export interface ConnectorContext {
  state: ConnectorStatus;
  /** Mailed by the main loop, before continue-as-new (which does not carry them over). */
  alerts: Alert[];
  notion: ActivityInterfaceFor<NotionActivities>;
  jumpcloud: ActivityInterfaceFor<JumpCloudActivities>;
  /** Quick local work, a few attempts. */
  main: ActivityInterfaceFor<Activities>;
  /** Alerts and releases of held deactivations are worth some patience (the SMTP server may be down). */
  patient: ActivityInterfaceFor<Activities>;
  startReconcile(dryRun: boolean): Promise<{ workflowId: string; reconcileId: string }>;
  /**
   * C5: whether the reconciliation on record still runs. One that ended without reporting back
   * (terminated by an admin, timed out) is recorded as ended, so that it blocks nothing.
   */
  reconcileInProgress(): Promise<boolean>;
  /** Records the end of a reconciliation (its own report, or the finding that it is gone). */
  reconcileEnded(report: ReconcileReport): void;
  startFeed(): Promise<void>;
}

export function connectorContext(state: ConnectorStatus): ConnectorContext {
  const queues = taskQueues(workflowInfo().taskQueue);
  // Verification answers an admin who waits: few attempts, short timeouts.
  const verify = {
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumAttempts: 2 },
  } as const;
  const ctx: ConnectorContext = {
    state,
    alerts: [],
    notion: proxyActivities<NotionActivities>({ ...verify, taskQueue: queues.notion }),
    jumpcloud: proxyActivities<JumpCloudActivities>({ ...verify, taskQueue: queues.jumpcloud }),
    main: proxyActivities<Activities>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 3 } }),
    patient: proxyActivities<Activities>({
      startToCloseTimeout: '1 minute',
      retry: { initialInterval: '5 seconds', maximumAttempts: 10 },
    }),

    async startReconcile(dryRun) {
      const reconcileId = `${new Date().toISOString()}-${uuid4().slice(0, 8)}`;
      const workflowId = workflowIds.reconcile(state.connectorId, reconcileId);
      await startChild(reconcileWorkflow, {
        workflowId,
        args: [
          { connectorId: state.connectorId, reconcileId, dryRun, groupManagement: state.groupManagement },
        ],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        staticSummary: STARTS.reconcile.summary(reconcileId, dryRun),
      });
      if (!dryRun) state.runningReconcile = workflowId;
      return { workflowId, reconcileId };
    },

    async reconcileInProgress() {
      const recorded = state.runningReconcile;
      if (!recorded) return false;
      if (!patched('stale-reconcile-check')) return true;
      const status = await ctx.main.workflowStatus.executeWithOptions(
        { summary: STEPS.connector.reconcileRunning() },
        [recorded],
      );
      if (status === 'RUNNING') return true;
      const reconcileId = reconcileIdOf(recorded);
      ctx.reconcileEnded({ reconcileId, dryRun: false, error: reconcileEndedUnreported(status) });
      return false;
    },

    reconcileEnded({ reconcileId, dryRun, summary, error }) {
      if (dryRun) return;
      state.lastReconcile = {
        reconcileId,
        dryRun,
        // `2026-12-01T20:00:00.000Z-1a2b3c4d` (on demand) or `scheduled-2026-12-01T20:00:00Z`.
        startedAt: /\d{4}-\d\d-\d\dT[\d:.]+Z/.exec(reconcileId)?.[0] ?? reconcileId,
        finishedAt: new Date().toISOString(),
        summary,
        error,
      };
      if (state.runningReconcile?.endsWith(reconcileId)) state.runningReconcile = undefined;
    },

    /** C4: the change feed runs while the connector is activated (one per connector). */
    async startFeed() {
      const workflowId = workflowIds.feed(state.connectorId);
      try {
        await startChild(feedWorkflow, {
          workflowId,
          args: [
            { connectorId: state.connectorId, cursor: { watermark: new Date().toISOString(), seen: [] } },
          ],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          staticSummary: STARTS.feed.summary(state.connectorId),
        });
      } catch (error) {
        // Already polling (activated twice): its cursor is the one to keep.
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
      state.feed = workflowId;
    },
  };
  return ctx;
}
