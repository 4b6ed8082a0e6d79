/**
 * The JumpCloud client against the JumpCloud emulator: the application's scope (U1), groups and
 * their resolved membership (G1), paging past 100 on v1 and v2, Directory Insights paging with
 * `search_after` (C4), import's writes (I2/I3), and the error taxonomy.
 */
import { membersFromPaths } from '../../activities/groups';
import { ApiError } from '../../api/errors';
import { JumpCloudClient } from '../../api/jumpcloud';
import { createJumpCloudEmulator, type JumpCloudEmulator } from '../../harness/emulators/jumpcloud';

const KEY = 'jc-client-test-key-51be';
const ORG = '5e9a3c7b1d2f4a6b8c0d1e2f';
const APP = '64b7f0c2a1d3e4f5a6b7c8d9';
let emulator: JumpCloudEmulator;
let client: JumpCloudClient;
let key = KEY;

beforeAll(async () => {
  emulator = createJumpCloudEmulator({ apiKey: KEY, orgId: ORG, notionAppId: APP });
  const origin = await emulator.listen();
  client = new JumpCloudClient({
    baseUrl: origin,
    insightsUrl: `${origin}/insights/directory/v1`,
    apiKey: () => key,
    orgId: ORG,
  });
});

afterAll(async () => {
  await client.close();
  await emulator.close();
});

beforeEach(() => {
  emulator.reset();
  emulator.control.setFaults({});
  emulator.control.clearRequests();
  emulator.setInsightsDelay(0);
  key = KEY;
});

function users(count: number, prefix = 'u') {
  return Array.from({ length: count }, (_, i) => ({
    username: `${prefix}${i}`,
    email: `${prefix}${i}@example.com`,
    firstname: 'First',
    lastname: `Last${i}`,
  }));
}

