/**
 * Issue 16: the worker's activity guard, on every activity: the connector a workflow's id names
 * must be this worker's, the connector's application must be this worker's, and a failure leaves
 * without any secret the process holds. (End to end: test/isolation.e2e.test.ts.)
 */
import { ApplicationFailure, type Info } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { activityGuard, cachedFor, connectorOfWorkflow, WRONG_CONNECTOR } from '../../worker/activity-guard';

const SECRET = 'guard-test-secret-8f1d2c';

function environment(workflowId: string, activityType = 'notionGetUser', activatedFor?: string) {
  const info = {
    activityType,
    workflowExecution: { workflowId, runId: 'run' },
  } as Partial<Info>;
  return new MockActivityEnvironment(info, {
    interceptors: [
      activityGuard({
        connectorId: 'alpha',
        appId: 'app-alpha',
        connectorAppId: () => Promise.resolve(activatedFor),
        secrets: () => [SECRET],
      }),
    ],
  });
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ApplicationFailure))
    throw new Error(`expected an ApplicationFailure, got ${String(error)}`);
  return error;
}

test('issue 16: the connector of a workflow id is read from its `jcn/<connector>/` prefix', () => {
  expect(connectorOfWorkflow('jcn/alpha/user/64b7f0c2a1d3e4f5a6b7c8d9')).toBe('alpha');
  expect(connectorOfWorkflow('jcn/alpha/connector')).toBe('alpha');
  expect(connectorOfWorkflow('bench/ceiling/1')).toBeUndefined();
  expect(connectorOfWorkflow(undefined)).toBeUndefined();
});

test("issue 16: an activity of another connector's workflow is refused for good before it runs", async () => {
  let ran = false;
  const failure = await failureOf(
    environment('jcn/beta/user/64b7f0c2a1d3e4f5a6b7c8d9').run(() => {
      ran = true;
      return Promise.resolve();
    }),
  );
  expect(ran).toBe(false);
  expect(failure.type).toBe(WRONG_CONNECTOR);
  expect(failure.nonRetryable).toBe(true);
  expect(failure.message).toMatch(/serves connector "alpha", not "beta"/);
  // …and one of a workflow of no connector at all.
  expect((await failureOf(environment('bench/x').run(() => Promise.resolve()))).type).toBe(WRONG_CONNECTOR);
});

test('issue 16: a worker holding the credentials of another application than the connector was activated for is refused; the verification itself is not', async () => {
  const wrong = await failureOf(
    environment('jcn/alpha/user/1', 'notionGetUser', 'app-beta').run(() => Promise.resolve()),
  );
  expect(wrong.type).toBe(WRONG_CONNECTOR);
  expect(wrong.message).toMatch(
    /activated for JumpCloud application app-beta.*credentials of application app-alpha/,
  );
  await expect(
    environment('jcn/alpha/connector', 'jumpcloudVerifyApplication', 'app-beta').run(() =>
      Promise.resolve('ok'),
    ),
  ).resolves.toBe('ok');
  // Activated for this worker's application, or not activated yet: runs.
  await expect(environment('jcn/alpha/user/1', 'x', 'app-alpha').run(() => Promise.resolve(1))).resolves.toBe(
    1,
  );
  await expect(environment('jcn/alpha/user/1', 'x', undefined).run(() => Promise.resolve(2))).resolves.toBe(
    2,
  );
});

test('issue 16 (§2): a failure leaves the activity without a secret in its message, stack, details or cause', async () => {
  const failure = await failureOf(
    environment('jcn/alpha/user/1').run(() => {
      const cause = new Error(`proxy said: Authorization: Bearer ${SECRET}`);
      throw ApplicationFailure.create({
        type: 'ServerError',
        message: `upstream echoed ${SECRET}`,
        details: [{ detail: `body: ${SECRET}` }],
        cause,
      });
    }),
  );
  const text = JSON.stringify({
    m: failure.message,
    s: failure.stack,
    d: failure.details,
    c: String(failure.cause),
  });
  expect(text).not.toContain(SECRET);
  expect(failure.message).toBe('upstream echoed [secret]');
  expect(failure.type).toBe('ServerError');
});

test('issue 16 (§2): a secret in a cause however deep is scrubbed, and a cause chain that loops back ends the walk', async () => {
  const failure = await failureOf(
    environment('jcn/alpha/user/1').run(() => {
      const innermost = new Error(`socket closed after sending ${SECRET}`);
      let cause = innermost;
      for (let layer = 0; layer < 10; layer++) cause = new Error(`layer ${layer}`, { cause });
      const outer = ApplicationFailure.create({ type: 'ServerError', message: 'upstream failed', cause });
      // Set after the fact, as some libraries do: the chain now loops.
      innermost.cause = outer;
      throw outer;
    }),
  );
  const messages: string[] = [];
  for (let e: unknown = failure; e instanceof Error && messages.length < 20; e = e.cause) {
    messages.push(`${e.message}\n${e.stack ?? ''}`);
  }
  expect(messages.some((text) => text.includes('socket closed after sending [secret]'))).toBe(true);
  expect(messages.join('\n')).not.toContain(SECRET);
});

test('issue 16: the connector record is asked once per time to live, and a slow refresh holds nobody up', async () => {
  let now = 0;
  let asked = 0;
  let answer = 'a';
  let release: () => void = () => undefined;
  const read = cachedFor(
    1000,
    () => {
      asked += 1;
      if (asked === 1) return Promise.resolve(answer);
      return new Promise<string>((resolve) => (release = () => resolve(answer)));
    },
    () => now,
  );
  expect(await read()).toBe('a');
  expect(await read()).toBe('a');
  expect(asked).toBe(1);
  now = 2000;
  answer = 'b';
  expect(await read()).toBe('a'); // the refresh is under way: the last answer meanwhile
  expect(await read()).toBe('a');
  expect(asked).toBe(2);
  release();
  await new Promise((resolve) => setImmediate(resolve));
  expect(await read()).toBe('b');
});
