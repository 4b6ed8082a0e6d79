/**
 * The change feed, the reconciliation Schedule, rejected credentials and the mass-deactivation
 * guard end to end (SPEC C2–C6, G4, G9): a real Temporal dev server, the product's workers in this
 * process, both emulators, a mail sink, and the `jc-notion` command. After the initial sync no
 * test runs `sync`: changes made in JumpCloud reach Notion through Directory Insights alone. The
 * tests form one story and run in order.
 */
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { createJumpCloudEmulator, type JumpCloudEmulator } from '../harness/emulators/jumpcloud';
import { createMailSink, type MailSink } from '../harness/emulators/mail';
import { createNotionEmulator, type NotionEmulator } from '../harness/emulators/notion';
import { reconcileScheduleId } from '../activities/schedule';
import { workflowIds } from '../temporal/ids';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { startSyncUpdate, statusQuery } from '../contracts/connector';
import { feedStateQuery } from '../contracts/feed';
import { runCli } from './support/cli';
import { TEST_SECRETS } from './support/config';
import { checkHistories, productSettings, startProductWorkers, type ProductWorkers } from './support/product';
import { startTestTemporal, type TestTemporal } from './support/temporal';

const APP = '64b7f0c2a1d3e4f5a6b7c8d9';
const CONNECTOR = 'feed-e2e';
let temporal: TestTemporal;
let jumpcloud: JumpCloudEmulator;
let notion: NotionEmulator;
let mail: MailSink;
let product: ProductWorkers;
let env: NodeJS.ProcessEnv;
let notionOrigin: string;

interface NotionState {
  users: { id: string; userName: string; active: boolean; givenName?: string; familyName?: string }[];
  groups: { id: string; displayName: string; memberUserNames: (string | undefined)[] }[];
}
const nState = () => notion.state() as NotionState;
const nUser = (email: string) => nState().users.find((u) => u.userName === email);
const members = (name: string) =>
  [...(nState().groups.find((g) => g.displayName === name)?.memberUserNames ?? [])].sort();
const jcUser = (username: string) => jumpcloud.state().users.find((u) => u.username === username)!;
const jcGroup = (name: string) => jumpcloud.state().groups.find((g) => g.name === name)!;
const PROBE_INTERVAL_MS = 3_000;
const bulk = Array.from({ length: 40 }, (_, i) => `bulk${i}`);
const connector = () => temporal.client.workflow.getHandle(workflowIds.connector(CONNECTOR));
const userQuery = (state: string) =>
  `${SEARCH_ATTRIBUTES.connectorId.name} = "${CONNECTOR}" AND ${SEARCH_ATTRIBUTES.kind.name} = "user" AND ${SEARCH_ATTRIBUTES.syncState.name} = "${state}"`;
const countUsers = async (state: string) => (await temporal.client.workflow.count(userQuery(state))).count;

