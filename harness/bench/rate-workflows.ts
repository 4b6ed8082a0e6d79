/**
 * Workflow code of the rate benchmark (bench/rate.ts), bundled on its own: reads every id at once
 * through the product's rate-limited Notion activity. Deterministic: workflow code only.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { NotionActivities } from '../../activities';

export interface NotionReadsInput {
  notionQueue: string;
  ids: string[];
}

/** Counts the users found. */
export async function notionReadsWorkflow(input: NotionReadsInput): Promise<number> {
  const { notionGetUser } = proxyActivities<NotionActivities>({
    taskQueue: input.notionQueue,
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '200 ms', maximumAttempts: 20 },
  });
  const users = await Promise.all(input.ids.map((id) => notionGetUser(id)));
  return users.filter((user) => user !== null).length;
}
