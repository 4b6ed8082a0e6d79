/**
 * An activity's Temporal call ends with the activity (activities/cancellation.ts), against a real
 * dev server: a call in flight (a long poll on a workflow nobody runs) is aborted once the activity
 * is cancelled, and calls leave no listener on the activity's signal (the client's own
 * `withAbortSignal` leaves one per call: thousands in a reconciliation's dispatch).
 */
import { getEventListeners } from 'node:events';
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { abortOnCancel } from '../../activities/cancellation';
import { startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../support/temporal';

let temporal: TestTemporal;

beforeAll(async () => {
  temporal = await startTestTemporal();
});

afterAll(async () => {
  await temporal?.stop();
});

test("issue 15: a cancelled activity's call in flight to Temporal is aborted", async () => {
  const never = await temporal.client.workflow.start('nobodyRunsThis', {
    workflowId: `cancellation-${Date.now()}`,
    taskQueue: uniqueTaskQueue('nobody'),
  });
  const env = new MockActivityEnvironment();
  const outcome = env
    .run(() => abortOnCancel(temporal.client, Context.current().cancellationSignal, () => never.result()))
    .then(
      () => 'the workflow finished',
      (error: unknown) => error,
    );
  await new Promise((resolve) => setTimeout(resolve, 1000));
  env.cancel('WORKER_SHUTDOWN');
  // Without it the call waits on for the workflow (beyond the test's timeout); aborted, the
  // client reports it as a cancelled call.
  const error = await outcome;
  expect(error).toBeInstanceOf(Error);
  expect(String((error as Error).cause)).toMatch(/cancel/i);
  // …and a call after the cancellation is not made at all.
  await expect(
    env.run(() =>
      abortOnCancel(temporal.client, Context.current().cancellationSignal, () => never.describe()),
    ),
  ).rejects.toBeInstanceOf(CancelledFailure);
  await never.terminate('test over');
}, 60_000);

test('issue 15: many calls leave no listener on the activity signal', async () => {
  const env = new MockActivityEnvironment();
  const left = await env.run(async () => {
    const signal = Context.current().cancellationSignal;
    for (let i = 0; i < 20; i++)
      await abortOnCancel(temporal.client, signal, () =>
        temporal.client.workflow.count('WorkflowType = "x"'),
      );
    return getEventListeners(signal, 'abort').length;
  });
  expect(left).toBe(0);
});
