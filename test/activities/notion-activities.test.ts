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
  // No protection configured: no extra read, the member is deactivated.
  const unprotected = createNotionActivities(client);
  expect(await unprotected.notionDeactivateUser(member('boss@example.com').id, 'boss@example.com')).toBe(
    'deactivated',
  );
});
