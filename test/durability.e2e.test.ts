/**
 * SPEC §9 durability, issue 5: a worker killed (SIGKILL) in the middle of a 500-user sync, and
 * another started, converge to the same end state: every user exactly once in Notion, none lost,
 * none duplicated, and a following sync with nothing to do.
 */
import type { ChildProcess } from 'node:child_process';
import { temporal as proto } from '@temporalio/proto';
import { createJumpCloudEmulator, type JumpCloudEmulator } from '../harness/emulators/jumpcloud';
import { createNotionEmulator, type NotionEmulator } from '../harness/emulators/notion';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { connectorTaskQueue, taskQueues } from '../temporal/task-queues';
import { cleanEnv, runCli, spawnCli } from './support/cli';
import { TEST_SECRETS } from './support/config';
import { startTestTemporal, uniqueTaskQueue, type TestTemporal } from './support/temporal';

const APP = '64b7f0c2a1d3e4f5a6b7c8d9';
const USERS = 500;
let temporal: TestTemporal;
let jumpcloud: JumpCloudEmulator;
let notion: NotionEmulator;
const children: ChildProcess[] = [];

beforeAll(async () => {
  temporal = await startTestTemporal();
  jumpcloud = createJumpCloudEmulator({ apiKey: TEST_SECRETS.JUMPCLOUD_API_KEY, notionAppId: APP });
  notion = createNotionEmulator({ token: TEST_SECRETS.NOTION_SCIM_TOKEN });
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await jumpcloud?.close();
  await notion?.close();
  await temporal?.stop();
});

interface NotionState {
  users: { id: string; userName: string; active: boolean; givenName?: string; familyName?: string }[];
}

async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

test('killing the worker in the middle of a 500-user sync and starting another converges with no duplicate and no lost user', async () => {
  const people = Array.from({ length: USERS }, (_, i) => ({
    username: `p${i}`,
    email: `p${i}@example.com`,
    firstname: `Given${i}`,
    lastname: `Family${i}`,
  }));
  jumpcloud.seed({
    users: people,
    groups: [{ name: 'Everyone', members: people.map((p) => p.username) }],
    bindings: [{ groups: ['Everyone'] }],
  });
  const jcOrigin = await jumpcloud.listen();
  const notionOrigin = await notion.listen();
  const taskQueue = uniqueTaskQueue('durability');
  const env = cleanEnv({
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    CONNECTOR_ID: 'durability',
    JUMPCLOUD_BASE_URL: jcOrigin,
    JUMPCLOUD_INSIGHTS_URL: `${jcOrigin}/insights/directory/v1`,
    JUMPCLOUD_API_KEY: TEST_SECRETS.JUMPCLOUD_API_KEY,
    JUMPCLOUD_APP_ID: APP,
    NOTION_SCIM_BASE_URL: `${notionOrigin}/scim/v2`,
    NOTION_SCIM_TOKEN: TEST_SECRETS.NOTION_SCIM_TOKEN,
    NOTION_MAX_RPS: '60',
    JUMPCLOUD_MAX_RPS: '100',
    LOG_LEVEL: 'error',
  });
  const pollers = async (queue: string) =>
    (
      await temporal.client.workflowService.describeTaskQueue({
        namespace: temporal.namespace,
        taskQueue: { name: queue, kind: proto.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: proto.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      })
    ).pollers?.length ?? 0;

  const first = spawnCli(['worker'], env);
  children.push(first);
  await waitFor(
    async () => (await pollers(taskQueues(connectorTaskQueue(taskQueue, 'durability')).notion)) >= 1,
    120_000,
    'the first worker',
  );
  expect((await runCli(['activate', '--approve-creations'], env)).code).toBe(0);

  const sync = spawnCli(['sync'], env);
  children.push(sync);
  let syncOutput = '';
  sync.stdout!.on('data', (chunk: Buffer) => (syncOutput += chunk.toString()));
  sync.stderr!.on('data', (chunk: Buffer) => (syncOutput += chunk.toString()));
  const syncDone = new Promise<number | null>((resolve) => sync.on('exit', resolve));

  const members = () =>
    (notion.state() as NotionState).users.filter((u) => u.userName.startsWith('p') && u.active);
  await waitFor(() => members().length >= 120, 120_000, '120 users in Notion');
  first.kill('SIGKILL');
  const atKill = members().length;
  expect(atKill).toBeLessThan(USERS);

  const second = spawnCli(['worker'], env);
  children.push(second);
  expect(await syncDone).toBe(0);
  expect(syncOutput).toMatch(new RegExp(`done\\s+${USERS}`));

  // Every user exactly once, with its exact names.
  const final = members();
  expect(final).toHaveLength(USERS);
  expect(new Set(final.map((u) => u.userName)).size).toBe(USERS);
  for (const person of people) {
    expect(final.find((u) => u.userName === person.email)).toMatchObject({
      givenName: person.firstname,
      familyName: person.lastname,
    });
  }
  // Each user workflow is linked to its own Notion user.
  const links = new Map<string, string>();
  for await (const execution of temporal.client.workflow.list({
    query: `${SEARCH_ATTRIBUTES.connectorId.name} = "durability" AND ${SEARCH_ATTRIBUTES.kind.name} = "user"`,
  })) {
    links.set(
      execution.typedSearchAttributes.get(SEARCH_ATTRIBUTES.jumpcloudId)!,
      execution.typedSearchAttributes.get(SEARCH_ATTRIBUTES.notionId)!,
    );
  }
  expect(links.size).toBe(USERS);
  expect(new Set(links.values()).size).toBe(USERS);

  // And nothing is left to do.
  notion.control.clearRequests();
  expect((await runCli(['sync'], env)).code).toBe(0);
  const writes = Object.keys(notion.control.requests().byRoute).filter((route) => !route.startsWith('GET '));
  expect(writes).toEqual([]);
}, 600_000); // the killed worker's activities time out (45 s) before another worker takes them
