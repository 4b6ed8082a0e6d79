/**
 * The Notion activities against the Notion emulator: what they do beyond the client, here U6's
 * last check at the moment of deactivating.
 */
import { createNotionActivities } from '../../activities/notion';
import { NotionScimClient } from '../../api/notion';
import { createNotionEmulator, type NotionEmulator } from '../../harness/emulators/notion';

const TOKEN = 'activities-test-token';
let emulator: NotionEmulator;
let client: NotionScimClient;

beforeAll(async () => {
  emulator = createNotionEmulator({ token: TOKEN, verifiedDomains: ['example.com'] });
  client = new NotionScimClient({ baseUrl: `${await emulator.listen()}/scim/v2`, token: () => TOKEN });
});

afterAll(async () => {
  await client.close();
  await emulator.close();
});

interface NotionState {
  users: { id: string; userName: string; active: boolean }[];
}
const member = (userName: string) =>
  (emulator.state() as NotionState).users.find((u) => u.userName === userName)!;

test('U6: the deactivation activity keeps a member this worker protects, whatever the workflow planned', async () => {
  emulator.reset();
  emulator.seed({ users: [{ userName: 'kept@example.com' }, { userName: 'leaver@example.com' }] });
  // The workflow's copy of the policy may predate the protection: the worker's own setting decides.
  const activities = createNotionActivities(client, ['kept@example.com']);
  expect(await activities.notionDeactivateUser(member('kept@example.com').id, 'kept@example.com')).toBe(
    'protected',
  );
  expect(member('kept@example.com').active).toBe(true);
  expect(await activities.notionDeactivateUser(member('leaver@example.com').id, 'leaver@example.com')).toBe(
    'deactivated',
  );
  expect(member('leaver@example.com').active).toBe(false);
});

test('U6: the check reads the email in Notion now, not the one the workflow remembers', async () => {
  emulator.reset();
  emulator.seed({ users: [{ userName: 'boss@example.com' }] });
  const activities = createNotionActivities(client, ['boss@example.com']);
  expect(await activities.notionDeactivateUser(member('boss@example.com').id, 'old-name@example.com')).toBe(
    'protected',
  );
  // No protection configured: the member is deactivated.
  const unprotected = createNotionActivities(client);
  expect(await unprotected.notionDeactivateUser(member('boss@example.com').id, 'boss@example.com')).toBe(
    'deactivated',
  );
});

test('U6: a Notion workspace owner, and the token owner, are never deactivated, whoever asks', async () => {
  emulator.reset();
  emulator.seed({
    users: [{ userName: 'admin@example.com', role: 'owner' }, { userName: 'staff@example.com' }],
  });
  const activities = createNotionActivities(client);
  expect(await activities.notionDeactivateUser(member('admin@example.com').id, 'admin@example.com')).toBe(
    'protected',
  );
  // The token owner (the emulator's owner@example.com): Notion refuses its removal; it is kept.
  expect(await activities.notionDeactivateUser(member('owner@example.com').id, 'owner@example.com')).toBe(
    'protected',
  );
  expect(member('admin@example.com').active).toBe(true);
  expect(member('owner@example.com').active).toBe(true);
  expect(await activities.notionDeactivateUser(member('staff@example.com').id, 'staff@example.com')).toBe(
    'deactivated',
  );
});

test('U6: an email change that would take a member out of NOTION_PROTECTED_USERS is refused until the new email is listed', async () => {
  emulator.reset();
  emulator.seed({ users: [{ userName: 'boss@example.com' }] });
  const id = member('boss@example.com').id;
  const change = { userName: 'chief@example.com', email: 'chief@example.com' };
  const listedOld = createNotionActivities(client, ['boss@example.com']);
  await expect(listedOld.notionUpdateUser(id, change, 'boss@example.com')).rejects.toMatchObject({
    type: 'ProtectedEmailChange',
  });
  expect(member('boss@example.com')).toBeDefined();
  const listedBoth = createNotionActivities(client, ['boss@example.com', 'chief@example.com']);
  expect(await listedBoth.notionUpdateUser(id, change, 'boss@example.com')).toMatchObject({
    userName: 'chief@example.com',
  });
});
