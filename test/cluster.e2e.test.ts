/**
 * Issue 17 and SPEC §9 (durability) on the production topology: a Temporal cluster (frontend,
 * history, matching and worker services as separate processes, on PostgreSQL with SQL
 * visibility) and three `jc-notion worker` processes. During the initial sync of 2,000 users in
 * 40 groups: one worker is killed with SIGKILL, then every worker is restarted one after another,
 * the frontend is stopped (the workers' readiness goes false) and started, the history service is
 * killed and started, then PostgreSQL is restarted; a rename made during the faults reaches Notion
 * through the change feed. Every user and group ends up exactly once in Notion, no request was
 * answered 429, and the workers' metrics agree with the emulators' request logs.
 *
 * The suite runs 400 users in 8 groups (the 20-minute budget); `CLUSTER_USERS=2000` is the issue's
 * size (40 groups).
 *
 * NOT YET IN THE SUITE (issue 17 open): run with `CLUSTER_TEST=1`. On its first runs the sync did
 * not converge within 15 minutes after the fault sequence; which fault wedges it is still to be
 * found (see the cluster's service logs in the test's temporary folder).
 */
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { createJumpCloudEmulator, type JumpCloudEmulator } from '../harness/emulators/jumpcloud';
import { createNotionEmulator, type NotionEmulator } from '../harness/emulators/notion';
import { startCluster, type TemporalCluster } from '../harness/temporal/cluster';
import { freePort } from '../harness/temporal/dev-server';
import { cleanEnv, runCli, spawnCli } from './support/cli';
import { TEST_SECRETS } from './support/config';
import { samples } from './support/metrics';
import { uniqueTaskQueue } from './support/temporal';

const run = promisify(execFile);
const USERS = Number(process.env.CLUSTER_USERS ?? 400);
const GROUPS = Math.max(1, Math.round(USERS / 50));
const APP = '64b7f0c2a1d3e4f5a6b7c8d9';

let cluster: TemporalCluster;
let jumpcloud: JumpCloudEmulator;
let notion: NotionEmulator;
let env: NodeJS.ProcessEnv;
let dir: string;

interface WorkerProcess {
  port: number;
  child: ChildProcess;
}
const workers: WorkerProcess[] = [];

const people = Array.from({ length: USERS }, (_, i) => ({
  username: `member${String(i).padStart(4, '0')}`,
  email: `member${String(i).padStart(4, '0')}@example.com`,
  firstname: `First${i}`,
  lastname: `Last${i}`,
}));
const groupName = (g: number) => `Team ${String(g).padStart(2, '0')}`;

