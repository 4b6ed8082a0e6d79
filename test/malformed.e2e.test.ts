/**
 * Records that do not fit the schema (issue 15), end to end: a real Temporal dev server, the
 * product's workers in this process, both emulators (the JumpCloud one serving malformed records
 * through its `/_emulator/raw/` controls) and the `jc-notion` command. A malformed user is that
 * user's error (U9, shown by `sync` and `status`), never a failed listing, a deactivation or a
 * change; a malformed Directory Insights event is skipped with a logged reason and the feed moves
 * on (C4). The tests form one story and run in order.
 */
import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import { createLogger } from '../common/logger';
import { createJumpCloudEmulator, type JumpCloudEmulator } from '../harness/emulators/jumpcloud';
import { createNotionEmulator, type NotionEmulator } from '../harness/emulators/notion';
import { feedStateQuery } from '../contracts/feed';
import { userStateQuery } from '../contracts/user';
import { workflowIds } from '../temporal/ids';
import { runCli } from './support/cli';
import { TEST_SECRETS } from './support/config';
import { checkHistories, productSettings, startProductWorkers, type ProductWorkers } from './support/product';
import { startTestTemporal, type TestTemporal } from './support/temporal';

const APP = '64b7f0c2a1d3e4f5a6b7c8d9';
const CONNECTOR = 'malformed-e2e';
const PEOPLE = 10;
/** Unreadable from the start: never provisioned. */
const BROKEN = 'u03';
/** Provisioned first, unreadable later: must stay as it is in Notion. */
const LATER = 'u05';
/** Renamed while the feed reads malformed events. */
const RENAMED = 'u01';

let temporal: TestTemporal;
let jumpcloud: JumpCloudEmulator;
let jcOrigin: string;
let notion: NotionEmulator;
let product: ProductWorkers;
let env: NodeJS.ProcessEnv;
/** Every warning the workers logged (activities log through the Temporal runtime's logger). */
const warnings: LogEntry[] = [];

interface NotionState {
  users: { id: string; userName: string; active: boolean; givenName?: string; familyName?: string }[];
}
const nState = () => notion.state() as NotionState;
const nUser = (email: string) => nState().users.find((u) => u.userName === email);
const provisioned = () =>
  nState()
    .users.filter((u) => u.active && /^u\d\d@/.test(u.userName))
    .map((u) => u.userName.split('@')[0]!)
    .sort();
const jcUser = (username: string) => jumpcloud.state().users.find((u) => u.username === username)!;
const userState = (username: string) =>
  temporal.client.workflow.getHandle(workflowIds.user(CONNECTOR, jcUser(username)._id)).query(userStateQuery);
const feed = () => temporal.client.workflow.getHandle(workflowIds.feed(CONNECTOR));
/** Requests that would write to a Notion member: creations, changes, deactivations, deletions. */
const notionUserWrites = () =>
  Object.entries(notion.control.requests().byRoute)
    .filter(([route]) => /^(POST|PUT|PATCH|DELETE) \/scim\/v2\/Users/.test(route))
    .reduce((sum, [, n]) => sum + n, 0);

