/**
 * The `jc-notion` command as an admin uses it: help, one-line errors without secrets, `status`
 * against real workers, and `local` (ready, Web UI, clean stop leaving no process behind).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { request } from 'undici';
import { freeLocalPorts, LOCAL_CREDENTIALS, type LocalStackPorts } from '../../harness/local/stack';
import { EncryptionCodec, parseEncryptionKeys } from '../../temporal/encryption-codec';
import { freePort } from '../../harness/temporal/dev-server';
import { createWorkers } from '../../worker/worker';
import { TEST_SECRETS, testWorkerConfig } from '../support/config';
import { cleanEnv, ROOT, runCli, spawnCli, waitForOutput } from '../support/cli';
import { startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../support/temporal';

let temporal: TestTemporal;

beforeAll(async () => {
  temporal = await startTestTemporal();
});

afterAll(async () => {
  await temporal?.stop();
});

function expectOneLineFailure(
  result: { code: number | null; stdout: string; stderr: string },
  pattern: RegExp,
): void {
  expect(result.code).not.toBe(0);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^jc-notion: /);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

test('--help lists the commands', async () => {
  const result = await runCli(['--help'], cleanEnv());
  expect(result.code).toBe(0);
  for (const command of ['local', 'worker', 'status']) expect(result.stdout).toContain(command);
});

test('issue 18: the command line is built without loading any command: no Temporal SDK, mail or log library before a command runs', () => {
  const loaded = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      "require('./client/program').buildProgram(); process.stdout.write(JSON.stringify(Object.keys(require.cache)))",
    ],
    { cwd: ROOT, env: cleanEnv(), encoding: 'utf8' },
  );
  const heavy = (JSON.parse(loaded) as string[]).filter((file) =>
    /node_modules\/(@temporalio|nodemailer|pino|undici|prom-client)\/|\/client\/commands\/(?!local\.)/.test(
      file,
    ),
  );
  expect(heavy).toEqual([]);
});

test('the built bin works as `npx jc-notion` does after npm install', () => {
  const output = execFileSync(process.execPath, [path.join(ROOT, 'bin', 'jc-notion.js'), 'local', '--help'], {
    env: cleanEnv(),
    encoding: 'utf8',
  });
  for (const flag of [
    '--temporal-port',
    '--ui-port',
    '--jumpcloud-port',
    '--notion-port',
    '--smtp-port',
    '--seed',
    '--data-dir',
  ]) {
    expect(output).toContain(flag);
  }
});

test('a bad TEMPORAL_ADDRESS exits non-zero with a one-line reason', async () => {
  const result = await runCli(['status'], cleanEnv({ TEMPORAL_ADDRESS: '::bad' }));
  expectOneLineFailure(result, /invalid configuration: TEMPORAL_ADDRESS must be host:port/);
});

test('`worker` without its required variables names each of them and prints no secret', async () => {
  const result = await runCli(
    ['worker'],
    cleanEnv({
      NOTION_SCIM_TOKEN: TEST_SECRETS.NOTION_SCIM_TOKEN,
      JUMPCLOUD_APP_ID: TEST_SECRETS.JUMPCLOUD_API_KEY,
    }),
  );
  expectOneLineFailure(result, /JUMPCLOUD_API_KEY \(or JUMPCLOUD_API_KEY_FILE\) is required to run a worker/);
  expect(result.stderr).toMatch(/JUMPCLOUD_APP_ID must be a JumpCloud id/);
  for (const secret of Object.values(TEST_SECRETS)) {
    expect(result.stderr + result.stdout).not.toContain(secret);
  }
});

test('an invalid option value exits non-zero with the reason', async () => {
  const result = await runCli(['local', '--ui-port', 'abc'], cleanEnv());
  expect(result.code).not.toBe(0);
  expect(result.stderr).toMatch(/--ui-port.*must be a port number/);
});

test('`local` without the development harness (as in the worker image) says so in one line', async () => {
  const result = await runCli(['local'], cleanEnv({ JCN_HARNESS_DIR: path.join(ROOT, 'no-harness-here') }));
  expectOneLineFailure(result, /`local` is a development command: run it from a clone of the repository/);
});

test('`status` with no worker polling says so instead of hanging', async () => {
  const result = await runCli(
    ['status'],
    cleanEnv({ TEMPORAL_ADDRESS: temporal.address, TEMPORAL_TASK_QUEUE: uniqueTaskQueue('nobody') }),
  );
  expectOneLineFailure(result, /no worker is polling task queue .* start one with `jc-notion worker`/);
});

test('`status` with an unreachable Temporal names the address', async () => {
  const port = await freePort();
  const result = await runCli(['status'], cleanEnv({ TEMPORAL_ADDRESS: `127.0.0.1:${port}` }));
  expectOneLineFailure(result, new RegExp(`cannot reach Temporal at 127\\.0\\.0\\.1:${port}`));
});

test('`status` reports the connector and the worker configuration without secrets, also as JSON', async () => {
  const taskQueue = uniqueTaskQueue('status');
  const config = testWorkerConfig({
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    CONNECTOR_ID: 'status-test',
  });
  const worker = await createWorkers({
    config,
    connection: temporal.nativeConnection,
    client: temporal.client,
    workflowBundle: await temporal.workflowBundle(),
    identity: 'cli-test-worker',
  });
  await worker.runUntil(async () => {
    const env = cleanEnv({
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      CONNECTOR_ID: 'status-test',
    });
    const text = await runCli(['status'], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Connector status-test: not activated/);
    expect(text.stdout).toMatch(/answered by cli-test-worker/);
    expect(text.stdout).toMatch(/NOTION_SCIM_TOKEN\s+set/);

    const json = await runCli(['status', '--json'], env);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as {
      connector: { connectorId: string };
      workers: { polling: number };
    };
    expect(report.connector.connectorId).toBe('status-test');
    expect(report.workers.polling).toBeGreaterThanOrEqual(1);
    for (const secret of Object.values(TEST_SECRETS)) expect(text.stdout + json.stdout).not.toContain(secret);
  });
});

/** Processes whose command line mentions `needle` (e.g. a port only this test uses). */
function processesMentioning(needle: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.includes(needle) && !line.includes('ps -eo'));
}

