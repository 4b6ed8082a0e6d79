/**
 * Issue 16, end to end: two connectors on one dev server, one namespace and one configured task
 * queue, each with its own JumpCloud application and Notion workspace (two pairs of emulators),
 * their workers side by side in this process. Each converges its own users, through a
 * reconciliation and through the change feed, and nothing of one reaches the other's services
 * (asserted on both pairs of emulators' request logs). Then a worker started as connector alpha
 * with beta's credentials: its activities are refused with a clear error, and nothing is sent to
 * either workspace meanwhile.
 */
import { createJumpCloudEmulator, type JumpCloudEmulator } from '../harness/emulators/jumpcloud';
import { createNotionEmulator, type NotionEmulator } from '../harness/emulators/notion';
import { statusQuery } from '../contracts/connector';
import { workflowIds } from '../temporal/ids';
import { runCli } from './support/cli';
import { productSettings, startProductWorkers, checkHistories, type ProductWorkers } from './support/product';
import { startTestTemporal, uniqueTaskQueue, type TestTemporal } from './support/temporal';

interface Tenant {
  connectorId: string;
  appId: string;
  secrets: { JUMPCLOUD_API_KEY: string; NOTION_SCIM_TOKEN: string };
  people: { username: string; email: string; firstname: string; lastname: string }[];
  jumpcloud: JumpCloudEmulator;
  notion: NotionEmulator;
  origins: { jumpcloud: string; notion: string };
}

let temporal: TestTemporal;
const running: ProductWorkers[] = [];
const tenants: Tenant[] = [];
/** Both connectors are configured with the same TEMPORAL_TASK_QUEUE: their queues still differ. */
const SHARED_QUEUE = uniqueTaskQueue('isolation');

async function tenant(connectorId: string, appId: string, orgId: string, names: string[]): Promise<Tenant> {
  const secrets = {
    JUMPCLOUD_API_KEY: `${connectorId}-jc-key-5b1e9d`,
    NOTION_SCIM_TOKEN: `${connectorId}-notion-token-c04a7f`,
  };
  const jumpcloud = createJumpCloudEmulator({ apiKey: secrets.JUMPCLOUD_API_KEY, orgId, notionAppId: appId });
  const notion = createNotionEmulator({ token: secrets.NOTION_SCIM_TOKEN });
  const origins = { jumpcloud: await jumpcloud.listen(), notion: await notion.listen() };
  const people = names.map((name) => ({
    username: name,
    email: `${name}@example.com`,
    firstname: name.toUpperCase(),
    lastname: connectorId,
  }));
  jumpcloud.seed({
    users: people,
    groups: [{ name: 'Staff', members: names }],
    bindings: [{ groups: ['Staff'] }],
  });
  const t = { connectorId, appId, secrets, people, jumpcloud, notion, origins };
  tenants.push(t);
  return t;
}

/** The settings of a worker serving `connectorId` with `credentials`' directories and secrets. */
function settingsOf(connectorId: string, credentials: Tenant): Record<string, string> {
  return productSettings(temporal, connectorId, credentials.origins, {
    TEMPORAL_TASK_QUEUE: SHARED_QUEUE,
    JUMPCLOUD_APP_ID: credentials.appId,
    ...credentials.secrets,
    POLL_INTERVAL: '2s',
    RECONCILE_INTERVAL: '1h',
  });
}

