/**
 * Issue 17: a worker process fit for an orchestrator. `jc-notion worker` with WORKER_HTTP_PORT
 * serves /healthz, /readyz and /metrics; its request counters agree with the emulators' request
 * logs, its operation counters with what it did, the SDK's own metrics are served beside the
 * product's, and readiness goes false (liveness stays true) while Temporal does not answer.
 */
import type { ChildProcess } from 'node:child_process';
import { request } from 'undici';
import { createJumpCloudEmulator, type JumpCloudEmulator } from '../../harness/emulators/jumpcloud';
import { createNotionEmulator, type NotionEmulator } from '../../harness/emulators/notion';
import { freePort } from '../../harness/temporal/dev-server';
import { runCli, spawnCli, waitForOutput } from '../support/cli';
import { TEST_SECRETS } from '../support/config';
import { samples } from '../support/metrics';
import { productSettings } from '../support/product';
import { startTestTemporal, type TestTemporal } from '../support/temporal';
import { cleanEnv } from '../support/cli';

let temporal: TestTemporal;
let jumpcloud: JumpCloudEmulator;
let notion: NotionEmulator;
let worker: ChildProcess | undefined;
let base: string;
let env: NodeJS.ProcessEnv;
const PEOPLE = ['ann', 'bob', 'cat', 'dan', 'eve'];

async function get(path: string): Promise<{ status: number; text: string }> {
  const response = await request(`${base}${path}`);
  return { status: response.statusCode, text: await response.body.text() };
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

beforeAll(async () => {
  temporal = await startTestTemporal();
  jumpcloud = createJumpCloudEmulator({
    apiKey: TEST_SECRETS.JUMPCLOUD_API_KEY,
    notionAppId: '64b7f0c2a1d3e4f5a6b7c8d9',
  });
  notion = createNotionEmulator({ token: TEST_SECRETS.NOTION_SCIM_TOKEN });
  const origins = { jumpcloud: await jumpcloud.listen(), notion: await notion.listen() };
  jumpcloud.seed({
    users: PEOPLE.map((name) => ({
      username: name,
      email: `${name}@example.com`,
      firstname: name,
      lastname: 'Probe',
    })),
    groups: [{ name: 'Staff', members: PEOPLE }],
    bindings: [{ groups: ['Staff'] }],
  });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  env = cleanEnv({
    ...productSettings(temporal, 'probes', origins, { POLL_INTERVAL: '1h' }),
    JUMPCLOUD_API_KEY: TEST_SECRETS.JUMPCLOUD_API_KEY,
    NOTION_SCIM_TOKEN: TEST_SECRETS.NOTION_SCIM_TOKEN,
    JUMPCLOUD_APP_ID: '64b7f0c2a1d3e4f5a6b7c8d9',
    WORKER_HTTP_PORT: String(port),
    WORKER_HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
  });
  worker = spawnCli(['worker'], env);
  await waitForOutput(worker, /health and metrics endpoint/, 90_000);
});

afterAll(async () => {
  worker?.kill('SIGKILL');
  await jumpcloud?.close();
  await notion?.close();
  await temporal?.stop();
});

test('issue 17: /healthz and /readyz answer 200 once the worker polls its task queues', async () => {
  await eventually('readiness', async () => (await get('/readyz')).status === 200);
  expect(JSON.parse((await get('/healthz')).text)).toEqual({ status: 'ok', reasons: [] });
  expect((await get('/nowhere')).status).toBe(404);
});

test("issue 17: /metrics serves the product's metrics, agreeing with the emulators' request logs, and the SDK's own", async () => {
  const cli = async (...args: string[]) => {
    const result = await runCli(args, env);
    expect([args.join(' '), result.code]).toEqual([args.join(' '), 0]);
  };
  await cli('activate', '--approve-creations');
  await cli('sync', '--timeout', '120');
  expect(notion.control.requests().byRoute['POST /scim/v2/Users']).toBe(PEOPLE.length);

  // Nothing moves once the sync is over (the feed polls hourly): the counts must agree exactly.
  let metrics = '';
  await eventually('the counters to agree with the request logs', async () => {
    const before = [notion.control.requests(), jumpcloud.control.requests()];
    metrics = (await get('/metrics')).text;
    const after = [notion.control.requests(), jumpcloud.control.requests()];
    if (JSON.stringify(before) !== JSON.stringify(after)) return false;
    const requests = samples(metrics, 'jcn_api_requests_total');
    return (['notion', 'jumpcloud'] as const).every((service, i) =>
      Object.entries(after[i]!.byStatus).every(
        ([status, count]) => requests.get(`service="${service}",status="${status}"`) === count,
      ),
    );
  });
  const requests = samples(metrics, 'jcn_api_requests_total');
  const served = notion.control.requests().total + jumpcloud.control.requests().total;
  expect([...requests.values()].reduce((a, b) => a + b, 0)).toBe(served);
  expect(samples(metrics, 'jcn_api_rate_limited_total').size).toBe(0);
  expect(
    samples(metrics, 'jcn_operations_total').get('operation="notionCreateUser",outcome="completed"'),
  ).toBe(PEOPLE.length);
  expect(samples(metrics, 'jcn_users_in_error').get('')).toBe(0);
  expect(samples(metrics, 'jcn_held_deactivations').get('')).toBe(0);
  expect(samples(metrics, 'jcn_feed_lag_seconds').get('')).toBeGreaterThanOrEqual(0);
  // The SDK's metrics, from its runtime's exporter (e.g. its task pollers and requests).
  expect(metrics).toMatch(/^temporal_\w+/m);
  // No label holds a person: emails, names.
  for (const name of PEOPLE) expect(metrics).not.toContain(`${name}@example.com`);
});

test('issue 17: readiness goes false while Temporal does not answer; liveness stays true', async () => {
  await temporal.server.stop();
  await eventually('readiness to go false', async () => (await get('/readyz')).status === 503, 60_000);
  const ready = JSON.parse((await get('/readyz')).text) as { status: string; reasons: string[] };
  expect(ready.status).toBe('unavailable');
  expect(ready.reasons.join('; ')).toMatch(/Temporal does not answer/);
  expect((await get('/healthz')).status).toBe(200);
});
