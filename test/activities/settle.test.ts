/**
 * Issue 15: a reconciliation's wait for what it handed over (`awaitReconciled`) against a real
 * dev server's visibility, and what ends it early: its activity's cancellation (the workflow's, or
 * the worker shutting down). Without that, the wait went on for its whole `waitMs` after the
 * worker had stopped, and its visibility calls outlived the client (CI: "Channel has been shut
 * down", thrown by the client's retry timer after the test's connection closed).
 */
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { awaitReconciled } from '../../activities/settle';
import { startTestTemporal, type TestTemporal } from '../support/temporal';

let temporal: TestTemporal;

beforeAll(async () => {
  temporal = await startTestTemporal();
});

afterAll(async () => {
  await temporal?.stop();
});

const input = { connectorId: 'settle-test', reconcileId: 'r1', kind: 'user' as const, target: 1 };

test('issue 15: with nothing settled, the wait answers the counts once its time is up', async () => {
  const env = new MockActivityEnvironment();
  await expect(env.run(() => awaitReconciled(temporal.client, { ...input, waitMs: 1500 }))).resolves.toEqual({
    settled: 0,
    failed: 0,
  });
});

test("issue 15: the activity's cancellation ends the wait at once, long before its time is up", async () => {
  const env = new MockActivityEnvironment();
  const waiting = env.run(() => awaitReconciled(temporal.client, { ...input, waitMs: 120_000 }));
  const outcome = waiting.then(
    () => 'finished its wait',
    (error: unknown) => error,
  );
  await new Promise((resolve) => setTimeout(resolve, 1500));
  env.cancel('WORKER_SHUTDOWN');
  // Without the fix this waits the whole 120 s (beyond the test's timeout) and then resolves.
  expect(await outcome).toBeInstanceOf(CancelledFailure);
}, 60_000);
