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
 * NOT YET IN THE SUITE (issue 17 open): run with `CLUSTER_TEST=1`.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { startClusterStack, untilReady, type ClusterStack } from '../harness/local/cluster-stack';
import { databasesNamed, ensurePostgres } from '../harness/temporal/postgres';
import { CLI_COMMAND, cleanEnv, runCli, spawnCli, waitForOutput } from './support/cli';
import { samples } from './support/metrics';
import { uniqueTaskQueue } from './support/temporal';

const run = promisify(execFile);
const USERS = Number(process.env.CLUSTER_USERS ?? 400);
const GROUPS = Math.max(1, Math.round(USERS / 50));

let stack: ClusterStack;
let dir: string;

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

async function probe(i: number, path: string): Promise<{ status: number; text: string }> {
  const response = await request(`http://127.0.0.1:${stack.workers[i]!.port}${path}`, {
    headersTimeout: 5_000,
    bodyTimeout: 5_000,
  });
  return { status: response.statusCode, text: await response.body.text() };
}

const members = () =>
  (stack.notion.state() as { users: { userName: string; active: boolean; familyName?: string }[] }).users;
const groups = () =>
  (stack.notion.state() as { groups: { displayName: string; members: unknown[] }[] }).groups;

async function timeline(emulator: 'notion' | 'jumpcloud') {
  const origin = stack.origins[emulator];
  const reply = (await (await fetch(`${origin}/_emulator/requests/timeline`)).json()) as {
    requests: { route: string; status: number }[];
  };
  return reply.requests;
}

const describeCluster = process.env.CLUSTER_TEST === '1' ? describe : describe.skip;

