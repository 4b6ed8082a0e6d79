/**
 * The user lifecycle end to end (SPEC U1–U10, C1, C5, C7, C8): a real Temporal dev server, the
 * product's workers in this process, both emulators, and the `jc-notion` command as an admin runs
 * it. The tests form one story over one directory and run in order.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { temporal as proto } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { createJumpCloudEmulator, type JumpCloudEmulator } from '../harness/emulators/jumpcloud';
import { createNotionEmulator, type NotionEmulator } from '../harness/emulators/notion';
import { workflowIds } from '../temporal/ids';
import { connectorTaskQueue } from '../temporal/task-queues';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { userWorkflow } from '../workflows/user';
import { USER_BASELINE_PATCH } from '../workflows/user-context';
import { STARTS, userWorkflowSummary } from '../workflows/summaries';
import { syncUserSignal, userStateQuery } from '../contracts/user';
import { createWorkers, type WorkerSet } from '../worker/worker';
import { cleanEnv, runCli } from './support/cli';
import { expectBaselineOnly, patchMarkers, upsertedAttributes } from './support/history';
import { TEST_SECRETS, testWorkerConfig } from './support/config';
import { startTestTemporal, uniqueTaskQueue, type TestTemporal } from './support/temporal';

const APP = '64b7f0c2a1d3e4f5a6b7c8d9';
let temporal: TestTemporal;
let jumpcloud: JumpCloudEmulator;
let notion: NotionEmulator;
let workers: WorkerSet;
let running: Promise<void>;
let env: NodeJS.ProcessEnv;
/** Whether summaries may name users (UI_SUMMARIES_PII as the workers resolved it). */
let plainSummaries: boolean;
const children: ChildProcess[] = [];

interface NotionState {
  users: { id: string; userName: string; active: boolean; givenName?: string; familyName?: string }[];
}

const notionUsers = () => (notion.state() as NotionState).users;
const notionUser = (email: string) => notionUsers().find((u) => u.userName === email);
const jcUser = (username: string) => jumpcloud.state().users.find((u) => u.username === username)!;
const writes = () =>
  Object.entries(notion.control.requests().byRoute)
    .filter(([route]) => !route.startsWith('GET '))
    .reduce<Record<string, number>>((all, [route, n]) => ({ ...all, [route]: n }), {});

/** A new JumpCloud user (`<username>@example.com`) bound to the application directly. */
function bindNewUser(username: string, firstname: string, lastname: string) {
  const user = jumpcloud.createUser({ username, email: `${username}@example.com`, firstname, lastname });
  jumpcloud.bind({ type: 'user', id: user._id });
  return user;
}

