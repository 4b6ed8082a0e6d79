/** Issue 15: an Update turned away because the workflow is busy with others is asked again. */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { temporal as temporalProto } from '@temporalio/proto';
import { withWorkerDeadline } from '../client/temporal';
import { parseConfig } from '../config/config';
import { isBusyWithUpdates, updateWhenFree } from '../temporal/busy';
import { TEST_SECRETS } from './support/config';
import { startTestTemporal, uniqueTaskQueue, type TestTemporal } from './support/temporal';

const grpcError = (code: number, message: string) => Object.assign(new Error(message), { code });

test('issue 15 (C6): "too many in-flight updates" (RESOURCE_EXHAUSTED) and an aborted Update are asked again; other errors are not', async () => {
  expect(
    isBusyWithUpdates(grpcError(8, 'Limit on number of concurrent in-flight updates has been reached (10)')),
  ).toBe(true);
  expect(
    isBusyWithUpdates(new Error('wrapped', { cause: grpcError(14, 'workflow update was aborted') })),
  ).toBe(true);
  expect(isBusyWithUpdates(grpcError(5, 'not found'))).toBe(false);
  expect(isBusyWithUpdates(new Error('validator refused'))).toBe(false);
  // The outermost status is the answer: a NOT_FOUND that carries a busy cause is a NOT_FOUND.
  expect(isBusyWithUpdates(Object.assign(grpcError(5, 'not found'), { cause: grpcError(8, 'busy') }))).toBe(
    false,
  );
  // A cause chain that loops back ends the walk instead of spinning.
  const looped = new Error('outer');
  looped.cause = new Error('inner', { cause: looped });
  expect(isBusyWithUpdates(looped)).toBe(false);

  let calls = 0;
  const answer = await updateWhenFree(() => {
    calls += 1;
    return calls < 4
      ? Promise.reject(grpcError(8, 'Limit on number of concurrent in-flight updates has been reached (10)'))
      : Promise.resolve('granted');
  });
  expect([answer, calls]).toEqual(['granted', 4]);
  await expect(updateWhenFree(() => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
});

test('issue 15: a cancelled activity stops asking, and stops waiting for an Update under way', async () => {
  const cancelled = new AbortController();
  let calls = 0;
  const asking = updateWhenFree(
    () => {
      calls += 1;
      return Promise.reject(
        grpcError(8, 'Limit on number of concurrent in-flight updates has been reached (10)'),
      );
    },
    { signal: cancelled.signal },
  );
  setTimeout(() => cancelled.abort(new Error('activity cancelled')), 50);
  await expect(asking).rejects.toThrow('activity cancelled');
  const asked = calls;
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(calls).toBe(asked);

  const stopped = new AbortController();
  const waiting = updateWhenFree(() => new Promise<string>(() => undefined), { signal: stopped.signal });
  stopped.abort(new Error('activity cancelled'));
  await expect(waiting).rejects.toThrow('activity cancelled');
});

describe('on a real dev server', () => {
  let temporal: TestTemporal;
  beforeAll(async () => {
    temporal = await startTestTemporal();
  });
  afterAll(async () => {
    await temporal?.stop();
  });

  /**
   * A worker that completes the workflow task carrying an Update without answering it: the server
   * then rejects the Update as `UnprocessedUpdate`. A real worker did so once under load in CI
   * (`jc-notion status` failed with "Workflow Update is rejected because it wasn't processed by
   * worker"); it never ran, so it is asked again like a busy answer.
   */
  test('an Update that a workflow task completed without answering (UnprocessedUpdate) is asked again, by the admin commands too', async () => {
    const { client, namespace } = temporal;
    const taskQueue = uniqueTaskQueue('unprocessed');
    const handle = await client.workflow.start('silentWorkflow', {
      taskQueue,
      workflowId: `unprocessed/${taskQueue}`,
    });
    const completeNextTask = async () => {
      // A long poll: the server wants a deadline on it.
      const task = await client.withDeadline(Date.now() + 30_000, () =>
        client.workflowService.pollWorkflowTaskQueue({
          namespace,
          taskQueue: {
            name: taskQueue,
            kind: temporalProto.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL,
          },
          identity: 'silent worker',
        }),
      );
      await client.workflowService.respondWorkflowTaskCompleted({
        namespace,
        taskToken: task.taskToken,
        identity: 'silent worker',
        commands: [],
        messages: [],
      });
      return task;
    };
    await completeNextTask(); // the first task: the workflow runs on, waiting
    const update = handle.executeUpdate('check').then(
      () => undefined,
      (error: unknown) => error,
    );
    const task = await completeNextTask(); // the Update's task, its request left unanswered
    expect(task.messages?.length).toBe(1);
    const rejected = await update;
    if (!(rejected instanceof WorkflowUpdateFailedError))
      throw new Error(`not rejected: ${String(rejected)}`);
    expect(String((rejected as Error).cause)).toMatch(/wasn't processed by worker/);
    expect(isBusyWithUpdates(rejected)).toBe(true);

    let calls = 0;
    const again = () => {
      calls += 1;
      return calls === 1 ? Promise.reject(rejected) : Promise.resolve('answered');
    };
    expect(await updateWhenFree(again)).toBe('answered');
    calls = 0;
    const config = parseConfig({ ...TEST_SECRETS, TEMPORAL_ADDRESS: temporal.address }, 'client');
    expect(await withWorkerDeadline(client, config, again)).toBe('answered');
    expect(calls).toBe(2);
    await handle.terminate('test over');
  });
});