async function waitUntil(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

test('C1: the Notion application is read by id; an unknown id is a permanent NotFound', async () => {
  expect(await client.getApplication(APP)).toMatchObject({ id: APP, name: 'Notion' });
  const error = await failure(client.getApplication('0123456789abcdef01234567'));
  expect([error.failureClass, error.code]).toEqual(['permanent', 'NotFound']);
});

test("issue 18 (G1): a bound group's members derived from the application's binding paths are its resolved membership, nested groups included; every group is listed with its name, paged past 100", async () => {
  const many = users(150);
  emulator.seed({
    users: [...many, { username: 'direct', email: 'direct@example.com' }],
    groups: [
      { name: 'Engineering', members: many.slice(0, 60).map((u) => u.username), groups: ['Platform'] },
      { name: 'Platform', members: many.slice(60, 120).map((u) => u.username) },
      { name: 'Sales', members: [...many.slice(110).map((u) => u.username), 'direct'] },
      ...Array.from({ length: 120 }, (_, i) => ({ name: `Unbound ${i}` })),
    ],
    bindings: [{ groups: ['Engineering', 'Sales'], users: ['direct'] }],
  });
  const derived = membersFromPaths(await client.listApplicationUsers(APP));
  for (const name of ['Engineering', 'Platform', 'Sales']) {
    const group = emulator.state().groups.find((g) => g.name === name)!;
    const resolved = (await client.listGroupMembership(group.id)).map((m) => m.id).sort();
    expect([name, [...(derived.get(group.id) ?? [])].sort()]).toEqual([name, resolved]);
  }
  const listing = await client.readGroupListing();
  expect(listing.complete).toBe(true);
  expect(listing.items).toHaveLength(123);
  expect(listing.items.find((g) => g.name === 'Sales')?.id).toBe(
    emulator.state().groups.find((g) => g.name === 'Sales')!.id,
  );
});

test('U1: application users come through direct and nested group bindings, paged past 100', async () => {
  const many = users(150);
  emulator.seed({
    users: [
      ...many,
      { username: 'direct', email: 'direct@example.com' },
      { username: 'outside', email: 'outside@example.com' },
    ],
    groups: [
      { name: 'Engineering', members: many.slice(0, 100).map((u) => u.username), groups: ['Platform'] },
      { name: 'Platform', members: many.slice(100).map((u) => u.username) },
    ],
    bindings: [{ groups: ['Engineering'], users: ['direct'] }],
  });
  const scope = await client.listApplicationUsers(APP);
  expect(scope).toHaveLength(151);
  const byPathLength = (username: string) => {
    const id = emulator.state().users.find((u) => u.username === username)!._id;
    return scope.find((u) => u.id === id)!.paths.map((p) => p.length);
  };
  expect(byPathLength('direct')).toEqual([1]);
  expect(byPathLength('u0')).toEqual([2]);
  expect(byPathLength('u120')).toEqual([3]);
  expect(emulator.control.requests().byRoute['GET /api/v2/applications/{id}/users']).toBe(2);

  const bindings = await client.listApplicationBindings(APP, 'user_group');
  expect(bindings.map((b) => b.type)).toEqual(['user_group']);
  const engineering = emulator.state().groups.find((g) => g.name === 'Engineering')!;
  expect((await client.listGroupMembership(engineering.id)).length).toBe(150);
  const u120 = emulator.state().users.find((u) => u.username === 'u120')!;
  expect((await client.listUserGroups(u120._id)).map((g) => g.id).sort()).toEqual(
    emulator
      .state()
      .groups.map((g) => g.id)
      .sort(),
  );
});

test('v1 users are listed past 100 sorted by _id, read by id (missing → undefined) and found by email in any case', async () => {
  emulator.seed({
    users: [...users(130), { username: 'owen', email: 'Owen.OSuilleabhain@Example.com', state: 'SUSPENDED' }],
  });
  const all = await client.listUsers();
  expect(all).toHaveLength(131);
  expect(all.map((u) => u.id)).toEqual([...all.map((u) => u.id)].sort());
  expect(await client.getUser(all[0]!.id)).toMatchObject({ username: all[0]!.username });
  expect(await client.getUser('0123456789abcdef01234567')).toBeUndefined();
  expect(await client.findUserByEmail('owen.osuilleabhain@example.com')).toMatchObject({
    username: 'owen',
    state: 'SUSPENDED',
  });
});

test('issue 14: a user deleted while the v1 pages are read is not a hole in the listing: the changed total makes it read again', async () => {
  emulator.seed({ users: users(250) });
  const ids = emulator
    .state()
    .users.map((u) => u._id)
    .sort();
  // Slow pages, and the first user deleted once the first page has been served: offset paging
  // then skips a user of the second page, which the old listing took as deleted.
  emulator.control.setFaults({
    rules: [{ route: 'GET /api/systemusers', action: { type: 'latency', ms: 150 } }],
  });
  const reading = client.readUserListing();
  await waitUntil(() => (emulator.control.requests().byRoute['GET /api/systemusers'] ?? 0) >= 1);
  emulator.deleteUser(ids[0]!);
  const listing = await reading;
  expect(listing.complete).toBe(true);
  expect(listing.items.map((u) => u.id).sort()).toEqual(ids.slice(1));
  expect(emulator.control.requests().byRoute['GET /api/systemusers']).toBeGreaterThan(3);
});

test('issue 14: a short v1 page is read again; a listing cut short every time is incomplete and, where it must be whole, a retryable IncompleteListing', async () => {
  emulator.seed({ users: users(150) });
  emulator.control.setFaults({
    rules: [
      { route: 'GET /api/systemusers', count: 1, action: { type: 'truncate', keep: 40, dropTotal: false } },
    ],
  });
  expect((await client.readUserListing()).items).toHaveLength(150);
  emulator.control.setFaults({
    rules: [{ route: 'GET /api/systemusers', action: { type: 'truncate', keep: 40, dropTotal: true } }],
  });
  const cut = await client.readUserListing();
  expect(cut.complete).toBe(false);
  expect(cut.items).toHaveLength(40);
  expect(cut.problems.join('; ')).toMatch(/without a total/);
  const error = await failure(client.listUsers());
  expect([error.failureClass, error.code]).toEqual(['retryable', 'IncompleteListing']);
  expect(error.message).toMatch(/JumpCloud list users failed: .*incomplete listing.*nothing is concluded/);
});

test('issue 14: a v2 page without x-total-count, or short of it, is never taken as the whole membership', async () => {
  emulator.seed({
    users: users(130),
    groups: [{ name: 'Everyone', members: users(130).map((u) => u.username) }],
  });
  const group = emulator.state().groups[0]!;
  emulator.control.setFaults({
    rules: [
      {
        route: 'GET /api/v2/usergroups/{id}/membership',
        count: 1,
        action: { type: 'truncate', keep: 100, dropTotal: true },
      },
    ],
  });
  expect(await client.listGroupMembership(group.id)).toHaveLength(130);
  emulator.control.setFaults({
    rules: [{ route: 'GET /api/v2/usergroups/{id}/membership', action: { type: 'truncate', keep: 7 } }],
  });
  const error = await failure(client.listGroupMembership(group.id));
  expect([error.failureClass, error.code]).toEqual(['retryable', 'IncompleteListing']);
  expect(error.message).toMatch(/listed 7 distinct of a total of 130/);
  const listing = await client.readApplicationUserListing(APP);
  expect(listing.complete).toBe(true);
});

test('I2/I3: a user is created and added to a group; adding it again is harmless', async () => {
  emulator.seed({ groups: [{ name: 'Imported' }] });
  const group = emulator.state().groups[0]!;
  const created = await client.createUser({
    username: 'new.person',
    email: 'new.person@example.com',
    firstname: 'New',
    lastname: 'Person',
  });
  await client.addUserToGroup(group.id, created.id);
  await client.addUserToGroup(group.id, created.id);
  expect((await client.listGroupMembership(group.id)).map((m) => m.id)).toEqual([created.id]);
});

test('C4: Directory Insights events page with search_after until a page is short; late events appear later', async () => {
  const start = new Date(Date.now() - 1000).toISOString();
  for (const user of users(25, 'ev')) emulator.createUser(user);
  const events = await client.events({ startTime: start, limit: 10 });
  expect(events.map((e) => e.event_type)).toEqual(Array(25).fill('user_create'));
  expect(new Set(events.map((e) => e.id)).size).toBe(25);
  expect(emulator.control.requests().byRoute['POST /insights/directory/v1/events']).toBe(3);

  emulator.setInsightsDelay(60_000);
  emulator.createUser({ username: 'late', email: 'late@example.com' });
  expect(await client.events({ startTime: start, limit: 100 })).toHaveLength(25);
});

test('errors: rejected key is CredentialsRejected; 5xx and 429 retryable with Retry-After; no secret in messages', async () => {
  key = 'wrong-key-3a7c';
  const rejected = await failure(client.getApplication(APP));
  expect([rejected.failureClass, rejected.code]).toEqual(['credentials', 'CredentialsRejected']);
  key = KEY;
  emulator.control.setFaults({
    rules: [{ route: 'GET', count: 1, action: { type: 'status', status: 503, retryAfter: 3 } }],
  });
  const unavailable = await failure(client.getApplication(APP));
  expect([unavailable.failureClass, unavailable.info.retryAfterMs]).toEqual(['retryable', 3000]);
  emulator.control.setFaults({
    rules: [{ route: 'POST', action: { type: 'status', status: 429, retryAfter: 1 } }],
  });
  const limited = await failure(client.events({ startTime: new Date().toISOString() }));
  expect([limited.code, limited.info.retryAfterMs]).toEqual(['RateLimited', 1000]);
  for (const error of [rejected, unavailable, limited]) {
    expect(error.message).not.toContain(KEY);
    expect(error.message).not.toContain('wrong-key-3a7c');
  }
});
