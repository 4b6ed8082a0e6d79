/**
 * Issue 18 (ADR 0022): a reconciliation starts a new user's workflow with its request, on the
 * workers' own connection, so that the server hands the first workflow task straight back to this
 * worker (eager start). A real dev server, the product's workers and both emulators.
 */
import { createJumpCloudEmulator, type JumpCloudEmulator } from '../harness/emulators/jumpcloud';
import { createNotionEmulator, type NotionEmulator } from '../harness/emulators/notion';
import { userPolicyOf } from '../activities/clients';
import { clientOn } from '../temporal/connection';
import { EntityGateway } from '../temporal/entities';
import { workflowIds } from '../temporal/ids';
import { createWorkers, type WorkerSet } from '../worker/worker';
import { TEST_SECRETS, testWorkerConfig } from './support/config';
import { startTestTemporal, uniqueTaskQueue, type TestTemporal } from './support/temporal';

const CONNECTOR = 'eager-e2e';
let temporal: TestTemporal;
let jumpcloud: JumpCloudEmulator;
let notion: NotionEmulator;
let workers: WorkerSet;
let running: Promise<void>;
let gateway: EntityGateway;
let config: ReturnType<typeof testWorkerConfig>;

const jcUser = (username: string) => jumpcloud.state().users.find((u) => u.username === username)!;
const member = (email: string) =>
  (notion.state() as { users: { userName: string; active: boolean }[] }).users.find(
    (u) => u.userName === email && u.active,
  );

async function until(condition: () => boolean, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  temporal = await startTestTemporal();
  jumpcloud = createJumpCloudEmulator({ apiKey: TEST_SECRETS.JUMPCLOUD_API_KEY });
  notion = createNotionEmulator({ token: TEST_SECRETS.NOTION_SCIM_TOKEN, verifiedDomains: ['example.com'] });
  const jcOrigin = await jumpcloud.listen();
  const notionOrigin = await notion.listen();
  jumpcloud.seed({
    users: [
      { username: 'ann', email: 'ann@example.com', firstname: 'Ann', lastname: 'Eager' },
      { username: 'ben', email: 'ben@example.com', firstname: 'Ben', lastname: 'Queued' },
    ],
    groups: [{ name: 'Everyone', members: ['ann', 'ben'] }],
    bindings: [{ groups: ['Everyone'] }],
  });
  const taskQueue = uniqueTaskQueue('eager');
  config = testWorkerConfig({
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    CONNECTOR_ID: CONNECTOR,
    JUMPCLOUD_BASE_URL: jcOrigin,
    JUMPCLOUD_INSIGHTS_URL: `${jcOrigin}/insights/directory/v1`,
    NOTION_SCIM_BASE_URL: `${notionOrigin}/scim/v2`,
    NOTION_MAX_RPS: '200',
    JUMPCLOUD_MAX_RPS: '200',
  });
  workers = await createWorkers({
    config,
    connection: temporal.nativeConnection,
    client: temporal.client,
    workflowBundle: await temporal.workflowBundle(),
  });
  running = workers.run();
  // As the activities make it: the configured queue, and a client on the workers' own connection.
  gateway = new EntityGateway(
    temporal.client,
    config.temporal.taskQueue,
    clientOn(temporal.nativeConnection, config),
  );
});

afterAll(async () => {
  workers?.shutdown();
  await running;
  await jumpcloud?.close();
  await notion?.close();
  await temporal?.stop();
});

const request = () => ({ reason: 'reconcile', reconcileId: 'r-eager', policy: userPolicyOf(config) });

test("issue 18: a new user's workflow starts with its request, its first task handed straight to this process's worker (eager start), and converges", async () => {
  const ann = jcUser('ann')._id;
  await expect(
    gateway.syncUser(CONNECTOR, ann, userPolicyOf(config), request(), { new: true }),
  ).resolves.toBe('started eagerly');
  await until(() => member('ann@example.com') !== undefined, 'ann in Notion');
  const { events } = await temporal.client.workflow
    .getHandle(workflowIds.user(CONNECTOR, ann))
    .fetchHistory();
  expect(events!.some((event) => event.workflowExecutionSignaledEventAttributes)).toBe(false);
});

test('issue 18: a user whose workflow already runs (a start that lost a race, a lagging listing) gets its request as a signal', async () => {
  const ann = jcUser('ann')._id;
  await expect(
    gateway.syncUser(CONNECTOR, ann, userPolicyOf(config), request(), { new: true }),
  ).resolves.toBe('signalled');
  const { events } = await temporal.client.workflow
    .getHandle(workflowIds.user(CONNECTOR, ann))
    .fetchHistory();
  expect(events!.filter((event) => event.workflowExecutionSignaledEventAttributes)).toHaveLength(1);
});

test('issue 18: without a starter (the `jc-notion` command, other activities), a user is signalled-with-start as before', async () => {
  const ben = jcUser('ben')._id;
  const plain = new EntityGateway(temporal.client, config.temporal.taskQueue);
  await expect(plain.syncUser(CONNECTOR, ben, userPolicyOf(config), request(), { new: true })).resolves.toBe(
    'signalled',
  );
  await until(() => member('ben@example.com') !== undefined, 'ben in Notion');
});