async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  while (
    !(await Promise.resolve()
      .then(check)
      .catch(() => false))
  ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function spawnWorker(port: number): Promise<WorkerProcess> {
  const child = spawnCli(['worker'], { ...env, WORKER_HTTP_PORT: String(port) });
  const worker = { port, child };
  await eventually(
    'the worker to serve /healthz',
    async () => {
      if (child.exitCode !== null) throw new Error(`the worker exited with code ${child.exitCode}`);
      return (await probe(worker, '/healthz')).status === 200;
    },
    120_000,
  );
  return worker;
}

async function probe(worker: WorkerProcess, path: string): Promise<{ status: number; text: string }> {
  const response = await request(`http://127.0.0.1:${worker.port}${path}`, {
    headersTimeout: 5_000,
    bodyTimeout: 5_000,
  });
  return { status: response.statusCode, text: await response.body.text() };
}

async function stopWorker(worker: WorkerProcess, signal: NodeJS.Signals): Promise<void> {
  if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
  const exited = new Promise((resolve) => worker.child.once('exit', resolve));
  worker.child.kill(signal);
  await exited;
}

const members = () =>
  (notion.state() as { users: { userName: string; active: boolean; familyName?: string }[] }).users;
const groups = () => (notion.state() as { groups: { displayName: string; members: unknown[] }[] }).groups;

async function timeline(emulator: JumpCloudEmulator | NotionEmulator) {
  const origin = emulator === notion ? notionOrigin : jumpcloudOrigin;
  const reply = (await (await fetch(`${origin}/_emulator/requests/timeline`)).json()) as {
    requests: { route: string; status: number }[];
  };
  return reply.requests;
}
let notionOrigin: string;
let jumpcloudOrigin: string;

const describeCluster = process.env.CLUSTER_TEST === '1' ? describe : describe.skip;

beforeAll(async () => {
  if (process.env.CLUSTER_TEST !== '1') return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jcn-cluster-'));
  cluster = await startCluster({
    dir,
    database: `jcn_test_${process.pid}_${Date.now().toString(36)}`,
    log: (line) => process.stderr.write(`[cluster] ${line}\n`),
  });
  jumpcloud = createJumpCloudEmulator({ apiKey: TEST_SECRETS.JUMPCLOUD_API_KEY, notionAppId: APP });
  notion = createNotionEmulator({ token: TEST_SECRETS.NOTION_SCIM_TOKEN });
  jumpcloudOrigin = await jumpcloud.listen();
  notionOrigin = await notion.listen();
  jumpcloud.seed({
    users: people,
    groups: Array.from({ length: GROUPS }, (_, g) => ({
      name: groupName(g),
      members: people.filter((_, i) => i % GROUPS === g).map((p) => p.username),
    })),
    bindings: [{ groups: Array.from({ length: GROUPS }, (_, g) => groupName(g)) }],
  });
  env = cleanEnv({
    TEMPORAL_ADDRESS: cluster.address,
    TEMPORAL_NAMESPACE: cluster.namespace,
    TEMPORAL_TASK_QUEUE: uniqueTaskQueue('cluster'),
    CONNECTOR_ID: 'cluster-e2e',
    JUMPCLOUD_BASE_URL: jumpcloudOrigin,
    JUMPCLOUD_INSIGHTS_URL: `${jumpcloudOrigin}/insights/directory/v1`,
    JUMPCLOUD_API_KEY: TEST_SECRETS.JUMPCLOUD_API_KEY,
    JUMPCLOUD_APP_ID: APP,
    NOTION_SCIM_BASE_URL: `${notionOrigin}/scim/v2`,
    NOTION_SCIM_TOKEN: TEST_SECRETS.NOTION_SCIM_TOKEN,
    NOTION_MAX_RPS: '300',
    JUMPCLOUD_MAX_RPS: '300',
    POLL_INTERVAL: '2s',
    DEACTIVATION_THRESHOLD: String(USERS),
    WORKER_HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  });
  for (let i = 0; i < 3; i++) workers.push(await spawnWorker(await freePort()));
}, 900_000);

afterAll(async () => {
  if (process.env.CLUSTER_TEST !== '1') return;
  for (const worker of workers) worker.child.kill('SIGKILL');
  await cluster?.destroy();
  await jumpcloud?.close();
  await notion?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describeCluster('the production topology (issue 17)', () => {
  test(`issue 17 / SPEC §9: on a Temporal cluster on PostgreSQL with three workers, the initial sync of ${USERS} users in ${GROUPS} groups survives a killed worker, a rolling restart, a stopped frontend, a killed history service and a restarted database: everyone exactly once in Notion, no 429, a rename applied`, async () => {
    for (const worker of workers)
      await eventually(
        'every worker ready',
        async () => (await probe(worker, '/readyz')).status === 200,
        120_000,
      );
    const cli = async (...args: string[]) => {
      const result = await runCli(args, env, undefined, 300_000);
      expect([args.join(' '), result.code, result.stderr.split('\n').slice(-3)]).toEqual([
        args.join(' '),
        0,
        expect.anything(),
      ]);
    };
    // Activation starts the first reconciliation; group management is on from the start.
    await cli('groups', 'enable');
    await cli('activate', '--approve-creations');

    // 1. A worker killed mid-sync, with no chance to finish anything.
    await eventually('the sync to be under way', () => members().length > USERS / 10);
    await stopWorker(workers[0]!, 'SIGKILL');
    workers[0] = await spawnWorker(workers[0]!.port);

    // 2. A rename in JumpCloud while the faults go on: the change feed must deliver it.
    const renamed = people[7]!;
    jumpcloud.updateUser(jumpcloud.state().users.find((u) => u.username === renamed.username)!._id, {
      lastname: 'Renamed-During-Faults',
    });

    // 3. A rolling restart: each worker stopped (SIGTERM) and started again, one after another.
    for (let i = 0; i < workers.length; i++) {
      await stopWorker(workers[i]!, 'SIGTERM');
      workers[i] = await spawnWorker(workers[i]!.port);
      await eventually(
        `worker ${i} ready again`,
        async () => (await probe(workers[i]!, '/readyz')).status === 200,
      );
    }

    // 4. The frontend stopped: every worker's readiness goes false (liveness stays), then back.
    await cluster.kill('frontend', 'SIGKILL');
    for (const worker of workers) {
      await eventually(
        'readiness to go false',
        async () => (await probe(worker, '/readyz')).status === 503,
        60_000,
      );
      expect((await probe(worker, '/healthz')).status).toBe(200);
    }
    cluster.start('frontend');
    await cluster.ready();
    for (const worker of workers)
      await eventually(
        'readiness back',
        async () => (await probe(worker, '/readyz')).status === 200,
        120_000,
      );

    // 5. The history service killed and started again.
    await cluster.kill('history', 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    cluster.start('history');
    await cluster.ready();

    // 6. PostgreSQL restarted under the cluster.
    if (cluster.postgres.source === 'local') {
      const version = fs.readdirSync('/etc/postgresql').sort().at(-1)!;
      await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart'], {
        timeout: 120_000,
      });
    }

    // Converged: every user and every group once, the rename applied.
    await eventually(
      'every user and group in Notion',
      () =>
        members().filter((m) => m.active && m.userName.startsWith('member')).length === USERS &&
        groups().filter((g) => g.members.length === USERS / GROUPS).length === GROUPS,
      900_000,
    );
    await eventually(
      'the rename',
      () => members().find((m) => m.userName === renamed.email)?.familyName === 'Renamed-During-Faults',
    );

    const userNames = members().map((m) => m.userName);
    expect(new Set(userNames).size).toBe(userNames.length);
    expect(
      groups()
        .map((g) => g.displayName)
        .sort(),
    ).toEqual(Array.from({ length: GROUPS }, (_, g) => groupName(g)).sort());
    const notionLog = await timeline(notion);
    // Each user and group created once: a retried POST after a worker died is answered 409 and linked.
    expect(notionLog.filter((r) => r.route === 'POST /scim/v2/Users' && r.status === 201).length).toBe(USERS);
    expect(notionLog.filter((r) => r.route === 'POST /scim/v2/Groups' && r.status === 201).length).toBe(
      GROUPS,
    );
    expect(notionLog.filter((r) => r.route.startsWith('DELETE')).length).toBe(0);
    for (const log of [notionLog, await timeline(jumpcloud)])
      expect(log.filter((r) => r.status === 429)).toEqual([]);
  }, 2_400_000);

  test("issue 17: the three workers' metrics agree with the emulators' request logs", async () => {
    const scrape = async () => Promise.all(workers.map(async (w) => (await probe(w, '/metrics')).text));
    const logs = () => [notion.control.requests().byStatus, jumpcloud.control.requests().byStatus];
    /** The workers' counters and the emulators' logs at one moment: the logs did not move meanwhile. */
    const snapshot = async () => {
      for (;;) {
        const first = logs();
        const texts = await scrape();
        if (JSON.stringify(first) === JSON.stringify(logs())) return { texts, logs: first };
      }
    };
    const counted = (texts: string[], service: string, status: string) =>
      texts.reduce(
        (sum, text) =>
          sum + (samples(text, 'jcn_api_requests_total').get(`service="${service}",status="${status}"`) ?? 0),
        0,
      );
    const start = await snapshot();
    // Work to count: a change through the feed, and a whole reconciliation.
    const counted11 = people[11]!;
    jumpcloud.updateUser(jumpcloud.state().users.find((u) => u.username === counted11.username)!._id, {
      firstname: 'Counted',
    });
    await eventually('the change', () =>
      (notion.state() as { users: { userName: string; givenName?: string }[] }).users.some(
        (m) => m.userName === counted11.email && m.givenName === 'Counted',
      ),
    );
    expect((await runCli(['sync', '--timeout', '300'], env, undefined, 400_000)).code).toBe(0);
    const end = await snapshot();
    (['notion', 'jumpcloud'] as const).forEach((service, i) => {
      const statuses = new Set([...Object.keys(start.logs[i]!), ...Object.keys(end.logs[i]!)]);
      for (const status of statuses) {
        const served = (end.logs[i]![status] ?? 0) - (start.logs[i]![status] ?? 0);
        const sent = counted(end.texts, service, status) - counted(start.texts, service, status);
        expect([service, status, sent]).toEqual([service, status, served]);
      }
    });
    expect(end.logs[0]!['200']! - (start.logs[0]!['200'] ?? 0)).toBeGreaterThan(0);
    for (const text of end.texts) expect(samples(text, 'jcn_api_rate_limited_total').size).toBe(0);
  }, 900_000);
});
