/**
 * Issue 15, end to end: reconciliations that neither give up nor wedge. A real Temporal dev
 * server, the product's workers in this process, both emulators and the `jc-notion` command.
 *
 * - The demo organisation under a fault storm (Notion: 15% 500, 10% 429, 5% resets; JumpCloud:
 *   10% 503, 5% resets): the reconciliation started by `groups enable` completes by itself and
 *   every user it plans to create is created exactly once.
 * - Twelve users deactivated at once by a worker with two activity slots per API queue: each
 *   deactivation needs a permit for its second request, and the permit is an activity of the
 *   same queue; the waiting activities hand their slots back instead of wedging the queue.
 * - A 6-user organisation where reconciliations run back to back (`groups enable`, `sync`, the
 *   Schedule's trigger, `sync`): each `sync` returns once its own users converged, with the
 *   right counts, instead of waiting for its timeout.
 */
import { createJumpCloudEmulator, type JumpCloudEmulator } from '../harness/emulators/jumpcloud';
import type { FaultRule } from '../harness/emulators/common/control';
import { createNotionEmulator, type NotionEmulator } from '../harness/emulators/notion';
import { createDemoOrganization } from '../harness/emulators/seed/demo';
import { BULK_PAGE_ATTEMPTS } from '../activities/clients';
import { reconcileScheduleId } from '../activities/schedule';
import { startSyncUpdate, statusQuery } from '../contracts/connector';
import { handOverStartedSignal, type ReconcileSummary } from '../contracts/reconcile';
import { workflowIds } from '../temporal/ids';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { EntityGateway } from '../temporal/entities';
import { runCli } from './support/cli';
import { TEST_SECRETS } from './support/config';
import { checkHistories, productSettings, startProductWorkers, type ProductWorkers } from './support/product';
import { startTestTemporal, type TestTemporal } from './support/temporal';

interface NotionState {
  users: { id: string; userName: string; active: boolean }[];
  groups: { id: string; displayName: string; members: string[] }[];
}

interface Stack {
  connectorId: string;
  jumpcloud: JumpCloudEmulator;
  notion: NotionEmulator;
  /** Replaced when the workers are restarted (`restartWorkers`). */
  product: ProductWorkers;
  restartWorkers(): Promise<void>;
  env: NodeJS.ProcessEnv;
  origins: { jumpcloud: string; notion: string };
}

let temporal: TestTemporal;
const stacks: Stack[] = [];

async function startStack(
  connectorId: string,
  seed: (jumpcloud: JumpCloudEmulator, notion: NotionEmulator) => void,
  extra: Record<string, string> = {},
  workerOptions: { apiActivitySlots?: number; dispatchWindow?: number } = {},
): Promise<Stack> {
  const jumpcloud = createJumpCloudEmulator({ apiKey: TEST_SECRETS.JUMPCLOUD_API_KEY });
  const notion = createNotionEmulator({ token: TEST_SECRETS.NOTION_SCIM_TOKEN });
  const origins = { jumpcloud: await jumpcloud.listen(), notion: await notion.listen() };
  seed(jumpcloud, notion);
  const settings = productSettings(temporal, connectorId, origins, {
    // Only the reconciliations under test run: no feed poll, no scheduled run.
    POLL_INTERVAL: '1h',
    RECONCILE_INTERVAL: '1h',
    ...extra,
  });
  const product = await startProductWorkers(temporal, settings, workerOptions);
  const stack: Stack = {
    connectorId,
    jumpcloud,
    notion,
    product,
    env: product.env,
    origins,
    restartWorkers: async () => {
      await stack.product.stop();
      stack.product = await startProductWorkers(temporal, settings, workerOptions);
    },
  };
  stacks.push(stack);
  return stack;
}