async function cli(...args: string[]) {
  const result = await runCli(args, env);
  if (result.code !== 0)
    throw new Error(`jc-notion ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
  return result;
}

async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** One of the emulator's `/_emulator/` controls over HTTP, as a test outside this process would. */
async function control(method: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${jcOrigin}/_emulator/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  // The runtime the workers log through, installed before the test support's (which then keeps
  // it): the same settings, with every warning kept for the assertions.
  const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'warn' });
  const method = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) => {
      if (/^No workflows registered/.test(entry.message)) return;
      if (entry.level === 'WARN') warnings.push(entry);
      logger[method[entry.level]]({ ...entry.meta, source: 'temporal' }, entry.message);
    }),
    shutdownSignals: [],
    telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } },
  });

  temporal = await startTestTemporal();
  jumpcloud = createJumpCloudEmulator({ apiKey: TEST_SECRETS.JUMPCLOUD_API_KEY, notionAppId: APP });
  notion = createNotionEmulator({ token: TEST_SECRETS.NOTION_SCIM_TOKEN });
  jcOrigin = await jumpcloud.listen();
  const notionOrigin = await notion.listen();
  const people = Array.from({ length: PEOPLE }, (_, i) => {
    const username = `u${String(i).padStart(2, '0')}`;
    return { username, email: `${username}@example.com`, firstname: 'Person', lastname: username };
  });
  jumpcloud.seed({
    users: people,
    groups: [{ name: 'Staff', members: people.map((p) => p.username) }],
    bindings: [{ groups: ['Staff'] }],
  });
  // As the real service might serve it: a state the product does not know.
  jumpcloud.setRawUserFields(jcUser(BROKEN)._id, { state: 'ARCHIVED_SOMEHOW' });

  const settings = productSettings(
    temporal,
    CONNECTOR,
    { jumpcloud: jcOrigin, notion: notionOrigin },
    { POLL_INTERVAL: '1s', FEED_OVERLAP: '5s', RECONCILE_INTERVAL: '1h' },
  );
  product = await startProductWorkers(temporal, settings);
  env = product.env;
});

afterAll(async () => {
  await product?.stop();
  await jumpcloud?.close();
  await notion?.close();
  await temporal?.stop();
});

test('issue 15 (U9/C4): a user whose JumpCloud record is unreadable is its own error, shown by sync and status; the nine others are provisioned', async () => {
  await cli('activate', '--approve-creations');
  notion.control.clearRequests();
  // `sync` exits non-zero (one user could not be provisioned) after printing its report.
  const sync = await runCli(['sync'], env);
  expect(sync.stdout).toMatch(/1 user\(s\) with an unreadable record: see `jc-notion status`/);
  expect(sync.code).not.toBe(0);
  expect(sync.stderr).toMatch(/1 user\(s\) could not be provisioned/);

  const others = Array.from({ length: PEOPLE }, (_, i) => `u${String(i).padStart(2, '0')}`).filter(
    (u) => u !== BROKEN,
  );
  expect(provisioned()).toEqual(others);
  expect(nUser(`${BROKEN}@example.com`)).toBeUndefined();
  expect(notion.control.requests().byRoute['POST /scim/v2/Users']).toBe(PEOPLE - 1);

  const state = await userState(BROKEN);
  expect(state.status).toBe('error');
  expect(state.error?.code).toBe('InvalidRecord');
  expect(state.error?.message).toMatch(/state/);
  expect(state.notionId).toBeUndefined();

  const status = await runCli(['status'], env);
  expect(status.stdout).toMatch(/Users in error: 1\b/);
  const line = status.stdout.split('\n').find((l) => l.includes(jcUser(BROKEN)._id) || l.includes(BROKEN));
  expect(line).toMatch(/InvalidRecord: .*state/);
});

test('issue 15 (U9): a provisioned user whose record turns unreadable is neither deactivated nor changed; the next sync reports it', async () => {
  const member = nUser(`${LATER}@example.com`)!;
  expect(member.active).toBe(true);
  // Through the HTTP control: `suspended` is no boolean any more.
  const response = await control('PUT', `raw/users/${jcUser(LATER)._id}`, { suspended: 'perhaps' });
  expect(response.status).toBe(204);
  expect(jumpcloud.rawUserFields(jcUser(LATER)._id)).toEqual({ suspended: 'perhaps' });
  expect(jcUser(LATER).suspended).toBe(false); // the emulator's model is as it was

  notion.control.clearRequests();
  const sync = await runCli(['sync'], env);
  expect(sync.stdout).toMatch(/2 user\(s\) with an unreadable record/);
  expect(sync.code).not.toBe(0);
  expect(notionUserWrites()).toBe(0);
  expect(nUser(`${LATER}@example.com`)).toEqual(member);
  expect(provisioned()).toHaveLength(PEOPLE - 1);

  const state = await userState(LATER);
  expect(state).toMatchObject({ status: 'error', notionId: member.id });
  expect(state.error?.code).toBe('InvalidRecord');
  expect(state.error?.message).toMatch(/suspended/);
  const status = await runCli(['status'], env);
  expect(status.stdout).toMatch(/Users in error: 2\b/);
  expect(status.stdout).toMatch(new RegExp(`\\b${LATER}: InvalidRecord: .*suspended`));
});

test('issue 15 (U9/C4): a malformed event (no timestamp, no event type) is skipped with its reason; the rename after it reaches Notion and the cursor moves on', async () => {
  const before = await feed().query(feedStateQuery);
  expect(before.lastError).toBeUndefined();
  const renamed = jcUser(RENAMED);
  // Directory Insights serves an event without its timestamp, about a user in scope...
  const noTimestamp = '0000000000000000000a0001';
  const rawAt = jumpcloud.appendRawEvent({
    id: noTimestamp,
    event_type: 'user_update',
    service: 'directory',
    organization: jumpcloud.state().organization,
    resource: { type: 'user', id: renamed._id, username: renamed.username },
  });
  // ...and one without its type (appended over HTTP).
  const noType = '0000000000000000000a0002';
  const appended = await control('POST', 'raw/events', {
    id: noType,
    timestamp: new Date().toISOString(),
    service: 'directory',
    resource: { type: 'user', id: renamed._id },
  });
  expect(appended.status).toBe(201);
  await new Promise((resolve) => setTimeout(resolve, 20));
  // A real change after them: the event the same polls read.
  jumpcloud.updateUser(renamed._id, { lastname: 'Renamed' });
  const renameEvent = jumpcloud.events().at(-1)!;
  expect(renameEvent.event_type).toBe('user_update');
  expect(Date.parse(renameEvent.timestamp)).toBeGreaterThan(rawAt);

  await eventually('the rename in Notion', () => nUser(`${RENAMED}@example.com`)?.familyName === 'Renamed');
  await eventually(
    'the feed past the malformed events',
    async () => Date.parse((await feed().query(feedStateQuery)).cursor.watermark) > rawAt,
  );
  const after = await feed().query(feedStateQuery);
  expect(after.lastError).toBeUndefined();
  expect(after.totals.polls).toBeGreaterThan(before.totals.polls);
  // Skipped once each, however many polls read them again inside the overlap window.
  expect(after.totals.skipped).toBe(2);
  expect(Date.parse(after.cursor.watermark)).toBeGreaterThanOrEqual(Date.parse(renameEvent.timestamp));

  // Each is logged with its reason. The runtime forwards logs through a buffer that holds each
  // for at least 100 ms (to order them with the SDK core's), so they arrive after the poll's result.
  const skipped = (id: string) =>
    warnings.find((w) => w.message === 'change feed: skipped an unreadable event' && w.meta?.eventId === id);
  await eventually('both skips logged', () => Boolean(skipped(noTimestamp) && skipped(noType)));
  expect(String(skipped(noTimestamp)?.meta?.problem)).toMatch(/timestamp/);
  expect(String(skipped(noType)?.meta?.problem)).toMatch(/event_type/);
  const logged = (id: string) =>
    warnings.filter(
      (w) => w.message === 'change feed: skipped an unreadable event' && w.meta?.eventId === id,
    );
  expect([logged(noTimestamp).length, logged(noType).length]).toEqual([1, 1]);

  // Nothing else changed for the user the malformed events named.
  expect(await userState(RENAMED)).toMatchObject({ status: 'in-sync' });
  expect(provisioned()).toHaveLength(PEOPLE - 1);
});

test('issue 15 (U9): records readable again, the next sync provisions the user, keeps the other, and clears both errors', async () => {
  const member = nUser(`${LATER}@example.com`)!;
  jumpcloud.setRawUserFields(jcUser(BROKEN)._id, {});
  expect((await control('DELETE', `raw/users/${jcUser(LATER)._id}`, {})).status).toBe(204);
  expect(jumpcloud.rawUserFields(jcUser(LATER)._id)).toEqual({});

  const sync = await cli('sync');
  expect(sync.stdout).not.toMatch(/unreadable/);
  expect(provisioned()).toHaveLength(PEOPLE);
  expect(nUser(`${BROKEN}@example.com`)).toMatchObject({ active: true, familyName: BROKEN });
  expect(nUser(`${LATER}@example.com`)?.id).toBe(member.id);

  for (const username of [BROKEN, LATER]) {
    const state = await userState(username);
    expect([username, state.status, state.error]).toEqual([username, 'in-sync', undefined]);
  }
  const status = await cli('status');
  expect(status.stdout).toMatch(/Users in error: 0\b/);
});

test('§7: every workflow history of this story replays, and holds no secret', async () => {
  expect(await checkHistories(temporal, CONNECTOR)).toBeGreaterThan(PEOPLE);
});