async function cli(...args: string[]) {
  const result = await runCli(args, env);
  if (result.code !== 0)
    throw new Error(`jc-notion ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
  return result;
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * The users' paused activities: their attempts so far and how long each waits between its last
 * failed attempt and the next (both times set by the server, so a busy machine does not change them).
 */
async function pausedActivities(usernames: string[]): Promise<{ attempt: number; wait: number }[]> {
  const paused: { attempt: number; wait: number }[] = [];
  for (const username of usernames) {
    const id = workflowIds.user(CONNECTOR, jcUser(username)._id);
    const { raw } = await temporal.client.workflow.getHandle(id).describe();
    for (const activity of raw.pendingActivities ?? []) {
      const last = optionalTsToMs(activity.lastAttemptCompleteTime);
      const next = optionalTsToMs(activity.nextAttemptScheduleTime);
      if (last !== undefined && next !== undefined)
        paused.push({ attempt: activity.attempt ?? 1, wait: next - last });
    }
  }
  return paused;
}

beforeAll(async () => {
  temporal = await startTestTemporal();
  jumpcloud = createJumpCloudEmulator({ apiKey: TEST_SECRETS.JUMPCLOUD_API_KEY, notionAppId: APP });
  notion = createNotionEmulator({ token: TEST_SECRETS.NOTION_SCIM_TOKEN, verifiedDomains: ['example.com'] });
  mail = createMailSink();
  const jcOrigin = await jumpcloud.listen();
  notionOrigin = await notion.listen();
  const mailUrls = await mail.listen({ smtpPort: 0, httpPort: 0 });

  const person = (username: string) => ({
    username,
    email: `${username}@example.com`,
    firstname: username,
    lastname: 'Original',
  });
  jumpcloud.seed({
    users: [...['ann', 'bob', 'cat', 'dan', 'eve', 'fay'].map(person), ...bulk.map(person), person('solo')],
    groups: [
      { name: 'Team', members: ['ann', 'bob', 'cat', 'dan'] },
      { name: 'Others', members: ['eve', 'fay', 'ann'] },
      { name: 'Bulk', members: bulk },
    ],
    bindings: [{ groups: ['Team', 'Others', 'Bulk'], users: ['solo'] }],
  });

  const settings = productSettings(
    temporal,
    CONNECTOR,
    { jumpcloud: jcOrigin, notion: notionOrigin },
    {
      NOTION_MAX_RPS: '100',
      JUMPCLOUD_MAX_RPS: '200',
      NOTION_PROTECTED_USERS: 'owner@example.com',
      POLL_INTERVAL: '1s',
      FEED_OVERLAP: '30s',
      RECONCILE_INTERVAL: '1h',
      DEACTIVATION_THRESHOLD: '25',
      CREDENTIALS_PROBE_INTERVAL: `${PROBE_INTERVAL_MS / 1000}s`,
      NOTIFY_SMTP_URL: mailUrls.smtpUrl,
      NOTIFY_EMAIL: 'identity-admins@example.com',
    },
  );

  product = await startProductWorkers(temporal, settings);
  env = product.env;
});

afterAll(async () => {
  await product?.stop();
  await jumpcloud?.close();
  await notion?.close();
  await mail?.close();
  await temporal?.stop();
});

test('C4/C5: activation starts the change feed and creates the reconciliation Schedule (SKIP overlap, RECONCILE_INTERVAL)', async () => {
  await cli('activate', '--approve-creations');
  await cli('groups', 'enable'); // G8 on: starts a reconciliation (G1–G3), which provisions everyone
  await eventually(
    () => nUser('bulk39@example.com')?.active === true && members('Team').length === 4,
    60_000,
  );
  const feed = await temporal.client.workflow.getHandle(workflowIds.feed(CONNECTOR)).describe();
  expect(feed.status.name).toBe('RUNNING');
  const schedule = await temporal.client.schedule.getHandle(reconcileScheduleId(CONNECTOR)).describe();
  expect(schedule.policies.overlap).toBe('SKIP');
  expect(schedule.spec.intervals?.[0]?.every).toBe(3_600_000);
  expect(schedule.state.paused).toBe(false);
  const status = await cli('status');
  expect(status.stdout).toMatch(/change feed: polling Directory Insights/);
  expect(status.stdout).toMatch(/scheduled reconciliation: every 3600 s/);
});

test('C4/U4/G9: a user created and bound in JumpCloud appears in Notion, in its group, without any sync', async () => {
  const newcomer = jumpcloud.createUser({
    username: 'newcomer',
    email: 'Newcomer@Example.com',
    firstname: 'New',
    lastname: 'Comer',
  });
  jumpcloud.addGroupMember(jcGroup('Team').id, { type: 'user', id: newcomer._id });
  await eventually(() => nUser('newcomer@example.com')?.active === true);
  expect(nUser('newcomer@example.com')).toMatchObject({ givenName: 'New', familyName: 'Comer' });
  await eventually(() => members('Team').includes('newcomer@example.com'));
});

test('C4/U5: a rename propagates through the feed alone', async () => {
  jumpcloud.updateUser(jcUser('bob')._id, { lastname: 'Renamed' });
  await eventually(() => nUser('bob@example.com')?.familyName === 'Renamed');
});

test('issue 18 (C4/U5, U7): a rename from the feed costs one Notion request, the PATCH; a write refused because the member was deleted in Notion by hand is read again and converged', async () => {
  const workflow = temporal.client.workflow.getHandle(workflowIds.user(CONNECTOR, jcUser('bob')._id));
  const notionActivities = async () =>
    ((await workflow.fetchHistory()).events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter((name): name is string => Boolean(name?.startsWith('notion')));
  await eventually(() => nUser('bob@example.com')?.active === true);
  const before = (await notionActivities()).length;
  jumpcloud.updateUser(jcUser('bob')._id, { lastname: 'Once' });
  await eventually(() => nUser('bob@example.com')?.familyName === 'Once');
  // Planned on the member as the workflow last wrote it: no read first.
  await eventually(async () => (await notionActivities()).length > before);
  expect((await notionActivities()).slice(before)).toEqual(['notionUpdateUser']);

  // Deleted in Notion by hand: the next change's PATCH is refused (404), so the user is read
  // again, found gone, and added back (U7) with the new name.
  const id = nUser('bob@example.com')!.id;
  const deleted = await fetch(`${notionOrigin}/scim/v2/Users/${id}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${TEST_SECRETS.NOTION_SCIM_TOKEN}` },
  });
  expect(deleted.status).toBe(204);
  const mark = (await notionActivities()).length;
  jumpcloud.updateUser(jcUser('bob')._id, { lastname: 'Twice' });
  await eventually(() => nUser('bob@example.com')?.familyName === 'Twice');
  expect(nUser('bob@example.com')).toMatchObject({ active: true });
  expect((await notionActivities()).slice(mark)).toEqual([
    'notionUpdateUser',
    'notionGetUser',
    'notionCreateUser',
  ]);
  await eventually(() => members('Team').includes('bob@example.com'));
});

test('C4/G4: a membership change propagates through the feed alone (the member stays in scope through another group)', async () => {
  jumpcloud.removeGroupMember(jcGroup('Team').id, { type: 'user', id: jcUser('ann')._id });
  await eventually(() => !members('Team').includes('ann@example.com'));
  expect(nUser('ann@example.com')?.active).toBe(true); // still bound through Others
});

test('C4/U6: unbinding propagates through the feed alone', async () => {
  jumpcloud.unbind({ type: 'user', id: jcUser('solo')._id });
  await eventually(() => nUser('solo@example.com')?.active === false);
});

test('C4: an event that arrives late (inside the overlap window) is still applied; an event read again is applied once', async () => {
  jumpcloud.setInsightsDelay(4_000);
  jumpcloud.updateUser(jcUser('cat')._id, { lastname: 'Late' }); // visible 4 s after its time
  jumpcloud.setInsightsDelay(0);
  jumpcloud.updateUser(jcUser('dan')._id, { lastname: 'Early' }); // visible at once: the cursor passes the late one
  await eventually(() => nUser('dan@example.com')?.familyName === 'Early');
  expect(nUser('cat@example.com')?.familyName).toBe('Original');
  await eventually(() => nUser('cat@example.com')?.familyName === 'Late');

  // Every poll reads the 30 s overlap window again: the event comes back many times, its sync once.
  const lateEvent = jumpcloud
    .events()
    .filter((e) => e.event_type === 'user_update' && (e.resource as { id?: string }).id === jcUser('cat')._id)
    .pop()!;
  const feed = temporal.client.workflow.getHandle(workflowIds.feed(CONNECTOR));
  const polls = (await feed.query(feedStateQuery)).totals.polls;
  await eventually(async () => (await feed.query(feedStateQuery)).totals.polls >= polls + 3);
  const history = await temporal.client.workflow
    .getHandle(workflowIds.user(CONNECTOR, jcUser('cat')._id))
    .fetchHistory();
  const signals = (history.events ?? []).filter(
    (e) =>
      e.workflowExecutionSignaledEventAttributes?.signalName === 'sync' &&
      Buffer.from(e.workflowExecutionSignaledEventAttributes.input?.payloads?.[0]?.data ?? [])
        .toString()
        .includes(lateEvent.id),
  );
  expect(signals).toHaveLength(1);
});

test('C6: unbinding a group of 40 with the threshold at 25 holds the 40 deactivations until approve; nothing else waits', async () => {
  mail.clear();
  jumpcloud.unbind({ type: 'user_group', id: jcGroup('Bulk').id });
  await eventually(async () => (await countUsers('held')) === 40, 60_000);
  expect(bulk.every((u) => nUser(`${u}@example.com`)?.active === true)).toBe(true);
  // The feed asked for the whole batch once; each member counted itself as it was held.
  expect((await connector().query(statusQuery)).approval?.held).toBe(40);

  // Nothing else is held up: a rename still goes through.
  jumpcloud.updateUser(jcUser('eve')._id, { lastname: 'Meanwhile' });
  await eventually(() => nUser('eve@example.com')?.familyName === 'Meanwhile');

  const status = await cli('status');
  expect(status.stdout).toMatch(
    /Awaiting approval: 40 change\(s\) held since .*one change would deactivate 40 users/,
  );
  expect(status.stdout).toMatch(/bulk0 <bulk0@example.com>/);
  // The alert goes out a few seconds after the first hold, counting the holds so far (on a busy
  // machine not all 40 members have asked yet); the reason names the whole change.
  const alert = await mail.waitFor((m) => /\d+ deactivation\(s\) await approval/.test(m.subject), 30_000);
  expect(alert.text).toMatch(/one change would deactivate 40 users/);

  // The admin decides on the set they saw: a different count is refused and releases nothing.
  const stale = await runCli(['approve', '--expect', '39'], env);
  expect(stale.code).not.toBe(0);
  expect(stale.stderr).toMatch(/40 change\(s\) are held now, not the 39 expected: nothing was approved/);
  expect(await countUsers('held')).toBe(40);
  expect((await connector().query(statusQuery)).approval).toBeDefined();

  const approved = await cli('approve', '--expect', '40');
  expect(approved.stdout).toMatch(/Approved: 40 held change/);
  await eventually(() => bulk.every((u) => nUser(`${u}@example.com`)?.active === false), 60_000);
  await eventually(async () => (await countUsers('held')) === 0); // visibility follows the workflows
});

test('C6: reject drops the held deactivations; the members stay', async () => {
  jumpcloud.bind({ type: 'user_group', id: jcGroup('Bulk').id });
  await eventually(() => bulk.every((u) => nUser(`${u}@example.com`)?.active === true), 60_000);
  jumpcloud.unbind({ type: 'user_group', id: jcGroup('Bulk').id });
  await eventually(async () => (await countUsers('held')) === 40, 60_000);
  const rejected = await cli('reject', '--json');
  expect(JSON.parse(rejected.stdout)).toEqual({ decision: 'reject', users: 40 });
  await eventually(async () => (await countUsers('rejected')) === 40);
  expect(bulk.every((u) => nUser(`${u}@example.com`)?.active === true)).toBe(true);
  expect((await connector().query(statusQuery)).approval).toBeUndefined();
  // Later hints of the same change (the group workflow's G6 nudge) do not hold them again.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  expect((await connector().query(statusQuery)).approval).toBeUndefined();
  expect(await countUsers('held')).toBe(0);
  jumpcloud.bind({ type: 'user_group', id: jcGroup('Bulk').id });
  // Back in scope: the rejected users are in sync again (6 + newcomer + 40).
  await eventually(async () => (await countUsers('in-sync')) === 47);
  expect(await countUsers('rejected')).toBe(0);
});

test('C3: a revoked Notion token shows "credentials rejected", mails an alert, costs far fewer than one request per entity, and recovers without restart', async () => {
  mail.clear();
  notion.configure({ tokenValid: false });
  notion.control.clearRequests();
  const outageStart = Date.now();
  try {
    for (const username of bulk.slice(0, 30))
      jumpcloud.updateUser(jcUser(username)._id, { lastname: 'Rotated' });

    await eventually(async () => (await connector().query(statusQuery)).credentials?.state === 'rejected');
    await mail.waitFor((m) => /credentials rejected: Notion SCIM token/.test(m.subject), 30_000);
    const status = await cli('status');
    expect(status.stdout).toMatch(/credentials rejected: Notion SCIM token since .*401/);

    // 30 users want a change; the flow is paused: a few probes per interval (the half-open
    // request, the connector's check) besides what was in flight when the first 401 came back,
    // not one failed request per user and attempt. Counted against the time it took, which a
    // busy machine stretches.
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    const failed = notion.control.requests().total;
    const intervals = Math.ceil((Date.now() - outageStart) / PROBE_INTERVAL_MS);
    expect(failed).toBeGreaterThan(0);
    expect(failed).toBeLessThanOrEqual(8 + 2 * intervals);
    // Each paused activity tries again at the next probe, not after an exponential backoff that
    // has grown with its attempts (issue 12: minutes after the credentials worked again). The
    // server stamps the two times a moment apart: a little slack, far below the next backoff step.
    const paused = await pausedActivities(bulk.slice(0, 30));
    expect(paused.length).toBeGreaterThan(0);
    for (const { wait } of paused) expect(wait).toBeLessThanOrEqual(PROBE_INTERVAL_MS + 500);
    // The attempts were many; the requests that reached Notion were few.
    expect(paused.reduce((sum, p) => sum + p.attempt, 0)).toBeGreaterThan(failed);
  } finally {
    // Whatever failed above, the rest of the story needs a valid token.
    notion.configure({ tokenValid: true });
  }

  const reconcileBefore = (await connector().query(statusQuery)).lastReconcile?.reconcileId;
  await eventually(async () => (await connector().query(statusQuery)).credentials?.state === 'ok', 30_000);
  await eventually(
    () => bulk.slice(0, 30).every((u) => nUser(`${u}@example.com`)?.familyName === 'Rotated'),
    60_000,
  );
  const recovered = await mail.waitFor((m) => /credentials accepted again/.test(m.subject), 30_000);
  expect(recovered.text).toMatch(/A reconciliation has started to catch up/);
  // The catch-up reconciliation (for changes whose retries ran out in a long outage) finishes.
  await eventually(async () => {
    const status = await connector().query(statusQuery);
    return !status.runningReconcile && status.lastReconcile?.reconcileId !== reconcileBefore;
  }, 60_000);
  expect((await connector().query(statusQuery)).lastReconcile?.error).toBeUndefined();
  expect(await countUsers('error')).toBe(0);
});

test('C5: with the feed stopped, the scheduled reconciliation repairs a change', async () => {
  await temporal.client.workflow.getHandle(workflowIds.feed(CONNECTOR)).terminate('test: feed stopped');
  // A poll already running when the feed stopped could still read the change below (seen on a
  // busy machine): wait until no poll has reached JumpCloud for three POLL_INTERVALs.
  const polls = () => jumpcloud.control.requests().byRoute['POST /insights/directory/v1/events'] ?? 0;
  let seen = polls();
  let quietSince = Date.now();
  await eventually(() => {
    if (polls() !== seen) [seen, quietSince] = [polls(), Date.now()];
    return Date.now() - quietSince >= 3_000;
  }, 60_000);
  jumpcloud.updateUser(jcUser('fay')._id, { lastname: 'Scheduled' });
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  expect(nUser('fay@example.com')?.familyName).toBe('Original'); // nobody polls any more

  // As if RECONCILE_INTERVAL were 2 s: the Schedule starts the reconciliation, which repairs it.
  const schedule = temporal.client.schedule.getHandle(reconcileScheduleId(CONNECTOR));
  await schedule.update((previous) => ({ ...previous, spec: { intervals: [{ every: '2s' }] } }));
  await eventually(() => nUser('fay@example.com')?.familyName === 'Scheduled', 60_000);
  const description = await schedule.describe();
  expect(description.info.recentActions.length).toBeGreaterThan(0);
  expect(description.info.recentActions[0]!.action.workflow.workflowId).toMatch(
    new RegExp(`^jcn/${CONNECTOR}/reconcile/scheduled-`),
  );
  await schedule.update((previous) => ({ ...previous, spec: { intervals: [{ every: '1h' }] } }));
  await eventually(async () =>
    /^scheduled-/.test((await connector().query(statusQuery)).lastReconcile?.reconcileId ?? ''),
  );
});

test('C5: a reconciliation terminated by an admin does not make the Schedule skip forever', async () => {
  // The previous test's Schedule (every 2 s) may still be running one: its trigger below would be
  // skipped (overlap SKIP) and its end is not what this test waits for.
  const schedule = temporal.client.schedule.getHandle(reconcileScheduleId(CONNECTOR));
  await eventually(
    async () =>
      (await schedule.describe()).info.runningActions.length === 0 &&
      !(await connector().query(statusQuery)).runningReconcile,
    60_000,
  );
  const before = (await connector().query(statusQuery)).lastReconcile?.reconcileId;
  // A reconciliation that is still reading Notion when the admin terminates it.
  notion.control.setFaults({ rules: [{ route: 'GET', action: { type: 'latency', ms: 15_000 } }] });
  const { workflowId } = await connector().executeUpdate(startSyncUpdate, { args: [{ dryRun: false }] });
  expect((await connector().query(statusQuery)).runningReconcile).toBe(workflowId);
  await temporal.client.workflow.getHandle(workflowId).terminate('test: an admin stops it');
  notion.control.setFaults({ rules: [] });
  // It never reports back; the next scheduled run finds it gone, records how it ended, and runs.
  await schedule.trigger();
  await eventually(async () => {
    const status = await connector().query(statusQuery);
    const id = status.lastReconcile?.reconcileId ?? '';
    return /^scheduled-/.test(id) && id !== before && !status.runningReconcile;
  }, 120_000);
  const status = await connector().query(statusQuery);
  expect(status.lastReconcile?.error).toBeUndefined();
  expect(status.lastReconcile?.summary).toBeDefined();
});

test('C2: deactivate stops the feed and pauses the Schedule; activate resumes both', async () => {
  await cli('activate'); // the feed was terminated above: activation starts it again
  await eventually(
    async () =>
      (await temporal.client.workflow.getHandle(workflowIds.feed(CONNECTOR)).describe()).status.name ===
      'RUNNING',
  );
  await cli('deactivate');
  await eventually(
    async () =>
      (await temporal.client.workflow.getHandle(workflowIds.feed(CONNECTOR)).describe()).status.name !==
      'RUNNING',
  );
  expect(
    (await temporal.client.schedule.getHandle(reconcileScheduleId(CONNECTOR)).describe()).state.paused,
  ).toBe(true);
  jumpcloud.updateUser(jcUser('ann')._id, { lastname: 'WhileOff' });
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  expect(nUser('ann@example.com')?.familyName).toBe('Original');
});

test('§7/§2: every workflow history of this story replays deterministically and holds no secret', async () => {
  // `RECORD_HISTORIES=test/fixtures/histories npx jest test/feed.e2e.test.ts` refreshes its fixtures.
  const replayed = await checkHistories(temporal, CONNECTOR, (execution) => {
    const attribute = execution.typedSearchAttributes;
    const kind = attribute.get(SEARCH_ATTRIBUTES.kind);
    const username = attribute.get(SEARCH_ATTRIBUTES.username) ?? '';
    if (kind === 'feed' || kind === 'connector') return `${kind}-feed-e2e`;
    if (kind === 'user' && ['bulk0', 'cat', 'newcomer'].includes(username)) return `user-feed-${username}`;
    if (kind === 'group' && attribute.get(SEARCH_ATTRIBUTES.groupName) === 'Team') return 'group-feed-Team';
    if (kind === 'reconcile' && execution.workflowId.includes('/scheduled-')) return 'reconcile-scheduled';
    return undefined;
  });
  expect(replayed).toBeGreaterThan(50);
});