/**
 * `local` on ports free a moment ago: another test file's servers may take one in between (the
 * mail inbox also takes the SMTP port + 1), which `local` refuses by name; then try other ports.
 */
async function startLocalOnFreePorts(extra: (ports: LocalStackPorts) => string[] = () => []) {
  for (let attempt = 1; ; attempt++) {
    const ports = await freeLocalPorts();
    const child = spawnCli(
      [
        'local',
        '--temporal-port',
        String(ports.temporal),
        '--ui-port',
        String(ports.ui),
        '--jumpcloud-port',
        String(ports.jumpcloud),
        '--notion-port',
        String(ports.notion),
        '--smtp-port',
        String(ports.smtp),
        '--seed',
        'demo',
        ...extra(ports),
      ],
      cleanEnv({ LOG_LEVEL: 'warn' }),
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const output = await waitForOutput(child, /^ready$/m, 90_000);
      return { child, ports, output, exited };
    } catch (error) {
      child.kill('SIGKILL');
      if (attempt >= 3 || !(error instanceof Error) || !/already in use/.test(error.message)) throw error;
    }
  }
}

test.each(['SIGINT', 'SIGTERM'] as const)(
  '`local --seed demo` prints ready, serves the UI and both emulators with the demo data, and stops cleanly on %s with no process left behind',
  async (signal) => {
    const { child, ports, output, exited } = await startLocalOnFreePorts();
    try {
      expect(output).toContain(`http://127.0.0.1:${ports.ui}`);
      expect(output).toContain(`127.0.0.1:${ports.temporal}`);
      expect(output).toContain('local-notion-token');

      const ui = await request(`http://127.0.0.1:${ports.ui}/`);
      await ui.body.dump();
      expect(ui.statusCode).toBe(200);
      expect(processesMentioning(`--port ${ports.temporal}`).length).toBeGreaterThanOrEqual(1);

      // Both emulators serve their APIs on their ports, with the local credentials and the demo.
      const appUsers = await request(
        `http://127.0.0.1:${ports.jumpcloud}/api/v2/applications/${LOCAL_CREDENTIALS.notionAppId}/users?limit=100`,
        { headers: { 'x-api-key': LOCAL_CREDENTIALS.jumpcloudApiKey } },
      );
      expect(appUsers.statusCode).toBe(200);
      expect(((await appUsers.body.json()) as unknown[]).length).toBe(100);
      const scim = await request(`http://127.0.0.1:${ports.notion}/scim/v2/Users?count=1`, {
        headers: { authorization: `Bearer ${LOCAL_CREDENTIALS.notionToken}` },
      });
      expect(scim.statusCode).toBe(200);
      expect(((await scim.body.json()) as { totalResults: number }).totalResults).toBeGreaterThan(1);
      const inbox = await request(`http://127.0.0.1:${ports.smtp + 1}/messages`);
      expect(inbox.statusCode).toBe(200);
      await inbox.body.dump();

      child.kill(signal);
      expect(await exited).toBe(0);
      expect(processesMentioning(`--port ${ports.temporal}`)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  },
);

test('issue 16: `local --encrypt` encrypts with a key of its own, starts the codec server the UI is pointed at (CORS: the UI only), and the admin commands read the workers with the printed keys', async () => {
  const codecPort = await freePort();
  const { child, ports, output, exited } = await startLocalOnFreePorts(() => [
    '--encrypt',
    '--codec-port',
    String(codecPort),
  ]);
  try {
    const endpoint = new RegExp(`http://127\\.0\\.0\\.1:${codecPort}/[0-9a-f]{48}`).exec(output)?.[0];
    expect(endpoint).toBeDefined();
    const keys = /PAYLOAD_ENCRYPTION_KEYS=(\S+)/.exec(output)?.[1];
    expect(keys).toMatch(/^local-[a-z0-9]+:/);
    // The dev server's UI decodes through it.
    const settings = await request(`http://127.0.0.1:${ports.ui}/api/v1/settings`);
    expect(JSON.stringify(await settings.body.json())).toContain(endpoint);

    const codec = new EncryptionCodec(parseEncryptionKeys(keys!));
    const [sealed] = await codec.encode([
      { metadata: {}, data: new Uint8Array(Buffer.from('"ann@example.com"')) },
    ]);
    const body = JSON.stringify({
      payloads: [
        {
          metadata: Object.fromEntries(
            Object.entries(sealed!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
          ),
          data: Buffer.from(sealed!.data!).toString('base64'),
        },
      ],
    });
    const ui = `http://127.0.0.1:${ports.ui}`;
    const decoded = await request(`${endpoint}/decode`, {
      method: 'POST',
      headers: { origin: ui, 'content-type': 'application/json' },
      body,
    });
    expect(decoded.statusCode).toBe(200);
    expect(decoded.headers['access-control-allow-origin']).toBe(ui);
    expect(JSON.stringify(await decoded.body.json())).toContain(
      Buffer.from('"ann@example.com"').toString('base64'),
    );
    const foreign = await request(`${endpoint}/decode`, {
      method: 'POST',
      headers: { origin: 'http://attacker.example', 'content-type': 'application/json' },
      body,
    });
    expect(foreign.statusCode).toBe(403);
    await foreign.body.dump();

    // `status` talks to the stack's workers with the printed keys (their answers are encrypted).
    const env = cleanEnv({ TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`, PAYLOAD_ENCRYPTION_KEYS: keys });
    const status = await runCli(['status', '--json'], env);
    expect([status.code, status.stderr]).toEqual([0, '']);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(processesMentioning(`--port ${ports.temporal}`)).toEqual([]);
  } finally {
    child.kill('SIGKILL');
  }
});

test('G8: `groups enable` and `groups disable` switch group management, shown by `status`', async () => {
  const taskQueue = uniqueTaskQueue('groups');
  const settings = {
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    CONNECTOR_ID: 'groups-test',
  };
  const workers = await createWorkers({
    config: testWorkerConfig(settings),
    connection: temporal.nativeConnection,
    client: temporal.client,
    workflowBundle: await temporal.workflowBundle(),
  });
  await workers.runUntil(async () => {
    const env = cleanEnv(settings);
    expect((await runCli(['status'], env)).stdout).toMatch(/group management: disabled/);
    const enabled = await runCli(['groups', 'enable'], env);
    expect([enabled.code, enabled.stdout]).toEqual([0, expect.stringMatching(/Group management enabled/)]);
    expect((await runCli(['status'], env)).stdout).toMatch(/group management: enabled/);
    const disabled = await runCli(['groups', 'disable', '--json'], env);
    expect((JSON.parse(disabled.stdout) as { groupManagement: boolean }).groupManagement).toBe(false);
  });
});
