/**
 * The product's task queues. Every activity that calls Notion runs on `<queue>-notion`, every one
 * that calls JumpCloud on `<queue>-jumpcloud`, one request per activity (bulk reads take a permit
 * per page from the same queue: docs/adr/0004-request-rates.md). Workers set `maxTaskQueueActivitiesPerSecond` on those
 * queues, which the Temporal server enforces across all workers: NOTION_MAX_RPS and
 * JUMPCLOUD_MAX_RPS become cluster-wide limits without shared state of our own. Pure: workflow
 * code imports it.
 */
export interface TaskQueues {
  /** Workflows and activities that call no external API. */
  main: string;
  notion: string;
  jumpcloud: string;
}

export function taskQueues(main: string): TaskQueues {
  return { main, notion: `${main}-notion`, jumpcloud: `${main}-jumpcloud` };
}