async function cli(...args: string[]) {
  const result = await runCli(args, env);
  // `sync` exits non-zero while some user cannot be provisioned (here: the one with bad data).
  const partial = args[0] === 'sync' && /user\(s\) could not be provisioned/.test(result.stderr);
  if (result.code !== 0 && !partial) {
    throw new Error(`jc-notion ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
  }
  return result;
}

beforeAll(async () => {
  temporal = await startTestTemporal();
  jumpcloud = createJumpCloudEmulator({ apiKey: TEST_SECRETS.JUMPCLOUD_API_KEY, notionAppId: APP });
  notion = createNotionEmulator({ token: TEST_SECRETS.NOTION_SCIM_TOKEN, verifiedDomains: ['example.com'] });
  const jcOrigin = await jumpcloud.listen();
  const notionOrigin = await notion.listen();

  // 50 users through three groups (one nested), one bound directly, plus users that must not go.
  const people = Array.from({ length: 50 }, (_, i) => ({
    username: `person${i}`,
    email: `Person${i}@Example.com`,
    firstname: i === 7 ? 'Zoë' : `First${i}`,
    lastname: i === 3 ? 'McDonald' : i === 4 ? 'de la Cruz' : `Last${i}`,
  }));
  jumpcloud.seed({
    users: [
      ...people,
      { username: 'direct', email: 'direct@example.com', firstname: 'Dee', lastname: 'Rect' },
      {
        username: 'staged',
        email: 'staged@example.com',
        firstname: 'Stay',
        lastname: 'Ged',
        state: 'STAGED',
      },
      { username: 'contractor', email: 'eve@contractor.io', firstname: 'Eve', lastname: 'Outside' },
      { username: 'badname', email: 'bad@example.com', firstname: 'Bad\u0007', lastname: 'Name' },
      { username: 'keeper', email: 'keeper@example.com', firstname: 'Kee', lastname: 'Per' },
    ],
    groups: [
      { name: 'Engineering', members: people.slice(0, 20).map((p) => p.username), groups: ['Platform'] },
      { name: 'Platform', members: people.slice(20, 35).map((p) => p.username) },
      { name: 'Sales', members: [...people.slice(30, 50).map((p) => p.username), 'staged'] },
      { name: 'Contractors', members: ['contractor', 'badname', 'keeper'] },
      { name: 'Unbound', members: ['person0'] },
    ],
    bindings: [{ groups: ['Engineering', 'Sales', 'Contractors'], users: ['direct'] }],
  });

  const taskQueue = uniqueTaskQueue('users');
  const settings = {
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    CONNECTOR_ID: 'users-e2e',
    JUMPCLOUD_BASE_URL: jcOrigin,
    JUMPCLOUD_INSIGHTS_URL: `${jcOrigin}/insights/directory/v1`,
    NOTION_SCIM_BASE_URL: `${notionOrigin}/scim/v2`,
    NOTION_MAX_RPS: '200',
    JUMPCLOUD_MAX_RPS: '200',
    NOTION_PROTECTED_USERS: 'owner@example.com,keeper@example.com',
  };
  const config = testWorkerConfig(settings);
  plainSummaries = config.privacy.summaries === 'plain';
  workers = await createWorkers({
    config,
    connection: temporal.nativeConnection,
    client: temporal.client,
    workflowBundle: await temporal.workflowBundle(),
  });
  running = workers.run();
  env = cleanEnv(settings);
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  workers?.shutdown();
  await running;
  await jumpcloud?.close();
  await notion?.close();
  await temporal?.stop();
});

test('C1: nothing syncs before activation (neither `sync` nor `provision`); activate verifies both credentials', async () => {
  const early = await runCli(['sync'], env);
  expect(early.code).not.toBe(0);
  expect(early.stderr).toMatch(/not activated: run `jc-notion activate` first/);
  const provisioned = await runCli(['provision', 'person0'], env);
  expect(provisioned.code).not.toBe(0);
  expect(provisioned.stderr).toMatch(/not activated: run `jc-notion activate` first/);

  notion.configure({ tokenValid: false });
  const refused = await runCli(['activate'], env);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toMatch(/not activated: Notion: Notion SCIM verify token failed: 401/);
  notion.configure({ tokenValid: true });

  const activated = await cli('activate', '--approve-creations');
  expect(activated.stdout).toMatch(/verified and activated/);
  // Issue 14: what it will act on, before any reconciliation runs.
  expect(activated.stdout).toMatch(
    /JumpCloud application: Notion \(64b7f0c2a1d3e4f5a6b7c8d9\), SSO URL https:\/\/sso\.jumpcloud\.com\//,
  );
  expect(activated.stdout).toMatch(/in scope: 54 user\(s\) through the application and 4 bound group\(s\)/);
  expect(activated.stdout).toMatch(
    /the first reconciliation would create 53, reactivate 0, update 0 and deactivate 0 member\(s\); 1 cannot be provisioned/,
  );
  expect(activated.stdout).toMatch(/its creations are approved \(--approve-creations\)/);
  expect(notionUsers().filter((u) => u.userName !== 'owner@example.com')).toEqual([]);
});

test('U1/U2/U4: after sync, the users in scope (50 through 3 groups, 1 direct) exist in Notion with exact names; the others do not', async () => {
  notion.control.clearRequests();
  const result = await cli('sync');
  expect(result.stdout).toMatch(/users planned\s+54/); // 53 creates, 1 user with bad data
  for (let i = 0; i < 50; i++) expect(notionUser(`person${i}@example.com`)?.active).toBe(true);
  expect(notionUser('person3@example.com')).toMatchObject({ givenName: 'First3', familyName: 'McDonald' });
  expect(notionUser('person4@example.com')).toMatchObject({ familyName: 'de la Cruz' });
  expect(notionUser('person7@example.com')).toMatchObject({ givenName: 'Zoë', familyName: 'Last7' });
  expect(notionUser('direct@example.com')).toMatchObject({ givenName: 'Dee', familyName: 'Rect' });
  expect(notionUser('staged@example.com')).toBeUndefined();
  expect(writes()['POST /scim/v2/Users']).toBe(53); // 51 + the unverified-domain user (create is allowed) + keeper
});

test('U5: a second sync sends zero writes', async () => {
  notion.control.clearRequests();
  const result = await cli('sync');
  expect(result.stdout).toMatch(/users planned\s+1/); // only the user in error is retried
  expect(writes()).toEqual({});
});

test('§7: a user workflow is tagged (connector, kind, JumpCloud id) from its start event on', async () => {
  const id = jumpcloud.state().users.find((u) => u.username === 'person0')!._id;
  const handle = temporal.client.workflow.getHandle(workflowIds.user('users-e2e', id));
  const tags = [SEARCH_ATTRIBUTES.connectorId, SEARCH_ATTRIBUTES.kind, SEARCH_ATTRIBUTES.jumpcloudId];
  const attributes = (await handle.describe()).typedSearchAttributes;
  expect(tags.map((key) => attributes.get(key))).toEqual(['users-e2e', 'user', id]);
  const { events } = await handle.fetchHistory();
  const startedWith = Object.keys(
    events![0]!.workflowExecutionStartedEventAttributes?.searchAttributes?.indexedFields ?? {},
  );
  expect(startedWith).toEqual(expect.arrayContaining(tags.map((key) => key.name)));
});

test("issue 18: a new user workflow's first task records one patch marker (its baseline) and no tag upsert: two visibility writes fewer", async () => {
  const history = await temporal.client.workflow
    .getHandle(workflowIds.user('users-e2e', jcUser('person0')._id))
    .fetchHistory();
  // Created by the first sync: every patch of the user workflow is in, behind its one baseline.
  // The tags came with the start (the test above); only the user's state is published after.
  const after = expectBaselineOnly(history, USER_BASELINE_PATCH);
  expect(after.every((names) => names.includes(SEARCH_ATTRIBUTES.syncState.name))).toBe(true);
});

test("issue 19: a user's workflow says who it is and what each step does, in the Temporal UI's words", async () => {
  const person = jcUser('person3');
  const handle = temporal.client.workflow.getHandle(workflowIds.user('users-e2e', person._id));
  const { events } = await handle.fetchHistory();
  const text = (payload: { data?: Uint8Array | null } | null | undefined) =>
    payload?.data ? (JSON.parse(Buffer.from(payload.data).toString('utf8')) as string) : undefined;
  expect(text(events![0]!.userMetadata?.summary)).toBe('User person3@example.com (First3 McDonald)');
  expect(text(events![0]!.userMetadata?.details)).toContain(`JumpCloud user ${person._id}`);
  const steps = events!
    .filter((event) => event.activityTaskScheduledEventAttributes)
    .map((event) => text(event.userMetadata?.summary));
  expect(steps).toContain('create person3@example.com in Notion');
  expect(steps.every((step) => step !== undefined)).toBe(true);
  // The current details follow the workflow's state (the UI asks the running workflow).
  const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  expect(metadata.currentDetails).toContain('User person3@example.com');
  expect(metadata.currentDetails).toContain(`Notion id: ${notionUser('person3@example.com')!.id}`);
  expect(metadata.currentDetails).toContain('**State:** in sync');
});

test('U5: a lastname that changes only in case is pushed, and nothing else', async () => {
  jumpcloud.updateUser(jcUser('person3')._id, { lastname: 'MCDONALD' });
  notion.control.clearRequests();
  await cli('sync');
  expect(notionUser('person3@example.com')).toMatchObject({ familyName: 'MCDONALD' });
  expect(writes()).toEqual({ 'PATCH /scim/v2/Users/{id}': 1 });
});

test('U6/U10: suspended, unbound and deleted users are deactivated with active=false, never DELETEd; the deleted one is listed for manual deletion', async () => {
  jumpcloud.suspendUser(jcUser('person10')._id);
  jumpcloud.removeGroupMember(jumpcloud.state().groups.find((g) => g.name === 'Sales')!.id, {
    type: 'user',
    id: jcUser('person45')._id,
  });
  jumpcloud.deleteUser(jcUser('person46')._id);
  notion.control.clearRequests();
  await cli('sync');
  for (const email of ['person10@example.com', 'person45@example.com', 'person46@example.com']) {
    expect(notionUser(email)?.active ?? false).toBe(false);
  }
  expect(writes()).toEqual({ 'PATCH /scim/v2/Users/{id}': 3 });
  const status = await cli('status');
  expect(status.stdout).toMatch(/account deletion must be done manually in Notion/);
  expect(status.stdout).toMatch(/person46/);
});

test('U6: a protected user is never deactivated', async () => {
  jumpcloud.suspendUser(jcUser('keeper')._id);
  notion.control.clearRequests();
  await cli('sync');
  expect(notionUser('keeper@example.com')?.active).toBe(true);
  expect(writes()).toEqual({});
});

test('U7: a re-bound user is re-added under the same Notion id', async () => {
  const before = notionUsers().find((u) => u.userName === 'person45@example.com')?.id;
  jumpcloud.addGroupMember(jumpcloud.state().groups.find((g) => g.name === 'Sales')!.id, {
    type: 'user',
    id: jcUser('person45')._id,
  });
  await cli('sync');
  const after = notionUser('person45@example.com');
  expect(after?.active).toBe(true);
  if (before) expect(after?.id).toBe(before);
});

test('U7 (removed members stay listed): reactivation is PATCH active=true under the same id, no POST', async () => {
  notion.configure({ removedUsersListed: true });
  try {
    jumpcloud.suspendUser(jcUser('person20')._id);
    await cli('sync');
    const removed = notionUser('person20@example.com');
    expect(removed?.active).toBe(false);
    jumpcloud.suspendUser(jcUser('person20')._id, false);
    notion.control.clearRequests();
    await cli('sync');
    expect(notionUser('person20@example.com')).toMatchObject({ id: removed!.id, active: true });
    expect(writes()).toEqual({ 'PATCH /scim/v2/Users/{id}': 1 });
  } finally {
    notion.configure({ removedUsersListed: false });
  }
});

test('U8/U9: an unverified domain and bad data give per-user errors while all others converge', async () => {
  jumpcloud.updateUser(jcUser('contractor')._id, { firstname: 'Evelyn' });
  await cli('sync');
  const status = await cli('status', '--json');
  const report = JSON.parse(status.stdout) as {
    users: { errors: { username?: string; code: string; message: string }[] };
  };
  const errors = new Map(report.users.errors.map((e) => [e.username, e]));
  expect(errors.get('contractor')).toMatchObject({ code: 'UnverifiedDomain' });
  expect(errors.get('badname')).toMatchObject({
    code: 'InvalidData',
    message: expect.stringMatching(/firstname contains control characters/),
  });
  expect(notionUser('bad@example.com')).toBeUndefined();
});

test('C7: --dry-run prints the plan and changes nothing', async () => {
  jumpcloud.updateUser(jcUser('person5')._id, { firstname: 'Renamed' });
  jumpcloud.suspendUser(jcUser('person6')._id);
  notion.control.clearRequests();
  const result = await cli('sync', '--dry-run');
  expect(result.stdout).toMatch(/nothing was written/);
  expect(result.stdout).toMatch(/person5: update givenName, formatted/);
  expect(result.stdout).toMatch(/person6: deactivate \(suspended\)/);
  expect(writes()).toEqual({});
  expect(notionUser('person5@example.com')?.givenName).toBe('First5');
});

test('issue 16: `find` (plain search attributes) finds a user by email in any case, by username and by JumpCloud id, with its state, workflow id and UI link', async () => {
  const person = jcUser('person5');
  const workflowId = workflowIds.user('users-e2e', person._id);
  const link = `http://127.0.0.1:8233/namespaces/default/workflows/${encodeURIComponent(workflowId)}/`;
  for (const term of ['Person5@Example.com', 'person5', person._id]) {
    const result = await cli('find', term);
    expect(result.stdout).toContain(`user person5 <person5@example.com> (JumpCloud ${person._id}): in-sync`);
    expect(result.stdout).toContain(`workflow ${workflowId}`);
    expect(result.stdout).toContain(link);
  }
  const json = JSON.parse((await cli('find', 'person5@example.com', '--json')).stdout) as {
    matches: { kind: string; email: string; workflowId: string; url: string; running: boolean }[];
  };
  expect(json.matches).toEqual([
    expect.objectContaining({ kind: 'user', email: 'person5@example.com', workflowId, running: true }),
  ]);
  const unknown = await runCli(['find', 'nobody@example.com'], env);
  expect(unknown.code).not.toBe(0);
  expect(unknown.stderr).toMatch(/no user or group of connector "users-e2e" matches "nobody@example.com"/);
});

test('C8: provision converges one user now and prints each step', async () => {
  notion.control.clearRequests();
  const result = await cli('provision', 'person5');
  expect(result.stdout).toMatch(/read JumpCloud user: person5 \(ACTIVATED\)/);
  expect(result.stdout).toMatch(/update givenName, formatted: updated/);
  expect(result.stdout).toMatch(/Result: in-sync/);
  expect(notionUser('person5@example.com')?.givenName).toBe('Renamed');
  expect(writes()).toEqual({ 'PATCH /scim/v2/Users/{id}': 1 });
});

test('§7 (C8): a user workflow that `provision` starts carries its summary and details, as one a reconciliation starts', async () => {
  const user = bindNewUser('fresh', 'Fre', 'Sh');
  const result = await cli('provision', 'fresh');
  expect(result.stdout).toMatch(/Result: in-sync/);
  const description = await temporal.client.workflow
    .getHandle(workflowIds.user('users-e2e', user._id))
    .describe();
  expect(await description.staticSummary()).toBe(
    userWorkflowSummary({ personal: plainSummaries }, user._id, { username: 'fresh' }),
  );
  expect(await description.staticDetails()).toBe(STARTS.user.details('users-e2e', user._id));
});

test('U3/U6: a member already in Notion exactly as JumpCloud maps it is linked by reconciliation without a write, and deactivated once out of scope', async () => {
  notion.seed({
    users: [{ userName: 'already@example.com', givenName: 'Al', familyName: 'Ready', formatted: 'Al Ready' }],
  });
  const seeded = notionUser('already@example.com') as { id: string; lastModified?: number };
  expect(seeded.lastModified).toBeDefined();
  const user = bindNewUser('already', 'Al', 'Ready');
  notion.control.clearRequests();
  await cli('sync');
  // No write for it (the users in error of U8 are retried by every reconciliation, as before).
  expect(writes()['POST /scim/v2/Users'] ?? 0).toBe(0);
  expect((notionUser('already@example.com') as { lastModified?: number }).lastModified).toBe(
    seeded.lastModified,
  );
  const state = await temporal.client.workflow
    .getHandle(workflowIds.user('users-e2e', user._id))
    .query(userStateQuery);
  expect(state).toMatchObject({ linked: true, notionId: seeded.id, status: 'in-sync' });

  jumpcloud.unbind({ type: 'user', id: user._id });
  await cli('sync');
  expect(notionUser('already@example.com')).toMatchObject({ id: seeded.id, active: false });
});

test('§7: a user workflow continues-as-new when its history grows, keeping its link and search attributes', async () => {
  const user = bindNewUser('rolling', 'Roll', 'Ing');
  const policy = { usernameSource: 'email' as const, protectedUsers: ['owner@example.com'] };
  const start = async (n: number) =>
    temporal.client.workflow.signalWithStart(userWorkflow, {
      workflowId: workflowIds.user('users-e2e', user._id),
      taskQueue: connectorTaskQueue(String(env.TEMPORAL_TASK_QUEUE), 'users-e2e'),
      args: [{ connectorId: 'users-e2e', jumpcloudUserId: user._id, policy, maxHistoryEvents: 40 }],
      signal: syncUserSignal,
      signalArgs: [{ reason: `test ${n}`, policy }],
    });
  const handle = await start(0);
  const firstRunId = (await handle.describe()).runId;
  let runId = firstRunId;
  for (let n = 1; n <= 12 && runId === firstRunId; n++) {
    const before = (await handle.query(userStateQuery)).lastSyncAt;
    await start(n);
    for (let i = 0; i < 100 && (await handle.query(userStateQuery)).lastSyncAt === before; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    runId = (await temporal.client.workflow.getHandle(handle.workflowId).describe()).runId;
  }
  expect(runId).not.toBe(firstRunId);
  const latest = temporal.client.workflow.getHandle(handle.workflowId);
  const state = await latest.query(userStateQuery);
  expect(state).toMatchObject({
    linked: true,
    status: 'in-sync',
    notionId: notionUser('rolling@example.com')!.id,
  });
  const attributes = (await latest.describe()).typedSearchAttributes;
  expect(attributes.get(SEARCH_ATTRIBUTES.email)).toBe('rolling@example.com');
  // Started without its tags (as by older code), the workflow tags itself, and keeps them on.
  expect(attributes.get(SEARCH_ATTRIBUTES.kind)).toBe('user');
  expect(attributes.get(SEARCH_ATTRIBUTES.jumpcloudId)).toBe(user._id);
  // Issue 18: the baseline skips the tag upsert only when the start carried the tags.
  const firstRun = await temporal.client.workflow.getHandle(handle.workflowId, firstRunId).fetchHistory();
  expect(patchMarkers(firstRun)).toEqual([USER_BASELINE_PATCH]);
  expect(upsertedAttributes(firstRun)).toContainEqual(
    [SEARCH_ATTRIBUTES.connectorId, SEARCH_ATTRIBUTES.jumpcloudId, SEARCH_ATTRIBUTES.kind]
      .map((key) => key.name)
      .sort(),
  );
});

test('C2: deactivate stops every sync and leaves Notion as it is', async () => {
  const before = JSON.stringify(notionUsers());
  const result = await cli('deactivate');
  expect(result.stdout).toMatch(/deactivated/);
  jumpcloud.suspendUser(jcUser('person30')._id);
  const refused = await runCli(['sync'], env);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toMatch(/not activated/);
  expect(JSON.stringify(notionUsers())).toBe(before);
  expect((await cli('status')).stdout).toMatch(/Connector users-e2e: not activated/);
});

test('§7: every workflow history of this story replays deterministically against the workflow code', async () => {
  const query = `${SEARCH_ATTRIBUTES.connectorId.name} = "users-e2e"`;
  const histories = temporal.client.workflow.list({ query }).intoHistories();
  const bundle = await temporal.workflowBundle();
  let replayed = 0;
  const recordDir = process.env.RECORD_HISTORIES;
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
    expect([result.workflowId, result.error]).toEqual([result.workflowId, undefined]);
    replayed += 1;
  }
  expect(replayed).toBeGreaterThan(50);
  if (recordDir) {
    // `RECORD_HISTORIES=test/fixtures/histories npx jest test/users.e2e.test.ts` refreshes the fixtures.
    fs.mkdirSync(recordDir, { recursive: true });
    const wanted = ['person3', 'person46', 'person45', 'badname', 'contractor', 'keeper', 'person5'];
    for await (const execution of temporal.client.workflow.list({ query })) {
      const username = execution.typedSearchAttributes.get(SEARCH_ATTRIBUTES.username);
      const kind = execution.typedSearchAttributes.get(SEARCH_ATTRIBUTES.kind);
      const keep = (kind === 'user' && username && wanted.includes(username)) || kind === 'connector';
      if (!keep) continue;
      const history = await temporal.client.workflow
        .getHandle(execution.workflowId, execution.runId)
        .fetchHistory();
      const name = `${kind}-${username ?? 'connector'}-${execution.runId.slice(0, 8)}.json`;
      // Binary protobuf (base64): exact, and free of proto-JSON's pitfalls under jest.
      const encoded = Buffer.from(proto.api.history.v1.History.encode(history).finish()).toString('base64');
      fs.writeFileSync(
        path.join(recordDir, name),
        `${JSON.stringify({ workflowId: execution.workflowId, history: encoded })}\n`,
      );
    }
  }
});
