/**
 * I2's JumpCloud activities against the JumpCloud emulator: each is idempotent, since Temporal may
 * run an activity twice (a response lost after JumpCloud acted).
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { JumpCloudClient } from '../../api/jumpcloud';
import { createJumpCloudImportActivities } from '../../activities/jumpcloud-import';
import { createJumpCloudEmulator, type JumpCloudEmulator } from '../../harness/emulators/jumpcloud';

const KEY = 'jc-import-test-key-7d21';
const APP = '64b7f0c2a1d3e4f5a6b7c8d9';
let emulator: JumpCloudEmulator;
let client: JumpCloudClient;
let activities: ReturnType<typeof createJumpCloudImportActivities>;

/** Runs an activity as Temporal's attempt `attempt` would. */
const asAttempt = <A extends unknown[], R>(attempt: number, fn: (...args: A) => Promise<R>, ...args: A) =>
  new MockActivityEnvironment({ attempt }, { logger: new DefaultLogger('ERROR') }).run<A, R, typeof fn>(
    fn,
    ...args,
  );

beforeAll(async () => {
  emulator = createJumpCloudEmulator({ apiKey: KEY, notionAppId: APP });
  const origin = await emulator.listen();
  client = new JumpCloudClient({
    baseUrl: origin,
    insightsUrl: `${origin}/insights/directory/v1`,
    apiKey: () => KEY,
  });
  activities = createJumpCloudImportActivities(client);
});

afterAll(async () => {
  await client.close();
  await emulator.close();
});

beforeEach(() => {
  emulator.reset();
  emulator.control.clearRequests();
  emulator.seed({
    users: [
      { username: 'ann', email: 'ann@other.org', firstname: 'Ann', lastname: 'Other' },
      { username: 'casey', email: 'Casey@Example.com' },
    ],
  });
});

const newUser = { username: 'ann', email: 'ann@example.com', firstname: 'Ann', lastname: 'Lee' };

test('I2: a taken username on the first attempt is answered as such (the workflow tries the next candidate), without a lookup', async () => {
  await expect(asAttempt(1, activities.jumpcloudCreateUser, newUser)).resolves.toEqual({
    status: 'username-taken',
  });
  expect(emulator.control.requests().byRoute).toEqual({ 'POST /api/systemusers': 1 });
});

test('I2: a create run twice (the first response lost) finds the user it created instead of creating another', async () => {
  const first = await asAttempt(1, activities.jumpcloudCreateUser, { ...newUser, username: 'ann.lee' });
  expect(first).toMatchObject({ status: 'created', user: { username: 'ann.lee', state: 'ACTIVATED' } });
  const again = await asAttempt(2, activities.jumpcloudCreateUser, { ...newUser, username: 'ann.lee' });
  expect(again).toEqual({ ...first, status: 'exists' });
  expect(emulator.state().users.filter((u) => u.email === 'ann@example.com')).toHaveLength(1);
});

test('I2: an email JumpCloud already has (in another case) is answered with that user, never a second one', async () => {
  const outcome = await asAttempt(1, activities.jumpcloudCreateUser, {
    username: 'casey2',
    email: 'casey@example.com',
  });
  expect(outcome).toMatchObject({
    status: 'exists',
    user: { username: 'casey', email: 'Casey@Example.com' },
  });
  expect(emulator.state().users).toHaveLength(2);
});

test('I2: the lookup by email before creating finds only that email', async () => {
  await expect(asAttempt(1, activities.jumpcloudFindUserByEmail, 'ann@example.com')).resolves.toBeNull();
  await expect(asAttempt(1, activities.jumpcloudFindUserByEmail, 'ANN@other.org')).resolves.toMatchObject({
    username: 'ann',
  });
});

test('I3: adding a member twice is not an error', async () => {
  emulator.seed({ groups: [{ name: 'Notion Users', members: [] }] });
  const group = emulator.state().groups.find((g) => g.name === 'Notion Users')!;
  const ann = emulator.state().users.find((u) => u.username === 'ann')!;
  await asAttempt(1, activities.jumpcloudAddUserToGroup, group.id, ann._id);
  await asAttempt(2, activities.jumpcloudAddUserToGroup, group.id, ann._id);
  expect(emulator.state().groups.find((g) => g.name === 'Notion Users')!.members).toEqual([
    { id: ann._id, type: 'user' },
  ]);
});

test('I2: bad data is a permanent failure naming the field, not a username collision', async () => {
  await expect(
    asAttempt(1, activities.jumpcloudCreateUser, { username: 'bad', email: 'not-an-email' }),
  ).rejects.toMatchObject({
    nonRetryable: true,
    message: expect.stringMatching(/not a valid email address/),
  });
});
