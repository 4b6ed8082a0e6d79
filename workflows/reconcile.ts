/**
 * One full reconciliation (`jcn/<connector>/reconcile/<id>`), started by the connector (on
 * `jc-notion sync`, later by a Schedule). The work is one activity that reads both sides in bulk
 * and signals only the users that differ; the summary goes back to the connector for `status`.
 */
import { getExternalWorkflowHandle, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities, ReconcileSummary } from '../activities';
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