async function cli(env: NodeJS.ProcessEnv, ...args: string[]) {
  const result = await runCli(args, env);
  if (result.code !== 0)
    throw new Error(`jc-notion ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
  return result;
}

async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const members = (t: Tenant) =>
  (t.notion.state() as { users: { userName: string; active: boolean; familyName?: string }[] }).users;

/** Every request a service's emulator received, as `route query`. */
async function requestLog(origin: string): Promise<string[]> {
  const reply = (await (await fetch(`${origin}/_emulator/requests/timeline`)).json()) as {
    requests: { route: string; status: number; query?: string }[];
  };
  return reply.requests.map((r) => `${r.route} ${decodeURIComponent(r.query ?? '')} → ${r.status}`);
}

let alpha: Tenant;
let beta: Tenant;

beforeAll(async () => {
  temporal = await startTestTemporal();
  alpha = await tenant('alpha', '64b7f0c2a1d3e4f5a6b7c8d1', '5e9a3c7b1d2f4a6b8c0d1e21', [
    'ann',
    'art',
    'amy',
  ]);
  beta = await tenant('beta', '64b7f0c2a1d3e4f5a6b7c8d2', '5e9a3c7b1d2f4a6b8c0d1e22', [
    'bob',
    'bea',
    'bud',
    'ben',
  ]);
});

afterAll(async () => {
  for (const workers of running) await workers.stop();
  for (const t of tenants) {
    await t.jumpcloud.close();
    await t.notion.close();
  }
  await temporal?.stop();
});

test('issue 16: two connectors on one namespace and one configured queue each converge their own users, and nothing of one reaches the other', async () => {
  const alphaWorkers = await startProductWorkers(temporal, settingsOf('alpha', alpha));
  const betaWorkers = await startProductWorkers(temporal, settingsOf('beta', beta));
  running.push(alphaWorkers, betaWorkers);
  for (const workers of [alphaWorkers, betaWorkers]) {
    await cli(workers.env, 'activate', '--approve-creations');
    await cli(workers.env, 'sync', '--timeout', '180');
  }
  for (const t of [alpha, beta])
    await eventually(`${t.connectorId}'s users in its Notion`, () =>
      t.people.every((p) => members(t).some((m) => m.userName === p.email && m.active)),
    );

  // The change feed too: a rename in each directory reaches that directory's workspace only.
  for (const t of [alpha, beta]) {
    const first = t.jumpcloud.state().users.find((u) => u.username === t.people[0]!.username)!;
    t.jumpcloud.updateUser(first._id, { lastname: `${t.connectorId}-renamed` });
  }
  for (const t of [alpha, beta])
    await eventually(`${t.connectorId}'s rename`, () =>
      members(t).some(
        (m) => m.userName === t.people[0]!.email && m.familyName === `${t.connectorId}-renamed`,
      ),
    );

  for (const [t, other] of [
    [alpha, beta],
    [beta, alpha],
  ] as const) {
    // Each workspace holds its own people (and its token's owner), none of the other's.
    const names = members(t).map((m) => m.userName);
    for (const p of t.people) expect(names).toContain(p.email);
    for (const p of other.people) expect(names).not.toContain(p.email);
    // Each service was asked about its own people only, always with its own credentials.
    const log = [...(await requestLog(t.origins.notion)), ...(await requestLog(t.origins.jumpcloud))];
    expect(log.length).toBeGreaterThan(0);
    for (const p of other.people) expect(log.filter((line) => line.includes(p.email))).toEqual([]);
    expect(log.filter((line) => / → 40[13]$/.test(line))).toEqual([]);
    expect(t.notion.control.requests().byRoute['POST /scim/v2/Users']).toBe(t.people.length);
  }
  await alphaWorkers.stop();
  running.splice(running.indexOf(alphaWorkers), 1);
});

test("issue 16: a worker started as connector alpha with beta's credentials has its activities refused with a clear error, and writes nowhere", async () => {
  // alpha's own workers are stopped (previous test); this one holds beta's directory and secrets.
  const impostor = await startProductWorkers(temporal, settingsOf('alpha', beta));
  running.push(impostor);
  const writes = (t: Tenant) => {
    const { byRoute } = t.notion.control.requests();
    return Object.entries(byRoute)
      .filter(([route]) => !route.startsWith('GET '))
      .reduce((sum, [, n]) => sum + n, 0);
  };
  const before = { alpha: writes(alpha), beta: writes(beta) };
  const newcomer = alpha.jumpcloud.createUser({
    username: 'ada',
    email: 'ada@example.com',
    firstname: 'Ada',
    lastname: 'alpha',
  });
  alpha.jumpcloud.addGroupMember(alpha.jumpcloud.state().groups.find((g) => g.name === 'Staff')!.id, {
    type: 'user',
    id: newcomer._id,
  });
  const sync = await runCli(['sync', '--timeout', '120'], impostor.env);
  expect(sync.code).not.toBe(0);
  const connector = temporal.client.workflow.getHandle(workflowIds.connector('alpha'));
  await eventually('the reconciliation to report', async () => {
    const status = await connector.query(statusQuery);
    return !status.runningReconcile && status.lastReconcile?.error !== undefined;
  });
  const status = await connector.query(statusQuery);
  expect(status.lastReconcile?.error).toMatch(
    new RegExp(
      `connector "alpha" was activated for JumpCloud application ${alpha.appId}, but this worker holds the credentials of application ${beta.appId}`,
    ),
  );
  expect(sync.stderr + sync.stdout).toMatch(/activated for JumpCloud application/);
  // Nothing was written to either workspace, and beta's people stayed beta's.
  expect({ alpha: writes(alpha), beta: writes(beta) }).toEqual(before);
  expect(members(beta).map((m) => m.userName)).not.toContain('ada@example.com');
  await impostor.stop();
  running.splice(running.indexOf(impostor), 1);
});

test('§7/§2: every history of both connectors replays and holds none of either tenant’s secrets', async () => {
  for (const t of [alpha, beta]) expect(await checkHistories(temporal, t.connectorId)).toBeGreaterThan(0);
  const everything: string[] = [];
  for await (const execution of temporal.client.workflow.list())
    everything.push(
      JSON.stringify(
        await temporal.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory(),
      ),
    );
  for (const t of [alpha, beta])
    for (const secret of Object.values(t.secrets))
      expect(everything.filter((history) => history.includes(secret))).toEqual([]);
});
