/** What the admin commands need from Temporal: the connector workflow and a live worker. */
import { type Client, WithStartWorkflowOperation } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Config } from '../config/config';
import { updateWhenFree } from '../temporal/busy';
import { workflowIds } from '../temporal/ids';
import { taskQueues } from '../temporal/task-queues';
import { connectorWorkflow } from '../workflows';
import { STARTS } from '../workflows/summaries';
import { CliError } from './errors';

/** How long a command waits for the workers before saying so. */
export const COMMAND_TIMEOUT_MS = 30_000;
/** Commands that act on many entities at once (`approve`, `reject`: thousands of signals). */
export const BULK_COMMAND_TIMEOUT_MS = 300_000;

/** Fails with a clear reason when no worker polls the task queue (every command would hang). */
export async function requireWorkers(client: Client, config: Config): Promise<number> {
  const { namespace, taskQueue } = config.temporal;
  const response = await client.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  const pollers = response.pollers?.length ?? 0;
  if (pollers === 0) {
    throw new CliError(
      `no worker is polling task queue "${taskQueue}" in namespace "${namespace}" at ${config.temporal.address}: start one with \`jc-notion worker\``,
    );
  }
  return pollers;
}

/** The start-if-absent operation for the connector workflow, for Update-With-Start. */
export function connectorStart(config: Config): WithStartWorkflowOperation<typeof connectorWorkflow> {
  return new WithStartWorkflowOperation(connectorWorkflow, {
    workflowId: workflowIds.connector(config.connectorId),
    // Its own queue: its tasks never wait behind the entity workflows' (temporal/task-queues.ts).
    taskQueue: taskQueues(config.temporal.taskQueue).control,
    args: [{ connectorId: config.connectorId }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    // Issue 19: what the Temporal UI shows of it.
    staticSummary: STARTS.connector.summary(config.connectorId),
    staticDetails: STARTS.connector.details(),
  });
}

/**
 * Runs `fn` with a deadline, turning a timeout into a reason an admin can act on. An Update that
 * Temporal did not take in (the connector busy with others, or not answered by its task) is asked
 * again until then: it never ran, so `fn` runs again from its start.
 */
export async function withWorkerDeadline<T>(
  client: Client,
  config: Config,
  fn: () => Promise<T>,
  timeoutMs = COMMAND_TIMEOUT_MS,
): Promise<T> {
  try {
    return await client.withDeadline(Date.now() + timeoutMs, () =>
      updateWhenFree(fn, { maxWaitMs: timeoutMs }),
    );
  } catch (error) {
    if (error instanceof Error && /deadline|DEADLINE_EXCEEDED/i.test(error.message)) {
      throw new CliError(
        `the workers on task queue "${config.temporal.taskQueue}" did not answer within ${timeoutMs / 1000} s`,
      );
    }
    throw error;
  }
}
