/**
 * A cancelled activity's Temporal calls in flight are aborted (worker/activity-cancellation.ts),
 * against a real dev server: an activity waiting on a workflow's result (a long poll that never
 * ends: no worker runs that workflow) fails once cancelled, instead of waiting on.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { abortClientCallsOnCancel } from '../../worker/activity-cancellation';
import { startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../support/temporal';

let temporal: TestTemporal;

beforeAll(async () => {
  temporal = await startTestTemporal();
});

afterAll(async () => {
  await temporal?.stop();
});

test("a cancelled activity's call in flight to Temporal is aborted, with its retries", async () => {
  const never = await temporal.client.workflow.start('nobodyRunsThis', {
    workflowId: `cancellation-${Date.now()}`,
    taskQueue: uniqueTaskQueue('nobody'),
  });
  const env = new MockActivityEnvironment(undefined, {
    interceptors: [abortClientCallsOnCancel(temporal.client)],
  });
  const outcome = env
    .run(() => never.result())
    .then(
      () => 'the workflow finished',
      (error: unknown) => error,
    );
  await new Promise((resolve) => setTimeout(resolve, 1000));
  env.cancel('WORKER_SHUTDOWN');
  // Without the interceptor the call waits on for the workflow (beyond the test's timeout).
  expect(await outcome).toBeInstanceOf(Error);
  await never.terminate('test over');
}, 60_000);

test('an activity that is not cancelled calls Temporal as usual', async () => {
  const env = new MockActivityEnvironment(undefined, {
    interceptors: [abortClientCallsOnCancel(temporal.client)],
  });
  await expect(env.run(() => temporal.client.workflow.count('WorkflowType = "nothing"'))).resolves.toEqual({
    count: 0,
    groups: [],
  });
});