describeCluster('the production topology (issue 17)', () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jcn-cluster-'));
    stack = await startClusterStack({
      dir,
      database: `jcn_test_${process.pid}_${Date.now().toString(36)}`,
      workers: 3,
      command: CLI_COMMAND,
      baseEnv: cleanEnv(),
      env: {
        TEMPORAL_TASK_QUEUE: uniqueTaskQueue('cluster'),
        CONNECTOR_ID: 'cluster-e2e',
        NOTION_MAX_RPS: '300',
        JUMPCLOUD_MAX_RPS: '300',
        POLL_INTERVAL: '2s',
        DEACTIVATION_THRESHOLD: String(USERS),
        LOG_LEVEL: 'warn',
      },
      progress: (line) => process.stderr.write(`[cluster] ${line}\n`),
    });
    stack.jumpcloud.seed({
      users: people,
      groups: Array.from({ length: GROUPS }, (_, g) => ({
        name: groupName(g),
        members: people.filter((_, i) => i % GROUPS === g).map((p) => p.username),
      })),
      bindings: [{ groups: Array.from({ length: GROUPS }, (_, g) => groupName(g)) }],
    });
  }, 1_800_000);

  afterAll(async () => {
    await stack?.stop();
    // CLUSTER_KEEP_LOGS=1 keeps the services' and workers' logs for a post-mortem.
    if (dir && process.env.CLUSTER_KEEP_LOGS !== '1') fs.rmSync(dir, { recursive: true, force: true });
    else if (dir) process.stderr.write(`cluster logs kept in ${dir}\n`);
  }, 300_000);

  test(`issue 17 / SPEC §9: on a Temporal cluster on PostgreSQL with three workers, the initial sync of ${USERS} users in ${GROUPS} groups survives a killed worker, a rolling restart, a stopped frontend, a killed history service and a restarted database: everyone exactly once in Notion, no 429, a rename applied`, async () => {
    const { cluster, jumpcloud } = stack;
    const cli = async (...args: string[]) => {
      const result = await runCli(args, stack.env, undefined, 300_000);
      expect([args.join(' '), result.code, result.stderr.split('\n').slice(-3)]).toEqual([
        args.join(' '),
        0,
        expect.anything(),
      ]);
    };
    // Group management on from the start; activation starts the feed and the Schedule, and the
    // first reconciliation is asked for (`sync` stops following it at once; it goes on).
    await cli('groups', 'enable');
    await cli('activate', '--approve-creations');
    await cli('sync', '--timeout', '1');

    // 1. A worker killed mid-sync, with no chance to finish anything.
    await eventually('the sync to be under way', () => members().length > USERS / 10);
    await stack.stopWorker(0, 'SIGKILL');
    await untilReady(stack.startWorker(0));

    // 2. A rename in JumpCloud while the faults go on: the change feed must deliver it.
    const renamed = people[7]!;
    jumpcloud.updateUser(jumpcloud.state().users.find((u) => u.username === renamed.username)!._id, {
      lastname: 'Renamed-During-Faults',
    });

    // 3. A rolling restart: each worker stopped (SIGTERM) and started again, one after another.
    for (let i = 0; i < stack.workers.length; i++) {
      await stack.stopWorker(i, 'SIGTERM');
      await untilReady(stack.startWorker(i));
    }

    // 4. The frontend stopped: every worker's readiness goes false (liveness stays), then back.
    await cluster.kill('frontend', 'SIGKILL');
    for (let i = 0; i < stack.workers.length; i++) {
      await eventually(
        'readiness to go false',
        async () => (await probe(i, '/readyz')).status === 503,
        60_000,
      );
      expect((await probe(i, '/healthz')).status).toBe(200);
    }
    cluster.start('frontend');
    await cluster.ready();
    for (const worker of stack.workers) await untilReady(worker);

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
    const synced = () => ({
      users: members().filter((m) => m.active && m.userName.startsWith('member')).length,
      groups: groups().filter((g) => g.members.length === USERS / GROUPS).length,
    });
    await eventually(
      'every user and group in Notion',
      () => synced().users === USERS && synced().groups === GROUPS,
      900_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(synced())} of ${USERS} users, ${GROUPS} groups`);
    });
    await eventually(
      'the rename',
      () => members().find((m) => m.userName === renamed.email)?.familyName === 'Renamed-During-Faults',
    );

    expect(stack.crashes).toEqual([]);
    const userNames = members().map((m) => m.userName);
    expect(new Set(userNames).size).toBe(userNames.length);
    expect(
      groups()
        .map((g) => g.displayName)
        .sort(),
    ).toEqual(Array.from({ length: GROUPS }, (_, g) => groupName(g)).sort());
    const notionLog = await timeline('notion');
    // Each user and group created once: a retried POST after a worker died is answered 409 and linked.
    expect(notionLog.filter((r) => r.route === 'POST /scim/v2/Users' && r.status === 201).length).toBe(USERS);
    expect(notionLog.filter((r) => r.route === 'POST /scim/v2/Groups' && r.status === 201).length).toBe(
      GROUPS,
    );
    expect(notionLog.filter((r) => r.route.startsWith('DELETE')).length).toBe(0);
    for (const log of [notionLog, await timeline('jumpcloud')])
      expect(log.filter((r) => r.status === 429)).toEqual([]);
  }, 2_400_000);

  test("issue 17: the three workers' metrics agree with the emulators' request logs", async () => {
    const { notion, jumpcloud } = stack;
    const scrape = async () =>
      Promise.all(stack.workers.map(async (_, i) => (await probe(i, '/metrics')).text));
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
    expect((await runCli(['sync', '--timeout', '300'], stack.env, undefined, 400_000)).code).toBe(0);
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

describeCluster('`jc-notion local --cluster` (issue 17)', () => {
  test('starts the production topology (cluster on PostgreSQL, UI, emulators, worker processes), answers admin commands, and stops on SIGINT with no process or database left behind', async () => {
    const child = spawnCli(['local', '--cluster', '--workers', '2', '--seed', 'demo', '--json'], cleanEnv());
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      // The JSON report is printed whole once everything is ready (`"status": "ready"` comes first).
      const output = await waitForOutput(child, /^}$/m, 600_000);
      const ready = JSON.parse(output) as {
        status: string;
        endpoints: { name: string; url: string; detail?: string }[];
      };
      expect(ready.status).toBe('ready');
      const url = (name: string) => ready.endpoints.find((e) => e.name === name)!.url;
      const address = url('Temporal');
      const database = /database (\S+) on PostgreSQL/.exec(
        ready.endpoints.find((e) => e.name === 'Temporal')!.detail ?? '',
      )![1]!;
      const postgres = await ensurePostgres();
      expect(await databasesNamed(postgres, database)).toEqual([database, `${database}_visibility`]);
      // The UI of the cluster, proxying to it.
      const namespaces = await request(`${url('Temporal UI')}/api/v1/namespaces`);
      expect(namespaces.statusCode).toBe(200);
      expect(await namespaces.body.text()).toContain('"default"');
      // Two worker processes, each with its metrics.
      const workerEndpoints = ready.endpoints.filter((e) => e.name.startsWith('Worker '));
      expect(workerEndpoints).toHaveLength(2);
      for (const worker of workerEndpoints) {
        const metrics = await request(worker.url);
        expect(metrics.statusCode).toBe(200);
        expect(await metrics.body.text()).toContain('jcn_api_requests_total');
      }
      // The admin commands work against it: activation verifies both emulators.
      const env = cleanEnv({
        TEMPORAL_ADDRESS: address,
        JUMPCLOUD_BASE_URL: url('JumpCloud API').replace(/\/api$/, ''),
        JUMPCLOUD_API_KEY: 'local-jumpcloud-key',
        JUMPCLOUD_APP_ID: '64b7f0c2a1d3e4f5a6b7c8d9',
        NOTION_SCIM_BASE_URL: url('Notion SCIM'),
        NOTION_SCIM_TOKEN: 'local-notion-token',
      });
      const activated = await runCli(['activate'], env, undefined, 300_000);
      expect([activated.code, activated.stdout]).toEqual([
        0,
        expect.stringContaining('verified and activated'),
      ]);

      const pids = workerEndpoints.map((e) => Number(/pid (\d+)/.exec(e.detail ?? '')![1]));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
      // No Temporal service of the stack is left (its frontend port is closed), nor its databases.
      const frontend = await fetch(`http://${address}`).then(
        () => 'open',
        () => 'closed',
      );
      expect(frontend).toBe('closed');
      expect(await databasesNamed(postgres, database)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  }, 900_000);
});
