/**
 * Request permits for bulk reads (ADR 0004). A workflow whose activity reads in bulk registers
 * this handler; the activity asks it for a permit before each request, and the handler runs a
 * no-op activity on the service's rate-limited task queue, so the server's cluster-wide limit
 * paces bulk reads and single requests alike.
 */
import { proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { JumpCloudActivities, NotionActivities } from '../activities';
import { taskQueues } from '../temporal/task-queues';
import { requestPermitUpdate } from '../contracts/reconcile';

export function handlePermitRequests(): void {
  const queues = taskQueues(workflowInfo().taskQueue);
  const permit = { startToCloseTimeout: '1 minute', retry: { initialInterval: '1 second' } } as const;
  const { notionPermit } = proxyActivities<NotionActivities>({ ...permit, taskQueue: queues.notion });
  const { jumpcloudPermit } = proxyActivities<JumpCloudActivities>({
    ...permit,
    taskQueue: queues.jumpcloud,
  });
  setHandler(requestPermitUpdate, async (service) => {
    await (service === 'notion' ? notionPermit() : jumpcloudPermit());
  });
}
