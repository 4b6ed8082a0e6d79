/**
 * Workflow code of the rate benchmark (bench/rate.ts), bundled on its own: reads every id at once
 * through the product's rate-limited Notion activity. Deterministic: workflow code only.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities, NotionActivities } from '../../activities';

export interface NotionReadsInput {
  notionQueue: string;
  ids: string[];
  /** Dry-run reconciliations to run meanwhile (bulk reads whose permits come from the pacer). */
  bulkReads?: number;
  mainQueue?: string;
  connectorId?: string;
}

/** Counts the users found by the single reads. */
export async function notionReadsWorkflow(input: NotionReadsInput): Promise<number> {
  const { reconcileUsers } = proxyActivities<Activities>({
    taskQueue: input.mainQueue ?? input.notionQueue,
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '2 minutes',
  });
  const bulk = Promise.all(
    Array.from({ length: input.bulkReads ?? 0 }, (_, i) =>
      reconcileUsers({
        connectorId: input.connectorId ?? 'default',
        reconcileId: `bench-${i}`,
        dryRun: true,
      }),
    ),
  );
  const { notionGetUser } = proxyActivities<NotionActivities>({
    taskQueue: input.notionQueue,
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '200 ms', maximumAttempts: 20 },
  });
  const users = await Promise.all(input.ids.map((id) => notionGetUser(id)));
  await bulk;
  return users.filter((user) => user !== null).length;
}
