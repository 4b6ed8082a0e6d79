/**
 * One full reconciliation (`jcn/<connector>/reconcile/<id>`), started by the connector (on
 * `jc-notion sync`, later by a Schedule). The work is one activity that reads both sides in bulk
 * and signals only the users that differ; the summary goes back to the connector for `status`.
 */
import {
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, JumpCloudActivities, NotionActivities, ReconcileSummary } from '../activities';
import { taskQueues } from '../temporal/task-queues';
import { requestPermitUpdate } from './reconcile-messages';
import { workflowIds } from '../temporal/ids';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { reconcileFinishedSignal } from './connector-messages';

export interface ReconcileWorkflowInput {
  connectorId: string;
  reconcileId: string;
  dryRun: boolean;
}

const { reconcileUsers } = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '10 seconds', maximumAttempts: 3 },
});

export async function reconcileWorkflow(input: ReconcileWorkflowInput): Promise<ReconcileSummary> {
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.connectorId, value: input.connectorId },
    { key: SEARCH_ATTRIBUTES.kind, value: 'reconcile' },
    { key: SEARCH_ATTRIBUTES.reconcileId, value: input.reconcileId },
  ]);
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
  const connector = getExternalWorkflowHandle(workflowIds.connector(input.connectorId));
  try {
    const summary = await reconcileUsers(input);
    await connector.signal(reconcileFinishedSignal, {
      reconcileId: input.reconcileId,
      dryRun: input.dryRun,
      summary,
    });
    return summary;
  } catch (error) {
    const message =
      error instanceof Error
        ? error.cause instanceof Error
          ? error.cause.message
          : error.message
        : String(error);
    await connector.signal(reconcileFinishedSignal, {
      reconcileId: input.reconcileId,
      dryRun: input.dryRun,
      error: message,
    });
    throw error;
  }
}
