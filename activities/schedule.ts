/**
 * C5: the periodic full reconciliation as a Temporal Schedule (`jcn/<connector>/reconcile-schedule`).
 * Created when the connector is activated (idempotently: an existing schedule is updated to the
 * workers' RECONCILE_INTERVAL and unpaused), paused when it is deactivated. Overlap policy SKIP:
 * a run never starts while the previous one is still going.
 */
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
} from '@temporalio/client';
import { workflowIds } from '../temporal/ids';
import { taskQueues } from '../temporal/task-queues';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import type { ReconcileWorkflowInput } from '../contracts/reconcile';
import { STARTS } from '../workflows/summaries';

export const reconcileScheduleId = (connectorId: string) => `jcn/${connectorId}/reconcile-schedule`;

export interface ScheduleState {
  scheduleId: string;
  intervalMs: number;
  paused: boolean;
}

export async function ensureReconcileSchedule(
  client: Client,
  options: { connectorId: string; taskQueue: string; intervalMs: number },
): Promise<ScheduleState> {
  const scheduleId = reconcileScheduleId(options.connectorId);
  const input: ReconcileWorkflowInput = {
    connectorId: options.connectorId,
    reconcileId: 'scheduled',
    dryRun: false,
    scheduled: true,
  };
  const spec = { intervals: [{ every: options.intervalMs }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'reconcileWorkflow',
    args: [input],
    // The connector's own queue (temporal/task-queues.ts), like the reconciliations it starts.
    taskQueue: taskQueues(options.taskQueue).control,
    // The Schedule appends the scheduled time: `…/reconcile/scheduled-2026-12-01T20:00:00Z`.
    workflowId: workflowIds.reconcile(options.connectorId, 'scheduled'),
    typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.connectorId, value: options.connectorId }],
    staticSummary: STARTS.reconcile.scheduled(options.connectorId),
  };
  const note = 'connector activated';
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
      state: { paused: false, note },
    });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    const handle = client.schedule.getHandle(scheduleId);
    await handle.update((previous) => ({
      ...previous,
      spec,
      action,
      policies: { ...previous.policies, overlap: ScheduleOverlapPolicy.SKIP },
    }));
    await handle.unpause(note);
  }
  return { scheduleId, intervalMs: options.intervalMs, paused: false };
}

/** C2: no scheduled run starts while the connector is deactivated (the schedule is kept, paused). */
export async function pauseReconcileSchedule(
  client: Client,
  connectorId: string,
): Promise<ScheduleState | null> {
  const scheduleId = reconcileScheduleId(connectorId);
  const handle = client.schedule.getHandle(scheduleId);
  try {
    await handle.pause('connector deactivated');
    const description = await handle.describe();
    const every = description.spec.intervals?.[0]?.every;
    return { scheduleId, intervalMs: typeof every === 'number' ? every : 0, paused: true };
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return null;
    throw error;
  }
}
