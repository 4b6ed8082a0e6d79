/**
 * A Temporal call ends with what it was made for (common/abort.ts, `abortableCall`), against a
 * real dev server: a call in flight (a long poll on a workflow nobody runs) is aborted once the
 * activity is cancelled, and calls leave no listener on a long-lived signal (the client's own
 * `withAbortSignal` leaves one per request: thousands in a reconciliation's dispatch, and one per
 * lease for the whole life of a worker's permit pool).
 */
import { getEventListeners } from 'node:events';
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { abortableCall } from '../../common/abort';
import { leasePermits } from '../../activities/permits';
import { testWorkerConfig } from '../support/config';
import { productSettings, startProductWorkers } from '../support/product';
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
  let call: Promise<unknown> | undefined;
  const outcome = env
    .run(() =>
      abortableCall(temporal.client, Context.current().cancellationSignal, () => (call = never.result())),
    )
    .then(
      () => 'the workflow finished',
      (error: unknown) => error,
    );
  await new Promise((resolve) => setTimeout(resolve, 1000));
  env.cancel('WORKER_SHUTDOWN');
  // The activity hears of it at once...
  expect(await outcome).toBeInstanceOf(CancelledFailure);
  // ...and the call itself ends: without the abort it waits on for the workflow (beyond the
  // test's timeout); aborted, the client reports it as a cancelled call.
  const error = await call!.then(
    () => 'the workflow finished',
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(Error);
  expect(String((error as Error).cause)).toMatch(/cancel/i);
  // …and a call after the cancellation is not made at all.
  await expect(
    env.run(() =>
      abortableCall(temporal.client, Context.current().cancellationSignal, () => never.describe()),
    ),
  ).rejects.toBeInstanceOf(CancelledFailure);
  await never.terminate('test over');
}, 60_000);

test('issue 15: many calls leave no listener on the activity signal', async () => {
  const env = new MockActivityEnvironment();
  const left = await env.run(async () => {
    const signal = Context.current().cancellationSignal;
    for (let i = 0; i < 20; i++)
      await abortableCall(temporal.client, signal, () =>
        temporal.client.workflow.count('WorkflowType = "x"'),
      );
    return getEventListeners(signal, 'abort').length;
  });
  expect(left).toBe(0);
});

test("issue 18: a permit pool's leases leave no listener on its signal", async () => {
  // The pool's signal lives as long as its worker: one listener per lease was a leak.
  const nowhere = 'http://127.0.0.1:9';
  const settings = productSettings(temporal, 'abort-test', { jumpcloud: nowhere, notion: nowhere });
  const product = await startProductWorkers(temporal, settings);
  try {
    const config = testWorkerConfig(settings);
    const closed = new AbortController();
    for (let i = 0; i < 5; i++)
      await expect(
        leasePermits(temporal.client, config, { service: 'notion', count: 1 }, closed.signal),
      ).resolves.toBe(1);
    expect(getEventListeners(closed.signal, 'abort')).toHaveLength(0);
  } finally {
    await product.stop();
  }
}, 120_000);
