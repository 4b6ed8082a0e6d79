/**
 * The product's task queues, each connector's own (`connectorTaskQueue`). The entity workflows run on `<queue>`, the connector and the other
 * workflows of its own on `<queue>-control`. Every activity that calls Notion runs on `<queue>-notion`, every one
 * that calls JumpCloud on `<queue>-jumpcloud`, one request per activity (bulk reads take a permit
 * per page from the same queue: docs/adr/0004-request-rates.md). Workers set `maxTaskQueueActivitiesPerSecond` on those
 * queues, which the Temporal server enforces across all workers: NOTION_MAX_RPS and
 * JUMPCLOUD_MAX_RPS become cluster-wide limits without shared state of our own. Pure: workflow
 * code imports it.
 */
export interface TaskQueues {
  /** Workflows and activities that call no external API: the entity workflows. */
  main: string;
  /**
   * The connector, its feed and reconciliations, and the pacer, with their main-queue activities
   * (issue 15). Their workflow tasks must not wait behind the entity workflows' backlog: after a
   * bulk change, thousands of user tasks queued ahead of the pacer's starved every permit, and of
   * the connector's starved every C6 decision, for minutes.
   */
  control: string;
  notion: string;
  jumpcloud: string;
}

/**
 * Issue 16: a connector's main queue, from the configured one and its id, so that two connectors
 * on one namespace never poll each other's queues: `<queue>@<connector>` (a configured queue
 * cannot contain `@`, so no two connectors' names meet). The connector `default` keeps the
 * configured name as it is: deployments from before keep their running workflows' queues.
 */
export function connectorTaskQueue(configured: string, connectorId: string): string {
  return connectorId === DEFAULT_CONNECTOR_ID ? configured : `${configured}@${connectorId}`;
}

/** The connector id when none is configured. */
export const DEFAULT_CONNECTOR_ID = 'default';

/** The suffixes of the derived queues; a configured queue name may not end with one. */
export const DERIVED_QUEUE_SUFFIXES = ['-control', '-notion', '-jumpcloud'] as const;

/** The product's queues, from the configured one or from the control queue (workflow code). */
export function taskQueues(queue: string): TaskQueues {
  const main = queue.endsWith('-control') ? queue.slice(0, -'-control'.length) : queue;
  return { main, control: `${main}-control`, notion: `${main}-notion`, jumpcloud: `${main}-jumpcloud` };
}
