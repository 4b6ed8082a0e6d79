/**
 * The per-request permit Update of ADR 0004, superseded by the pacer (ADR 0012): activities no
 * longer send it. The handler stays registered so that histories recorded before (which hold
 * these Updates) still replay, and so that an activity of an older worker still in flight during
 * a rolling upgrade gets its permit.
 */
import { proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { JumpCloudActivities, NotionActivities } from '../activities';
import { taskQueues } from '../temporal/task-queues';
import { requestPermitUpdate } from '../contracts/reconcile';

/** The no-op permit activities of both rate-limited queues (this handler's and the pacer's). */
export function permitActivities(): { notion: () => Promise<void>; jumpcloud: () => Promise<void> } {
  const queues = taskQueues(workflowInfo().taskQueue);
  const permit = { startToCloseTimeout: '1 minute', retry: { initialInterval: '1 second' } } as const;
  const { notionPermit } = proxyActivities<NotionActivities>({ ...permit, taskQueue: queues.notion });
  const { jumpcloudPermit } = proxyActivities<JumpCloudActivities>({
    ...permit,
    taskQueue: queues.jumpcloud,
  });
  return { notion: notionPermit, jumpcloud: jumpcloudPermit };
}

export function handlePermitRequests(): void {
  const permits = permitActivities();
  setHandler(requestPermitUpdate, async (service) => {
    await permits[service]();
  });
}