async function cli(stack: Stack, ...args: string[]) {
  const result = await runCli(args, stack.env);
  if (result.code !== 0)
    throw new Error(`jc-notion ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
  return result;
}

async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 240_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** An emulator's request log, in order (route, status, query). */
const timeline = async (origin: string) =>
  (
    (await (await fetch(`${origin}/_emulator/requests/timeline`)).json()) as {
      requests: { route: string; status: number; query?: string }[];
    }
  ).requests;

const connectorStatus = (stack: Stack) =>
  temporal.client.workflow.getHandle(workflowIds.connector(stack.connectorId)).query(statusQuery);

beforeAll(async () => {
  temporal = await startTestTemporal();
});

afterAll(async () => {
  for (const stack of stacks) {
    await stack.product.stop();
    await stack.jumpcloud.close();
    await stack.notion.close();
  }
  await temporal?.stop();
});

test('issue 15 (C5): under a fault storm the reconciliation started by `groups enable` on the demo organisation completes by itself, and every user it plans to create is created exactly once', async () => {
  const demo = createDemoOrganization();
  const stack = await startStack('storm-e2e', (jumpcloud, notion) => {
    jumpcloud.seed(demo.jumpcloud);
    notion.seed(demo.notion);
  });
  await cli(stack, 'activate', '--approve-creations');
  const plan = JSON.parse((await cli(stack, 'sync', '--dry-run', '--json')).stdout) as ReconcileSummary;
  const toCreate = (plan.plan ?? [])
    .flatMap((entry) => entry.operations)
    .filter((operation) => operation.startsWith('create '))
    .map((operation) => operation.slice('create '.length));
  expect(toCreate.length).toBeGreaterThan(100);

  const notionStorm: FaultRule[] = [
    { rate: 0.15, action: { type: 'status', status: 500 } },
    { rate: 0.1, action: { type: 'status', status: 429, retryAfter: 1 } },
    { rate: 0.05, action: { type: 'reset' } },
  ];
  const jumpcloudStorm: FaultRule[] = [
    { rate: 0.1, action: { type: 'status', status: 503 } },
    { rate: 0.05, action: { type: 'reset' } },
  ];
  stack.notion.control.clearRequests();
  stack.notion.control.setFaults({ rules: notionStorm });
  stack.jumpcloud.control.setFaults({ rules: jumpcloudStorm });
  try {
    await cli(stack, 'groups', 'enable');
    // No manual retry: the reconciliation reports by itself once what it handed over settled.
    await eventually(
      'the reconciliation to finish',
      async () => {
        const status = await connectorStatus(stack);
        return !status.runningReconcile && status.lastReconcile?.summary !== undefined;
      },
      // Under the test's own limit (jest's 300 s), so that a stuck run says what it waited for.
      270_000,
    );
  } finally {
    stack.notion.control.setFaults({ rules: [] });
    stack.jumpcloud.control.setFaults({ rules: [] });
  }
  const last = (await connectorStatus(stack)).lastReconcile!;
  expect(last.error).toBeUndefined();
  expect(last.summary?.settled?.complete).toBe(true);

  const state = stack.notion.state() as NotionState;
  const byName = new Map<string, number>();
  for (const user of state.users) byName.set(user.userName, (byName.get(user.userName) ?? 0) + 1);
  for (const userName of toCreate) {
    expect([userName, byName.get(userName)]).toEqual([userName, 1]);
    expect(state.users.find((user) => user.userName === userName)?.active).toBe(true);
  }
  // The storm did hit: requests failed, and were tried again inside the listings or by Temporal.
  const { byStatus } = stack.notion.control.requests();
  expect((byStatus['500'] ?? 0) + (byStatus['429'] ?? 0)).toBeGreaterThan(10);

  // After the storm a sync has nothing left to create.
  const after = JSON.parse((await cli(stack, 'sync', '--dry-run', '--json')).stdout) as ReconcileSummary;
  expect(after.planned.create).toBe(0);
});

test('issue 15 (C5): reconciliations back to back (`groups enable`, `sync`, the Schedule, `sync`): each `sync` returns once its own users converged, with the right counts', async () => {
  const people = ['ann', 'bob', 'cat', 'dan', 'eve', 'fay'].map((name) => ({
    username: name,
    email: `${name}@example.com`,
    firstname: name.toUpperCase(),
    lastname: 'Six',
  }));
  const stack = await startStack('back-to-back-e2e', (jumpcloud) => {
    jumpcloud.seed({
      users: people,
      groups: [{ name: 'Six', members: people.map((p) => p.username) }],
      bindings: [{ groups: ['Six'] }],
    });
  });
  await cli(stack, 'activate', '--approve-creations');

  // `groups enable` reconciles at once; `sync` right behind it starts a second reconciliation
  // while the first one's users are still converging. It must return with its own counts, well
  // before its timeout (the users used to carry the first reconciliation's id, and `sync` waited
  // for all of its 600 s).
  await cli(stack, 'groups', 'enable');
  const second = await cli(stack, 'sync', '--timeout', '180');
  expect(second.stdout).not.toMatch(/still/);
  const planned = Number(/users planned\s+(\d+)/.exec(second.stdout)?.[1]);
  expect(second.stdout).toMatch(new RegExp(`done\\s+${planned}\\b`));
  expect(second.stdout).toMatch(/failed\s+0/);
  await eventually('the six users in Notion', () =>
    people.every((p) =>
      (stack.notion.state() as NotionState).users.some((u) => u.userName === p.email && u.active),
    ),
  );

  // A rename for everyone, then the Schedule's run and a `sync` together: both reconcile the six.
  for (const p of people) {
    const user = stack.jumpcloud.state().users.find((u) => u.username === p.username)!;
    stack.jumpcloud.updateUser(user._id, { lastname: 'Renamed' });
  }
  await temporal.client.schedule.getHandle(reconcileScheduleId(stack.connectorId)).trigger();
  const third = await cli(stack, 'sync', '--timeout', '180', '--json');
  const summary = JSON.parse(third.stdout) as ReconcileSummary & {
    progress: { done: number; failed: number };
  };
  expect(summary.settled?.complete).toBe(true);
  expect(summary.progress.done).toBe(summary.dispatched);
  expect(summary.progress.failed).toBe(0);
  await eventually('the renames in Notion', () =>
    people.every((p) =>
      (stack.notion.state() as NotionState).users.some(
        (u) => u.userName === p.email && (u as { familyName?: string }).familyName === 'Renamed',
      ),
    ),
  );
  // A sync with nothing to do returns at once.
  const idle = await cli(stack, 'sync', '--timeout', '60');
  expect(idle.stdout).toMatch(/users planned\s+0/);
});

test('issue 15 (U10, C6): activities waiting for a permit hand their slot back: twelve users of an unbound group are deactivated by a worker with two slots per API queue', async () => {
  const people = Array.from({ length: 12 }, (_, i) => ({
    username: `leaver${i}`,
    email: `leaver${i}@example.com`,
    firstname: 'Leaver',
    lastname: String(i),
  }));
  const stack = await startStack(
    'parked-slots-e2e',
    (jumpcloud) => {
      jumpcloud.seed({
        users: people,
        groups: [{ name: 'Leaving', members: people.map((p) => p.username) }],
        bindings: [{ groups: ['Leaving'] }],
      });
    },
    { DEACTIVATION_THRESHOLD: '50' },
    { apiActivitySlots: 2 },
  );
  await cli(stack, 'activate', '--approve-creations');
  await cli(stack, 'sync', '--timeout', '300');
  const active = () =>
    (stack.notion.state() as NotionState).users.filter((u) => u.active).map((u) => u.userName);
  await eventually('the twelve in Notion', () => people.every((p) => active().includes(p.email)));

  // Each deactivation reads the member, then PATCHes it: the second request waits for a permit,
  // a no-op activity queued behind the other deactivations. Holding both slots while waiting,
  // two deactivations stopped the queue (and a timed-out attempt kept its slot for good).
  // Slow answers from Notion let the deactivations queue up behind the two that run.
  stack.notion.control.setFaults({ latencyMs: 500, rules: [] });
  const leaving = stack.jumpcloud.state().groups.find((g) => g.name === 'Leaving')!;
  stack.jumpcloud.unbind({ type: 'user_group', id: leaving.id });
  await cli(stack, 'sync', '--timeout', '300');
  // Well within one attempt's timeout (45 s) per pair of deactivations, had they wedged.
  await eventually('the twelve deactivated', () => people.every((p) => !active().includes(p.email)), 120_000);
});

/**
 * A connector whose application binds `users` people through one group, its workers handing
 * users over `window` at a time, Notion's creations slowed to `creationMs`; activated, creations
 * approved. `created()` counts those people active in Notion.
 */
async function startWindowedStack(
  connectorId: string,
  options: { users: number; window: number; creationMs: number; settings?: Record<string, string> },
) {
  const people = Array.from({ length: options.users }, (_, i) => ({
    username: `${connectorId}-${i}`,
    email: `${connectorId}-${i}@example.com`,
    firstname: 'Windowed',
    lastname: String(i),
  }));
  const stack = await startStack(
    connectorId,
    (jumpcloud) => {
      jumpcloud.seed({
        users: people,
        groups: [{ name: 'Windowed', members: people.map((p) => p.username) }],
        bindings: [{ groups: ['Windowed'] }],
      });
    },
    options.settings ?? {},
    { dispatchWindow: options.window },
  );
  stack.notion.control.setFaults({
    rules: [{ route: 'POST /scim/v2/Users', action: { type: 'latency', ms: options.creationMs } }],
  });
  await cli(stack, 'activate', '--approve-creations');
  const emails = new Set(people.map((p) => p.email));
  const created = () =>
    (stack.notion.state() as NotionState).users.filter((u) => u.active && emails.has(u.userName)).length;
  return { stack, people, created };
}

test('issue 18 (C5): a reconciliation hands its users over a window at a time: never more than the window waiting to settle, `sync` shows their progress meanwhile, and every user converges', async () => {
  const WINDOW = 4;
  // Slow creations keep the users handed over unsettled for a while: without the window, all 24
  // are handed over while the first creations are still under way.
  const { stack, people, created } = await startWindowedStack('dispatch-window-e2e', {
    users: 24,
    window: WINDOW,
    creationMs: 2_000,
  });
  const gateway = new EntityGateway(temporal.client);
  // Sampled in this order, the user workflows Temporal shows as started are at most those handed
  // over, and the members created at least those the window counted as settled.
  let most = 0;
  let sampling = true;
  let first: string | undefined;
  const sampler = (async () => {
    while (sampling) {
      const started = await gateway.count({ connectorId: stack.connectorId, kind: 'user' });
      most = Math.max(most, started - created());
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  try {
    const sync = await cli(stack, 'sync', '--timeout', '300');
    first = sync.stderr;
    expect(sync.stdout).toMatch(/failed\s+0/);
    // The hand-over lasts as long as the sync: `sync` shows the users' progress during it, not
    // only once the last user was handed over, when all but the last window are done (a line
    // every 5 s; the sync takes over 12 s).
    const shown = [...sync.stderr.matchAll(/users: (\d+)\/24 done/g)].map((m) => Number(m[1]));
    expect(shown.some((done) => done < people.length - WINDOW)).toBe(true);
    await eventually('the 24 users in Notion', () => created() === people.length);
  } finally {
    sampling = false;
    await sampler;
  }
  expect(most).toBeGreaterThan(0);
  expect(most).toBeLessThanOrEqual(WINDOW);

  // The count is told once per reconciliation that hands users over, and not by one with nothing
  // to hand over (a quiet hour's): no event for nothing.
  const handOverSignals = async (stderr: string) => {
    const workflowId = /Reconciling: (\S+)/.exec(stderr)?.[1];
    expect(workflowId).toBeDefined();
    const { events } = await temporal.client.workflow.getHandle(workflowId!).fetchHistory();
    return (events ?? []).filter(
      (e) => e.workflowExecutionSignaledEventAttributes?.signalName === handOverStartedSignal.name,
    ).length;
  };
  const idle = await cli(stack, 'sync', '--timeout', '120');
  expect(idle.stdout).toMatch(/users planned\s+0/);
  expect(await handOverSignals(idle.stderr)).toBe(0);
  expect(await handOverSignals(first ?? '')).toBe(1);
});

test('C5: never two reconciliations at once: `sync`s that arrive together share one, a `sync` while one runs follows it to its report, and every user is created once', async () => {
  // Creations slowed to 2 s, a window of 4: the reconciliation runs for about 10 s.
  const { stack, people, created } = await startWindowedStack('one-reconciliation', {
    users: 12,
    window: 4,
    creationMs: 2_000,
  });
  // `activate` previews the first reconciliation with a dry run: count from here.
  const reconciliations = async () =>
    (
      await temporal.client.workflow.count(
        `${SEARCH_ATTRIBUTES.connectorId.name} = "${stack.connectorId}" AND ${SEARCH_ATTRIBUTES.kind.name} = "reconcile"`,
      )
    ).count;
  const before = await reconciliations();
  const connector = temporal.client.workflow.getHandle(workflowIds.connector(stack.connectorId));
  const sync = () => connector.executeUpdate(startSyncUpdate, { args: [{ dryRun: false }] });
  const together = await Promise.all([sync(), sync()]);
  expect(together[1].workflowId).toBe(together[0].workflowId);
  expect(together.filter((started) => started.alreadyRunning)).toHaveLength(1);
  await eventually('the first users in Notion', () => created() >= 1);
  expect(created()).toBeLessThan(people.length);

  // Before, each `sync` started its own reconciliation: both planned every user and handed them over.
  const during = await cli(stack, 'sync', '--json', '--timeout', '300');
  const report = JSON.parse(during.stdout) as ReconcileSummary & {
    alreadyRunning?: boolean;
    progress: { done: number; failed: number };
  };
  expect(report.alreadyRunning).toBe(true);
  expect(workflowIds.reconcile(stack.connectorId, report.reconcileId)).toBe(together[0].workflowId);
  // The report is the whole reconciliation's, not only what happened while this `sync` watched.
  expect(report.dispatched).toBe(people.length);
  expect(report.progress).toMatchObject({ done: people.length, failed: 0 });
  expect(created()).toBe(people.length);

  expect(await reconciliations()).toBe(before + 1);
  const posts = (await timeline(stack.origins.notion)).filter((r) => r.route === 'POST /scim/v2/Users');
  expect(posts).toHaveLength(people.length);

  // Once it has ended, the next `sync` starts a new one, as before.
  const next = await cli(stack, 'sync', '--timeout', '120');
  expect(next.stderr).not.toMatch(/already running/);
  expect(next.stdout).toMatch(/users planned\s+0/);
});

test("issue 15 (C5): a reconciliation whose hand-over is retried (its workers restarted part-way) reports every user it brought to Notion, the earlier attempt's too", async () => {
  // Creations slowed to 4 s, a window of 4: 24 users take about 24 s to hand over, so the workers'
  // restart (a graceful stop lets activities run 10 s more) fails the hand-over's first attempt.
  const { stack, people, created } = await startWindowedStack('retried-hand-over', {
    users: 24,
    window: 4,
    creationMs: 4_000,
  });
  // Limits under the test's own (jest's 300 s), so that a stuck run says what it waited for.
  const sync = runCli(['sync', '--json', '--timeout', '240'], stack.env, undefined, 270_000);
  await eventually('the first users in Notion', () => created() >= 4);
  await stack.restartWorkers();
  const { stdout, stderr, code } = await sync;
  expect([code, stderr]).toEqual([0, expect.any(String)]);
  const result = JSON.parse(stdout) as ReconcileSummary & { progress: { done: number; failed: number } };
  // The attempt that completed is not the first.
  expect(result.settleId).toMatch(/#[2-9]$/);
  // Before, the report counted the last attempt's users only ("users planned 10, done 10"), and
  // the progress lines, which count every attempt's, went past it ("users: 20/10 done").
  expect(result.dispatched).toBe(people.length);
  expect(result.settled).toMatchObject({ users: people.length, failed: 0, complete: true });
  expect(result.progress).toMatchObject({ done: people.length, failed: 0 });
  // …users the first attempt had settled, not handed over again.
  expect(result.settledEarlier).toBeGreaterThan(0);
  const shown = [...stderr.matchAll(/users: (\d+)\/(\d+) done/g)];
  expect(shown.length).toBeGreaterThan(0);
  for (const [line, done, planned] of shown)
    expect([line, Number(done) <= Number(planned)]).toEqual([line, true]);
  expect(created()).toBe(people.length);
});

/**
 * A reconciliation stopped while it hands its users over (a window of 4, Notion's creations slowed
 * to 4 s: 48 users take about 48 s to hand over). Its activity learns that it is no longer wanted
 * only from a heartbeat's answer, and the SDK sends one at most every 60 s by default: the hand-over
 * went on for up to a minute after `deactivate` (C2) or a termination. The workers now send them at
 * least every few seconds (`HEARTBEAT_THROTTLE`, worker/worker.ts), so the hand-over stops within
 * seconds, long before it would have handed over everyone. Returns the stack, its sync stopped.
 */
async function stopMidHandOver(
  connectorId: string,
  stop: (stack: Stack, reconcileWorkflowId: string) => Promise<void>,
): Promise<{ stack: Stack; people: number; handedOver: number; created: () => number }> {
  const WINDOW = 4;
  const { stack, people, created } = await startWindowedStack(connectorId, {
    users: 48,
    window: WINDOW,
    creationMs: 4_000,
  });
  const gateway = new EntityGateway(temporal.client);
  const handedOver = () => gateway.count({ connectorId, kind: 'user' });
  const { workflowId } = await temporal.client.workflow
    .getHandle(workflowIds.connector(connectorId))
    .executeUpdate(startSyncUpdate, { args: [{ dryRun: false }] });
  await eventually('the first window handed over', async () => (await handedOver()) >= WINDOW);
  await stop(stack, workflowId);
  // Stopped: nothing more is handed over for 10 s on end (one every second or so while it ran).
  let last = await handedOver();
  let since = Date.now();
  await eventually('the hand-over to stop', async () => {
    const now = await handedOver();
    if (now !== last) [last, since] = [now, Date.now()];
    return Date.now() - since >= 10_000;
  });
  expect(last).toBeLessThan(people.length);
  return { stack, people: people.length, handedOver: last, created };
}

test("C2: deactivate during a reconciliation's hand-over stops it within seconds, and what reached Notion stays; activate and sync converge everyone", async () => {
  const { stack, people, handedOver, created } = await stopMidHandOver('halt-deactivate', (stack) =>
    cli(stack, 'deactivate').then(() => undefined),
  );
  // The users handed over finish what they started, at most; nobody else is created.
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  expect(created()).toBeLessThanOrEqual(handedOver);
  expect((await cli(stack, 'status')).stdout).toMatch(/not activated/);

  stack.notion.control.setFaults({ rules: [] });
  await cli(stack, 'activate');
  const sync = await cli(stack, 'sync', '--timeout', '300');
  expect(sync.stdout).toMatch(/failed\s+0/);
  await eventually('every user in Notion', () => created() === people);
});

test('C2: deactivate stops the Notion writes of the users already handed over within seconds, not only the hand-over; activate and sync converge everyone, each created once', async () => {
  // All 40 users are handed over at once (a window of 40), and Notion's rate (2 requests/s) keeps
  // their creations queued for about 20 s: without the workers' check, they went on writing after
  // `deactivate` until every one was created.
  const { stack, people, created } = await startWindowedStack('halt-writes', {
    users: 40,
    window: 40,
    creationMs: 100,
    settings: { NOTION_MAX_RPS: '2' },
  });
  await temporal.client.workflow
    .getHandle(workflowIds.connector(stack.connectorId))
    .executeUpdate(startSyncUpdate, { args: [{ dryRun: false }] });
  await eventually('the first creations', () => created() >= 2);
  await cli(stack, 'deactivate');
  // The workers learn of it within ACTIVATION_CHECK_MS (2 s); writes under way end.
  await new Promise((resolve) => setTimeout(resolve, 8_000));
  const stopped = created();
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  expect(created()).toBe(stopped);
  expect(stopped).toBeLessThan(people.length);
  // The users refused say why, and what brings them back.
  const errors = await new EntityGateway(temporal.client).count({
    connectorId: stack.connectorId,
    kind: 'user',
    syncState: 'error',
  });
  expect(errors).toBeGreaterThan(0);
  const status = (await cli(stack, 'status')).stdout;
  expect(status).toMatch(/Connector halt-writes: not activated \(deactivated at \S+: no Notion write until/);
  expect(status).toMatch(/deactivated at .*\(C2\): nothing is written to Notion until `jc-notion activate`/);

  await cli(stack, 'activate');
  const sync = await runCli(['sync', '--timeout', '300'], stack.env, undefined, 360_000);
  expect([sync.code, sync.stdout]).toEqual([0, expect.stringMatching(/failed\s+0/)]);
  await eventually('every user in Notion', () => created() === people.length);
  const posts = (await timeline(stack.origins.notion)).filter(
    (r) => r.route === 'POST /scim/v2/Users' && r.status === 201,
  );
  expect(posts).toHaveLength(people.length);
});

test('C5: a reconciliation terminated during its hand-over stops handing over within seconds; the next one converges everyone', async () => {
  const { stack, people, created } = await stopMidHandOver('halt-terminate', async (_stack, reconcile) => {
    await temporal.client.workflow.getHandle(reconcile).terminate('test: an admin stops it');
  });
  stack.notion.control.setFaults({ rules: [] });
  // The connector finds it gone (it never reported back) and starts the next one.
  const sync = await cli(stack, 'sync', '--timeout', '300');
  expect(sync.stdout).toMatch(/failed\s+0/);
  await eventually('every user in Notion', () => created() === people);
  const status = await temporal.client.workflow
    .getHandle(workflowIds.connector(stack.connectorId))
    .query(statusQuery);
  expect(status.runningReconcile).toBeUndefined();
  expect(status.lastReconcile?.error).toBeUndefined();
});

test('issue 15 (C5): a reconciliation whose listing kept failing on one page is retried by Temporal and resumes from that page: no page of either service is read twice', async () => {
  const people = ['gus', 'hal', 'ida', 'jon'].map((name) => ({
    username: name,
    email: `${name}@example.com`,
    firstname: name.toUpperCase(),
    lastname: 'Resume',
  }));
  const stack = await startStack('resume-e2e', (jumpcloud, notion) => {
    jumpcloud.seed({
      users: people,
      groups: [{ name: 'Resume', members: people.map((p) => p.username) }],
      bindings: [{ groups: ['Resume'] }],
    });
    // Members nobody manages, so that Notion's listing has four pages.
    notion.seed({
      users: Array.from({ length: 350 }, (_, i) => ({
        userName: `member${i}@example.com`,
        givenName: 'Member',
        familyName: `${i}`,
      })),
    });
  });
  await cli(stack, 'activate', '--approve-creations');
  stack.notion.control.clearRequests();
  stack.jumpcloud.control.clearRequests();
  // Every try of the third page inside the listing fails (BULK_PAGE_ATTEMPTS), so the attempt fails.
  stack.notion.control.setFaults({
    rules: [
      {
        route: 'GET /scim/v2/Users',
        query: { startIndex: '201' },
        count: BULK_PAGE_ATTEMPTS,
        action: { type: 'status', status: 503, retryAfter: 1 },
      },
    ],
  });
  const result = JSON.parse(
    (await cli(stack, 'sync', '--timeout', '300', '--json')).stdout,
  ) as ReconcileSummary;
  expect(result.settled?.complete).toBe(true);
  expect(result.planned.create).toBe(people.length);
  expect(result.notionMembers).toBe(351);

  const notionPages = (await timeline(stack.origins.notion))
    .filter((r) => r.route === 'GET /scim/v2/Users' && r.query?.startsWith('startIndex='))
    .map((r) => `${r.query} → ${r.status}`);
  expect(notionPages).toEqual([
    'startIndex=1&count=100 → 200',
    'startIndex=101&count=100 → 200',
    ...Array.from({ length: BULK_PAGE_ATTEMPTS }, () => 'startIndex=201&count=100 → 503'),
    'startIndex=201&count=100 → 200',
    'startIndex=301&count=100 → 200',
  ]);
  // JumpCloud was read once, by the first attempt.
  const jumpcloudLists = (await timeline(stack.origins.jumpcloud)).filter((r) =>
    ['GET /api/systemusers', 'GET /api/v2/applications/{id}/users'].includes(r.route),
  );
  expect(jumpcloudLists.map((r) => `${r.route} → ${r.status}`).sort()).toEqual([
    'GET /api/systemusers → 200',
    'GET /api/v2/applications/{id}/users → 200',
  ]);
  // …by the activity's first attempt: the second one did the rest.
  const history = await temporal.client.workflow
    .getHandle(workflowIds.reconcile(stack.connectorId, result.reconcileId))
    .fetchHistory();
  const started = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes);
  expect(started.map((e) => e.activityTaskStartedEventAttributes!.attempt)).toContain(2);
});

test('issue 17 (G3, U4): a create whose answer was lost is not made twice: the retried attempt finds the group or user the lost POST made and takes it', async () => {
  const people = ['kim', 'lea', 'max', 'ned'].map((name) => ({
    username: name,
    email: `${name}@example.com`,
    firstname: name.toUpperCase(),
    lastname: 'Lost',
  }));
  const stack = await startStack('lost-answer-e2e', (jumpcloud) => {
    jumpcloud.seed({
      users: people,
      groups: [
        { name: 'Lost North', members: ['kim', 'lea', 'max'] },
        { name: 'Lost South', members: ['max', 'ned'] },
      ],
      bindings: [{ groups: ['Lost North', 'Lost South'] }],
    });
  });
  await cli(stack, 'activate', '--approve-creations');
  // Notion carries out two users' POSTs and each group's, but the answers never arrive.
  stack.notion.control.setFaults({
    rules: [
      { route: 'POST /scim/v2/Users', count: 2, action: { type: 'lose-response' } },
      { route: 'POST /scim/v2/Groups', count: 2, action: { type: 'lose-response' } },
    ],
  });
  try {
    await cli(stack, 'sync', '--timeout', '180');
    await cli(stack, 'groups', 'enable');
    // A reconciliation of its own after the one `groups enable` started: it returns once both
    // have handed their groups over.
    await cli(stack, 'sync', '--timeout', '180');
  } finally {
    stack.notion.control.setFaults({ rules: [] });
  }
  const groupNames = () =>
    (stack.notion.state() as NotionState).groups.map((g) => `${g.displayName}:${g.members.length}`).sort();
  await eventually(
    'both groups with their members in Notion',
    () => groupNames().join() === ['Lost North:3', 'Lost South:2'].join(),
    60_000,
  ).catch(() => undefined); // the assertions below say what is wrong
  const state = stack.notion.state() as NotionState;
  const idOf = (email: string) => state.users.find((u) => u.userName === email)!.id;
  const groups = state.groups.map((g) => ({ name: g.displayName, members: [...g.members].sort() }));
  expect(groups.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
    { name: 'Lost North', members: ['kim', 'lea', 'max'].map((n) => idOf(`${n}@example.com`)).sort() },
    { name: 'Lost South', members: ['max', 'ned'].map((n) => idOf(`${n}@example.com`)).sort() },
  ]);
  // Each person once (the workspace's owner is there too, untouched).
  expect(
    state.users
      .filter((u) => u.userName !== 'owner@example.com')
      .map((u) => [u.userName, u.active])
      .sort(),
  ).toEqual(people.map((p) => [p.email, true]).sort());
  // One POST per group, each carried out (201) though its answer was lost; no second POST.
  const requests = await timeline(stack.origins.notion);
  const posts = (route: string) => requests.filter((r) => r.route === route).map((r) => r.status);
  expect(posts('POST /scim/v2/Groups')).toEqual([201, 201]);
  // A user's retried POST is answered 409 (a member already), and the user is matched by email.
  expect(posts('POST /scim/v2/Users').filter((status) => status === 201)).toHaveLength(people.length);
});

test('§7/§2: every workflow history of these stories replays deterministically and holds no secret', async () => {
  for (const stack of stacks) expect(await checkHistories(temporal, stack.connectorId)).toBeGreaterThan(0);
});
