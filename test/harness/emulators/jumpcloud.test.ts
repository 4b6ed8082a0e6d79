/**
 * The JumpCloud emulator over real HTTP: v1 system users and applications, v2 user groups,
 * memberships, associations and traversals (U1), Directory Insights with the matching event for
 * every API mutation (C4), the `/_emulator/` controls and the demo organisation.
 */
import {
  DEFAULT_ORG_ID,
  createJumpCloudEmulator,
  type JumpCloudEmulator,
  type InsightsEvent,
} from '../../../harness/emulators/jumpcloud';
import type { GraphObjectWithPaths, SystemUser, UserGroup } from '../../../harness/emulators/jumpcloud/model';
import { createDemoOrganization } from '../../../harness/emulators/seed/demo';
import { API_KEY, NOTION_APP_ID, caller, header, type Reply } from './jumpcloud-http';

let emulator: JumpCloudEmulator;
let origin = '';
const call = caller(() => origin);

beforeAll(async () => {
  emulator = createJumpCloudEmulator();
  origin = await emulator.listen();
});
afterAll(() => emulator.close());
beforeEach(async () => {
  emulator.reset();
  await call('DELETE', '/_emulator/requests');
});

const APP = `/api/v2/applications/${NOTION_APP_ID}`;
const EPOCH = '2020-01-01T00:00:00Z';
const OBJECT_ID = /^[0-9a-f]{24}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

type Ids = Record<string, string>;

/**
 * alice, bob, carol, dave (STAGED), erin (SUSPENDED), frank, grace;
 * Engineering ⊃ Platform ⊃ SRE; Design; Sales. Notion is bound to Engineering, Design and frank.
 */
function seedFixture(): Ids {
  emulator.seed({
    users: [
      { username: 'alice', email: 'alice@example.com', firstname: 'Alice', lastname: 'Liddell' },
      { username: 'bob', email: 'bob@example.com', firstname: 'Bob', lastname: 'Builder' },
      { username: 'carol', email: 'carol@example.com', firstname: 'Carol', lastname: 'Danvers' },
      { username: 'dave', email: 'dave@example.com', firstname: 'Dave', lastname: 'Lister', state: 'STAGED' },
      {
        username: 'erin',
        email: 'erin@example.com',
        firstname: 'Erin',
        lastname: 'Hunt',
        state: 'SUSPENDED',
      },
      { username: 'frank', email: 'frank@example.com', firstname: 'Frank', lastname: 'Castle' },
      { username: 'grace', email: 'grace@example.com', firstname: 'Grace', lastname: 'Hopper' },
    ],
    groups: [
      { name: 'Engineering', members: ['alice'], groups: ['Platform'] },
      { name: 'Platform', members: ['bob'], groups: ['SRE'] },
      { name: 'SRE', members: ['carol'] },
      { name: 'Design', members: ['alice', 'grace', 'dave'] },
      { name: 'Sales', members: ['frank', 'erin'] },
    ],
    bindings: [{ groups: ['Engineering', 'Design'], users: ['frank'] }],
  });
  const ids: Ids = {};
  for (const user of emulator.state().users) ids[user.username] = user._id;
  for (const group of emulator.state().groups) ids[group.name] = group.id;
  return ids;
}

async function createUser(username: string, extra: Record<string, unknown> = {}): Promise<SystemUser> {
  const reply = await call<SystemUser>('POST', '/api/systemusers', {
    body: { username, email: `${username}@example.com`, firstname: username, lastname: 'Test', ...extra },
  });
  expect(reply.status).toBe(200);
  return reply.body;
}

async function queryEvents(body: Record<string, unknown> = {}): Promise<Reply<InsightsEvent[]>> {
  return call<InsightsEvent[]>('POST', '/insights/directory/v1/events', {
    body: { service: ['directory'], start_time: EPOCH, ...body },
  });
}

/** Each path as the names of its hops. */
function hopNames(object: GraphObjectWithPaths, names: Record<string, string>): string[][] {
  return object.paths.map((path) => path.map((hop) => names[hop.to.id] ?? hop.to.id)).sort();
}

/** Graph objects by the fixture name of their id. */
function byName(
  objects: GraphObjectWithPaths[],
  names: Record<string, string>,
): Record<string, GraphObjectWithPaths> {
  return Object.fromEntries(
    objects.map((object): [string, GraphObjectWithPaths] => [names[object.id] ?? object.id, object]),
  );
}

function namesById(ids: Ids): Record<string, string> {
  return Object.fromEntries(Object.entries(ids).map(([name, id]) => [id, name]));
}

describe('authentication and tenancy', () => {
  test('a request without a valid x-api-key gets 401 with JumpCloud error body on v1, v2 and Insights', async () => {
    for (const [method, path] of [
      ['GET', '/api/systemusers'],
      ['GET', '/api/v2/usergroups'],
      ['POST', '/insights/directory/v1/events'],
    ] as const) {
      for (const headers of [{}, { 'x-api-key': 'wrong' }] as Record<string, string>[]) {
        const reply = await call<{ message: string }>(method, path, { headers });
        expect(reply.status).toBe(401);
        expect(reply.body).toEqual({ code: 401, message: 'Unauthorized', status: 'UNAUTHENTICATED' });
      }
    }
  });

  test('x-org-id is accepted without an orgId option; with one, malformed → 400, another org → 404', async () => {
    expect(
      (await call('GET', '/api/systemusers', { headers: { 'x-api-key': API_KEY, 'x-org-id': 'x' } })).status,
    ).toBe(200);
    const orgId = 'aaaaaaaaaaaaaaaaaaaaaaaa';
    const tenant = createJumpCloudEmulator({ orgId, apiKey: 'tenant-key' });
    const tenantOrigin = await tenant.listen();
    try {
      const tenantCall = caller(() => tenantOrigin);
      const get = (headers: Record<string, string>) =>
        tenantCall('GET', '/api/systemusers', { headers: { 'x-api-key': 'tenant-key', ...headers } });
      expect((await get({})).status).toBe(200);
      expect((await get({ 'x-org-id': orgId })).status).toBe(200);
      expect((await get({ 'x-org-id': 'not-an-id' })).status).toBe(400);
      expect((await get({ 'x-org-id': 'bbbbbbbbbbbbbbbbbbbbbbbb' })).status).toBe(404);
      const created = await tenantCall<SystemUser>('POST', '/api/systemusers', {
        headers: { 'x-api-key': 'tenant-key', 'content-type': 'application/json' },
        body: { username: 'zed', email: 'zed@example.com' },
      });
      expect(created.body.organization).toBe(orgId);
    } finally {
      await tenant.close();
    }
  });
});

describe('v1 systemusers', () => {
  test('list: {results, totalCount}, limit default 10 and at most 100 (else 400), skip', async () => {
    for (let i = 0; i < 15; i += 1) await createUser(`user${String(i).padStart(2, '0')}`);
    const first = await call<{ results: SystemUser[]; totalCount: number }>('GET', '/api/systemusers');
    expect(first.status).toBe(200);
    expect(first.body.totalCount).toBe(15);
    expect(first.body.results).toHaveLength(10);
    const second = await call<{ results: SystemUser[] }>('GET', '/api/systemusers?skip=10&limit=10');
    expect(second.body.results.map((u) => u.username)).toEqual([
      'user10',
      'user11',
      'user12',
      'user13',
      'user14',
    ]);
    expect((await call('GET', '/api/systemusers?limit=100')).status).toBe(200);
    const tooMany = await call<{ message: string }>('GET', '/api/systemusers?limit=101');
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.message).toMatch(/limit/);
  });

  test('list: sort by fields, "-" for descending', async () => {
    await createUser('bravo', { lastname: 'Same' });
    await createUser('alpha', { lastname: 'Same' });
    await createUser('charlie', { lastname: 'Other' });
    const sorted = async (sort: string) =>
      (
        await call<{ results: SystemUser[] }>('GET', `/api/systemusers?sort=${encodeURIComponent(sort)}`)
      ).body.results.map((u) => u.username);
    expect(await sorted('username')).toEqual(['alpha', 'bravo', 'charlie']);
    expect(await sorted('-username')).toEqual(['charlie', 'bravo', 'alpha']);
    expect(await sorted('lastname -username')).toEqual(['charlie', 'bravo', 'alpha']);
  });

  test('list: filter=field:$eq:value, $ne, filter[0]/filter[1] (AND), filter[or][n] (OR); values are case sensitive', async () => {
    const ids = seedFixture();
    const usernames = async (query: string) =>
      (
        await call<{ results: SystemUser[]; totalCount: number }>(
          'GET',
          `/api/systemusers?limit=100&${query}`,
        )
      ).body.results
        .map((u) => u.username)
        .sort();
    expect(await usernames('filter=username:$eq:alice')).toEqual(['alice']);
    expect(await usernames('filter=email:$eq:ALICE@example.com')).toEqual([]);
    expect(await usernames('filter=email:$eq:grace@example.com')).toEqual(['grace']);
    expect(await usernames('filter=state:$ne:ACTIVATED')).toEqual(['dave', 'erin']);
    expect(await usernames('filter[0]=state:$eq:ACTIVATED&filter[1]=lastname:$eq:Hopper')).toEqual(['grace']);
    expect(await usernames('filter[or][0]=username:$eq:bob&filter[or][1]=username:$eq:carol')).toEqual([
      'bob',
      'carol',
    ]);
    expect(await usernames('filter=suspended:$eq:true')).toEqual(['erin']);
    expect(await usernames(`filter=_id:$eq:${ids.frank}`)).toEqual(['frank']);
    expect((await call('GET', '/api/systemusers?filter=username:eq:alice')).status).toBe(400);
  });

  test('list and get: fields projection (space separated) keeps _id', async () => {
    const user = await createUser('projected');
    const listed = await call<{ results: Record<string, unknown>[] }>(
      'GET',
      '/api/systemusers?fields=username%20email',
    );
    expect(listed.body.results).toEqual([
      { _id: user._id, username: 'projected', email: 'projected@example.com' },
    ]);
    const one = await call<Record<string, unknown>>('GET', `/api/systemusers/${user._id}?fields=state`);
    expect(one.body).toEqual({ _id: user._id, state: 'ACTIVATED' });
  });

  test('create: username and email required; defaults ACTIVATED; ObjectId, ISO created; password never returned', async () => {
    expect((await call('POST', '/api/systemusers', { body: { email: 'x@example.com' } })).status).toBe(400);
    expect((await call('POST', '/api/systemusers', { body: { username: 'x' } })).status).toBe(400);
    expect(
      (await call('POST', '/api/systemusers', { body: { username: 'x', email: 'not-an-email' } })).status,
    ).toBe(400);
    const user = await createUser('newbie', {
      password: 'S3cret!',
      displayname: 'New Bie',
      department: 'QA',
    });
    expect(user).toMatchObject({
      username: 'newbie',
      email: 'newbie@example.com',
      firstname: 'newbie',
      lastname: 'Test',
      displayname: 'New Bie',
      department: 'QA',
      state: 'ACTIVATED',
      activated: true,
      suspended: false,
      account_locked: false,
    });
    expect(user._id).toMatch(OBJECT_ID);
    expect(new Date(user.created).toISOString()).toBe(user.created);
    expect(JSON.stringify(user)).not.toContain('S3cret');
    const staged = await createUser('later', { state: 'STAGED' });
    expect(staged).toMatchObject({ state: 'STAGED', activated: false, suspended: false });
  });

  test('create: an existing username or email (in any case) is refused with 400', async () => {
    await createUser('taken');
    const sameName = await call<{ message: string }>('POST', '/api/systemusers', {
      body: { username: 'TAKEN', email: 'other@example.com' },
    });
    expect(sameName.status).toBe(400);
    expect(sameName.body.message).toMatch(/already exists/);
    const sameEmail = await call('POST', '/api/systemusers', {
      body: { username: 'other', email: 'Taken@Example.com' },
    });
    expect(sameEmail.status).toBe(400);
  });

  test('get: 404 for an unknown id, 400 for a malformed one', async () => {
    const user = await createUser('findme');
    expect((await call<SystemUser>('GET', `/api/systemusers/${user._id}`)).body.username).toBe('findme');
    expect((await call('GET', '/api/systemusers/0123456789abcdef01234567')).status).toBe(404);
    expect((await call('GET', '/api/systemusers/nope')).status).toBe(400);
  });

  test('update (PUT) is partial; SUSPENDED sets suspended, ACTIVATED lifts it; STAGED is refused', async () => {
    const user = await createUser('changer', { firstname: 'Chan', department: 'Ops' });
    const renamed = await call<SystemUser>('PUT', `/api/systemusers/${user._id}`, {
      body: { lastname: 'Ger' },
    });
    expect(renamed.body).toMatchObject({
      firstname: 'Chan',
      lastname: 'Ger',
      department: 'Ops',
      email: user.email,
    });
    const suspended = await call<SystemUser>('PUT', `/api/systemusers/${user._id}`, {
      body: { state: 'SUSPENDED' },
    });
    expect(suspended.body).toMatchObject({ state: 'SUSPENDED', suspended: true, activated: true });
    const back = await call<SystemUser>('PUT', `/api/systemusers/${user._id}`, {
      body: { suspended: false },
    });
    expect(back.body).toMatchObject({ state: 'ACTIVATED', suspended: false });
    expect((await call('PUT', `/api/systemusers/${user._id}`, { body: { state: 'STAGED' } })).status).toBe(
      400,
    );
    await createUser('other');
    expect(
      (await call('PUT', `/api/systemusers/${user._id}`, { body: { email: 'other@example.com' } })).status,
    ).toBe(400);
    expect((await call('PUT', '/api/systemusers/0123456789abcdef01234567', { body: {} })).status).toBe(404);
  });

  test('update: a STAGED user is activated by state ACTIVATED', async () => {
    const user = await createUser('staged', { state: 'STAGED' });
    const activated = await call<SystemUser>('PUT', `/api/systemusers/${user._id}`, {
      body: { state: 'ACTIVATED' },
    });
    expect(activated.body).toMatchObject({ state: 'ACTIVATED', activated: true });
  });

  test('delete returns the deleted user and removes it from groups and bindings', async () => {
    const ids = seedFixture();
    const deleted = await call<SystemUser>('DELETE', `/api/systemusers/${ids.alice}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ _id: ids.alice, username: 'alice' });
    expect((await call('GET', `/api/systemusers/${ids.alice}`)).status).toBe(404);
    const members = await call<{ to: { id: string } }[]>('GET', `/api/v2/usergroups/${ids.Design}/members`);
    expect(members.body.map((m) => m.to.id)).not.toContain(ids.alice);
    const users = await call<GraphObjectWithPaths[]>('GET', `${APP}/users?limit=100`);
    expect(users.body.map((u) => u.id)).not.toContain(ids.alice);
    expect((await call('DELETE', `/api/systemusers/${ids.alice}`)).status).toBe(404);
  });

  test('delete of a manager is refused (409) unless cascade_manager clears the reports', async () => {
    const boss = await createUser('boss');
    const report = await createUser('report', { manager: boss._id });
    expect((await call('DELETE', `/api/systemusers/${boss._id}`)).status).toBe(409);
    expect((await call('DELETE', `/api/systemusers/${boss._id}?cascade_manager=null`)).status).toBe(200);
    expect((await call<SystemUser>('GET', `/api/systemusers/${report._id}`)).body.manager).toBeUndefined();
  });
});

describe('v1 applications', () => {
  test('the Notion SSO application always exists with its fixed id, also after reset', async () => {
    const list = await call<{ results: { _id: string; name: string }[]; totalCount: number }>(
      'GET',
      '/api/applications',
    );
    expect(list.body.totalCount).toBe(1);
    expect(list.body.results[0]).toMatchObject({
      _id: NOTION_APP_ID,
      name: 'Notion',
      displayLabel: 'Notion',
    });
    const one = await call<{ _id: string; sso: { type: string } }>(
      'GET',
      `/api/applications/${NOTION_APP_ID}`,
    );
    expect(one.body).toMatchObject({ _id: NOTION_APP_ID, sso: { type: 'saml' } });
    expect((await call('GET', '/api/applications/0123456789abcdef01234567')).status).toBe(404);
  });

  test('the notionAppId option sets the Notion application id', async () => {
    const other = createJumpCloudEmulator({ notionAppId: '0123456789abcdef01234567' });
    try {
      expect(other.state().applications.map((app) => [app._id, app.name])).toEqual([
        ['0123456789abcdef01234567', 'Notion'],
      ]);
    } finally {
      await other.close();
    }
  });
});

describe('v2 usergroups', () => {
  test('CRUD: POST 201, GET, PUT is a full update (name required), DELETE returns the group; names are unique', async () => {
    const created = await call<UserGroup>('POST', '/api/v2/usergroups', {
      body: { name: 'Writers', description: 'People who write' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Writers',
      description: 'People who write',
      type: 'user_group',
    });
    expect(created.body.id).toMatch(OBJECT_ID);
    const id = created.body.id;
    expect((await call<UserGroup>('GET', `/api/v2/usergroups/${id}`)).body.name).toBe('Writers');
    expect((await call('POST', '/api/v2/usergroups', { body: { name: 'writers' } })).status).toBe(409);
    expect((await call('POST', '/api/v2/usergroups', { body: { description: 'no name' } })).status).toBe(400);
    const updated = await call<UserGroup>('PUT', `/api/v2/usergroups/${id}`, { body: { name: 'Authors' } });
    expect(updated.body).toMatchObject({ id, name: 'Authors', description: '' });
    expect((await call('PUT', `/api/v2/usergroups/${id}`, { body: { description: 'x' } })).status).toBe(400);
    const deleted = await call<UserGroup>('DELETE', `/api/v2/usergroups/${id}`);
    expect(deleted.body).toMatchObject({ id, name: 'Authors' });
    expect((await call('GET', `/api/v2/usergroups/${id}`)).status).toBe(404);
  });

  test('list: a bare array with x-total-count; limit at most 100, skip, filter name:eq:', async () => {
    for (let i = 0; i < 12; i += 1)
      await call('POST', '/api/v2/usergroups', { body: { name: `Team ${String(i).padStart(2, '0')}` } });
    const page = await call<UserGroup[]>('GET', '/api/v2/usergroups');
    expect(Array.isArray(page.body)).toBe(true);
    expect(page.body).toHaveLength(10);
    expect(header(page, 'x-total-count')).toBe('12');
    const rest = await call<UserGroup[]>('GET', '/api/v2/usergroups?skip=10&limit=5');
    expect(rest.body.map((g) => g.name)).toEqual(['Team 10', 'Team 11']);
    const filtered = await call<UserGroup[]>('GET', '/api/v2/usergroups?filter=name:eq:Team+03');
    expect(filtered.body.map((g) => g.name)).toEqual(['Team 03']);
    expect(header(filtered, 'x-total-count')).toBe('1');
    expect((await call('GET', '/api/v2/usergroups?limit=101')).status).toBe(400);
    const sorted = await call<UserGroup[]>('GET', '/api/v2/usergroups?sort=-name&limit=2');
    expect(sorted.body.map((g) => g.name)).toEqual(['Team 11', 'Team 10']);
  });

  test('members: direct members as GraphConnections (users and nested user_groups), paged with x-total-count', async () => {
    const ids = seedFixture();
    const members = await call<{ to: { id: string; type: string } }[]>(
      'GET',
      `/api/v2/usergroups/${ids.Engineering}/members`,
    );
    expect(members.body).toEqual([
      { to: { id: ids.alice, type: 'user' } },
      { to: { id: ids.Platform, type: 'user_group' } },
    ]);
    expect(header(members, 'x-total-count')).toBe('2');
    const limited = await call<unknown[]>(
      'GET',
      `/api/v2/usergroups/${ids.Engineering}/members?limit=1&skip=1`,
    );
    expect(limited.body).toEqual([{ to: { id: ids.Platform, type: 'user_group' } }]);
  });

  test('members: POST {op, type, id} adds and removes users and groups (204); 409 twice, 404 absent, 400 on a cycle', async () => {
    const ids = seedFixture();
    const post = (op: string, type: string, id: string) =>
      call('POST', `/api/v2/usergroups/${ids.Sales}/members`, { body: { op, type, id } });
    expect((await post('add', 'user', ids.grace!)).status).toBe(204);
    expect((await post('add', 'user', ids.grace!)).status).toBe(409);
    expect((await post('add', 'user_group', ids.SRE!)).status).toBe(204);
    expect((await post('remove', 'user', ids.frank!)).status).toBe(204);
    expect((await post('remove', 'user', ids.frank!)).status).toBe(404);
    expect((await post('add', 'user', '0123456789abcdef01234567')).status).toBe(404);
    expect((await post('add', 'system', ids.grace!)).status).toBe(400);
    const members = await call<{ to: { id: string } }[]>('GET', `/api/v2/usergroups/${ids.Sales}/members`);
    expect(members.body.map((m) => m.to.id)).toEqual([ids.erin, ids.grace, ids.SRE]);
    // SRE is inside Platform inside Engineering: Engineering may not go into SRE.
    const cycle = await call('POST', `/api/v2/usergroups/${ids.SRE}/members`, {
      body: { op: 'add', type: 'user_group', id: ids.Engineering },
    });
    expect(cycle.status).toBe(400);
  });

  test('membership: users resolved through nested groups, with paths from the group', async () => {
    const ids = seedFixture();
    const names = namesById(ids);
    const reply = await call<GraphObjectWithPaths[]>(
      'GET',
      `/api/v2/usergroups/${ids.Engineering}/membership`,
    );
    expect(header(reply, 'x-total-count')).toBe('3');
    const found = byName(reply.body, names);
    expect(Object.keys(found).sort()).toEqual(['alice', 'bob', 'carol']);
    expect(reply.body.every((o) => o.type === 'user')).toBe(true);
    expect(hopNames(found.alice!, names)).toEqual([['alice']]);
    expect(hopNames(found.bob!, names)).toEqual([['Platform', 'bob']]);
    expect(hopNames(found.carol!, names)).toEqual([['Platform', 'SRE', 'carol']]);
  });

  test('memberof: the groups of a user, nested ones resolved, with paths from the user', async () => {
    const ids = seedFixture();
    const names = namesById(ids);
    const reply = await call<GraphObjectWithPaths[]>('GET', `/api/v2/users/${ids.carol}/memberof`);
    const found = byName(reply.body, names);
    expect(Object.keys(found).sort()).toEqual(['Engineering', 'Platform', 'SRE']);
    expect(reply.body.every((o) => o.type === 'user_group')).toBe(true);
    expect(hopNames(found.SRE!, names)).toEqual([['SRE']]);
    expect(hopNames(found.Engineering!, names)).toEqual([['SRE', 'Platform', 'Engineering']]);
    const alice = await call<GraphObjectWithPaths[]>(
      'GET',
      `/api/v2/users/${ids.alice}/memberof?filter=type:eq:user_group`,
    );
    expect(alice.body.map((o) => names[o.id]).sort()).toEqual(['Design', 'Engineering']);
    expect((await call('GET', '/api/v2/users/0123456789abcdef01234567/memberof')).status).toBe(404);
  });
});

describe('v2 application associations and traversals', () => {
  test('associations: targets is required (400); GET lists direct bindings as GraphConnections', async () => {
    const ids = seedFixture();
    expect((await call('GET', `${APP}/associations`)).status).toBe(400);
    expect((await call('GET', `${APP}/associations?targets=system`)).status).toBe(400);
    const groups = await call<{ to: { id: string; type: string } }[]>(
      'GET',
      `${APP}/associations?targets=user_group`,
    );
    expect(groups.body).toEqual([
      { to: { id: ids.Engineering, type: 'user_group' } },
      { to: { id: ids.Design, type: 'user_group' } },
    ]);
    expect(header(groups, 'x-total-count')).toBe('2');
    const users = await call<{ to: { id: string; type: string } }[]>(
      'GET',
      `${APP}/associations?targets=user`,
    );
    expect(users.body).toEqual([{ to: { id: ids.frank, type: 'user' } }]);
    expect(
      (await call('GET', `/api/v2/applications/0123456789abcdef01234567/associations?targets=user`)).status,
    ).toBe(404);
  });

  test('associations: POST {op, type, id} binds and unbinds users and groups (204)', async () => {
    const ids = seedFixture();
    const post = (op: string, type: string, id: string) =>
      call('POST', `${APP}/associations`, { body: { op, type, id } });
    expect((await post('add', 'user_group', ids.Sales!)).status).toBe(204);
    expect((await post('add', 'user_group', ids.Sales!)).status).toBe(409);
    expect((await post('remove', 'user_group', ids.Design!)).status).toBe(204);
    expect((await post('remove', 'user', ids.frank!)).status).toBe(204);
    expect((await post('remove', 'user', ids.frank!)).status).toBe(404);
    expect((await post('add', 'user', ids.grace!)).status).toBe(204);
    const groups = await call<{ to: { id: string } }[]>('GET', `${APP}/associations?targets=user_group`);
    expect(groups.body.map((c) => c.to.id)).toEqual([ids.Engineering, ids.Sales]);
    const users = await call<{ to: { id: string } }[]>(
      'GET',
      `${APP}/associations?targets=user&targets=user_group`,
    );
    expect(users.body.map((c) => c.to.id)).toEqual([ids.grace, ids.Engineering, ids.Sales]);
  });

  test('U1: applications/{id}/users returns users bound directly and through nested groups, each path hop by hop', async () => {
    const ids = seedFixture();
    const names = namesById(ids);
    const reply = await call<GraphObjectWithPaths[]>('GET', `${APP}/users?limit=100`);
    const found = byName(reply.body, names);
    // Every bound user, whatever its state (dave is STAGED): the product applies U1's state rule.
    expect(Object.keys(found).sort()).toEqual(['alice', 'bob', 'carol', 'dave', 'frank', 'grace']);
    expect(reply.body.every((o) => o.type === 'user')).toBe(true);
    expect(hopNames(found.frank!, names)).toEqual([['frank']]);
    expect(hopNames(found.grace!, names)).toEqual([['Design', 'grace']]);
    expect(hopNames(found.alice!, names)).toEqual([
      ['Design', 'alice'],
      ['Engineering', 'alice'],
    ]);
    expect(hopNames(found.bob!, names)).toEqual([['Engineering', 'Platform', 'bob']]);
    expect(hopNames(found.carol!, names)).toEqual([['Engineering', 'Platform', 'SRE', 'carol']]);
    expect(found.carol!.paths[0]![0]).toEqual({ to: { id: ids.Engineering, type: 'user_group' } });
    expect(header(reply, 'x-total-count')).toBe('6');
  });

  test('U1: traversal follows membership and binding changes at once', async () => {
    const ids = seedFixture();
    const names = namesById(ids);
    const users = async () =>
      (await call<GraphObjectWithPaths[]>('GET', `${APP}/users?limit=100`)).body
        .map((o) => names[o.id])
        .sort();
    await call('POST', `/api/v2/usergroups/${ids.SRE}/members`, {
      body: { op: 'add', type: 'user', id: ids.erin },
    });
    expect(await users()).toContain('erin');
    await call('POST', `${APP}/associations`, {
      body: { op: 'remove', type: 'user_group', id: ids.Engineering },
    });
    expect(await users()).toEqual(['alice', 'dave', 'frank', 'grace']);
    await call('DELETE', `/api/v2/usergroups/${ids.Design}`);
    expect(await users()).toEqual(['frank']);
  });

  test('applications/{id}/usergroups: groups bound directly and nested in bound groups, with paths; paged', async () => {
    const ids = seedFixture();
    const names = namesById(ids);
    const reply = await call<GraphObjectWithPaths[]>('GET', `${APP}/usergroups`);
    const found = byName(reply.body, names);
    expect(Object.keys(found).sort()).toEqual(['Design', 'Engineering', 'Platform', 'SRE']);
    expect(hopNames(found.Engineering!, names)).toEqual([['Engineering']]);
    expect(hopNames(found.SRE!, names)).toEqual([['Engineering', 'Platform', 'SRE']]);
    const page = await call<GraphObjectWithPaths[]>('GET', `${APP}/usergroups?limit=1&skip=3`);
    expect(page.body).toHaveLength(1);
    expect(header(page, 'x-total-count')).toBe('4');
    expect((await call('GET', `${APP}/usergroups?limit=1000`)).status).toBe(400);
  });
});

describe('Directory Insights', () => {
  test('C4: every API mutation appends the matching event', async () => {
    const ids = seedFixture();
    const user = await createUser('eve', { firstname: 'Eve' });
    await call('PUT', `/api/systemusers/${user._id}`, { body: { firstname: 'Evelyn' } });
    await call('PUT', `/api/systemusers/${user._id}`, { body: { state: 'SUSPENDED' } });
    await call('PUT', `/api/systemusers/${user._id}`, { body: { state: 'ACTIVATED' } });
    const group = (await call<UserGroup>('POST', '/api/v2/usergroups', { body: { name: 'Auditors' } })).body;
    await call('PUT', `/api/v2/usergroups/${group.id}`, { body: { name: 'Internal Auditors' } });
    await call('POST', `/api/v2/usergroups/${group.id}/members`, {
      body: { op: 'add', type: 'user', id: user._id },
    });
    await call('POST', `/api/v2/usergroups/${group.id}/members`, {
      body: { op: 'add', type: 'user_group', id: ids.SRE },
    });
    await call('POST', `/api/v2/usergroups/${group.id}/members`, {
      body: { op: 'remove', type: 'user', id: user._id },
    });
    await call('POST', `${APP}/associations`, { body: { op: 'add', type: 'user_group', id: group.id } });
    await call('POST', `${APP}/associations`, { body: { op: 'add', type: 'user', id: user._id } });
    await call('POST', `${APP}/associations`, { body: { op: 'remove', type: 'user_group', id: group.id } });
    await call('DELETE', `/api/v2/usergroups/${group.id}`);
    await call('DELETE', `/api/systemusers/${user._id}`);
    // Refused requests change nothing and log nothing.
    await call('POST', '/api/systemusers', { body: { username: 'eve2' } });

    const reply = await queryEvents();
    const events = reply.body;
    expect(events.map((e) => e.event_type)).toEqual([
      'user_create',
      'user_update',
      'user_update',
      'user_suspended',
      'user_update',
      'user_unsuspended',
      'group_create',
      'group_update',
      'association_change',
      'association_change',
      'association_change',
      'association_change',
      'association_change',
      'association_change',
      'group_delete',
      'user_delete',
    ]);
    for (const event of events) {
      expect(event).toMatchObject({ service: 'directory', success: true, organization: DEFAULT_ORG_ID });
      expect(event.id).toMatch(OBJECT_ID);
      expect(event.timestamp).toMatch(ISO_MS);
      expect(event.initiated_by).toMatchObject({ type: 'admin' });
      expect((event.initiated_by as { id: string }).id).toMatch(OBJECT_ID);
    }
    expect(events[0]!.resource).toEqual({
      type: 'user',
      id: user._id,
      username: 'eve',
      email: 'eve@example.com',
    });
    expect(events[1]!.changes).toEqual([{ field: 'firstname', from: 'Eve', to: 'Evelyn' }]);
    expect(events[2]!.changes).toEqual([
      { field: 'state', from: 'ACTIVATED', to: 'SUSPENDED' },
      { field: 'suspended', from: false, to: true },
    ]);
    expect(events[3]!.resource).toMatchObject({ type: 'user', id: user._id });
    expect(events[4]!.changes).toEqual([
      { field: 'state', from: 'SUSPENDED', to: 'ACTIVATED' },
      { field: 'suspended', from: true, to: false },
    ]);
    expect(events[6]!.resource).toEqual({ type: 'user_group', id: group.id, name: 'Auditors' });
    expect(events[7]!.resource).toEqual({ type: 'user_group', id: group.id, name: 'Internal Auditors' });
    expect(events[7]!.changes).toEqual([{ field: 'name', from: 'Auditors', to: 'Internal Auditors' }]);
    const groupEnd = { type: 'user_group', object_id: group.id, name: 'Internal Auditors' };
    const userEnd = { type: 'user', object_id: user._id, name: 'eve' };
    const appEnd = { type: 'application', object_id: NOTION_APP_ID, name: 'Notion' };
    expect(events.slice(8, 14).map((e) => e.association)).toEqual(
      [
        ['add', groupEnd, userEnd],
        ['add', groupEnd, { type: 'user_group', object_id: ids.SRE, name: 'SRE' }],
        ['remove', groupEnd, userEnd],
        ['add', appEnd, groupEnd],
        ['add', appEnd, userEnd],
        ['remove', appEnd, groupEnd],
      ].map(([op, from, to]) => ({
        op,
        action_source: 'manual',
        connection: { from, to },
        attributes: null,
      })),
    );
    expect(events[14]!.resource).toEqual({ type: 'user_group', id: group.id, name: 'Internal Auditors' });
    expect(events[15]!.resource).toMatchObject({ type: 'user', id: user._id, username: 'eve' });
  });

  test('seeding and reset generate no events; the direct mutation API does, like the HTTP API', async () => {
    seedFixture();
    expect((await queryEvents()).body).toEqual([]);
    const user = emulator.createUser({ username: 'direct', email: 'direct@example.com' });
    emulator.suspendUser(user._id);
    const group = emulator.createGroup({ name: 'Direct' });
    emulator.addGroupMember(group.id, { type: 'user', id: user._id });
    emulator.bind({ type: 'user_group', id: group.id });
    emulator.unbind({ type: 'user_group', id: group.id });
    emulator.removeGroupMember(group.id, { type: 'user', id: user._id });
    emulator.updateGroup(group.id, { name: 'Renamed' });
    emulator.deleteGroup(group.id);
    emulator.deleteUser(user._id);
    expect((await queryEvents()).body.map((e) => e.event_type)).toEqual([
      'user_create',
      'user_update',
      'user_suspended',
      'group_create',
      'association_change',
      'association_change',
      'association_change',
      'association_change',
      'group_update',
      'group_delete',
      'user_delete',
    ]);
    expect(() => emulator.createUser({ username: 'direct2', email: 'bad' })).toThrow(/valid email/);
  });

  test('service and start_time are required; unknown services, future starts and inverted ranges are 400', async () => {
    const post = (body: unknown) =>
      call<{ message: string }>('POST', '/insights/directory/v1/events', { body });
    expect((await post({ start_time: EPOCH })).status).toBe(400);
    expect((await post({ service: ['directory'] })).status).toBe(400);
    expect((await post({ service: ['nope'], start_time: EPOCH })).body.message).toMatch(/directory/);
    expect((await post({ service: ['directory'], start_time: 'yesterday' })).status).toBe(400);
    expect((await post({ service: ['directory'], start_time: '2999-01-01T00:00:00Z' })).status).toBe(400);
    expect(
      (await post({ service: ['directory'], start_time: EPOCH, end_time: '2019-01-01T00:00:00Z' })).status,
    ).toBe(400);
    expect((await post({ service: ['all'], start_time: EPOCH })).status).toBe(200);
  });

  test('headers: X-Result-Count, X-Limit (default 1000, at most 10000), X-Sort (ASC unless DESC), X-Search_after always', async () => {
    const empty = await queryEvents();
    expect(empty.body).toEqual([]);
    expect(header(empty, 'x-result-count')).toBe('0');
    expect(header(empty, 'x-limit')).toBe('1000');
    expect(header(empty, 'x-sort')).toBe('ASC');
    expect(header(empty, 'x-search_after')).toBe('[]');
    expect(header(empty, 'x-request-id')).toBeDefined();
    await createUser('one');
    await createUser('two');
    const desc = await queryEvents({ sort: 'desc', limit: 20000 });
    expect(header(desc, 'x-sort')).toBe('DESC');
    expect(header(desc, 'x-limit')).toBe('10000');
    expect(desc.body.map((e) => (e.resource as { username: string }).username)).toEqual(['two', 'one']);
    const last = desc.body[1]!;
    expect(JSON.parse(header(desc, 'x-search_after')!)).toEqual([Date.parse(last.timestamp), last.id]);
    const silly = await queryEvents({ sort: 'sideways', limit: -3 });
    expect(header(silly, 'x-sort')).toBe('ASC');
    expect(header(silly, 'x-limit')).toBe('1000');
  });

  test('C4: search_after pages until X-Result-Count < X-Limit, in order, without gaps or repeats', async () => {
    for (let i = 0; i < 25; i += 1) await createUser(`pager${String(i).padStart(2, '0')}`);
    for (const sort of ['ASC', 'DESC']) {
      const seen: string[] = [];
      let cursor: unknown;
      for (let page = 0; page < 10; page += 1) {
        const reply = await queryEvents({ limit: 10, sort, ...(cursor ? { search_after: cursor } : {}) });
        seen.push(...reply.body.map((e) => (e.resource as { username: string }).username));
        expect(Number(header(reply, 'x-result-count'))).toBe(reply.body.length);
        cursor = JSON.parse(header(reply, 'x-search_after')!);
        if (Number(header(reply, 'x-result-count')) < Number(header(reply, 'x-limit'))) break;
      }
      const expected = Array.from({ length: 25 }, (_, i) => `pager${String(i).padStart(2, '0')}`);
      expect(seen).toEqual(sort === 'ASC' ? expected : expected.reverse());
    }
  });

  test('search_term: and/or lists, value lists, dot paths, nested compound terms, case-insensitive', async () => {
    const ids = seedFixture();
    await createUser('searcher');
    await call('POST', `/api/v2/usergroups/${ids.Sales}/members`, {
      body: { op: 'add', type: 'user', id: ids.alice },
    });
    await call('POST', `${APP}/associations`, { body: { op: 'add', type: 'user_group', id: ids.Sales } });
    const types = async (searchTerm: unknown) =>
      (await queryEvents({ search_term: searchTerm })).body.map((e) => e.event_type);
    expect(await types({ and: [{ event_type: 'user_create' }] })).toEqual(['user_create']);
    expect(await types({ or: [{ event_type: ['user_create', 'group_create'] }] })).toEqual(['user_create']);
    expect(
      await types({
        and: [{ event_type: 'association_change' }, { 'association.connection.from.type': 'application' }],
      }),
    ).toEqual(['association_change']);
    expect(await types({ and: [{ 'association.connection.from.type': 'USER_GROUP' }] })).toEqual([
      'association_change',
    ]);
    expect(
      await types({
        and: [
          { success: 'true' },
          { or: [{ 'resource.username': 'searcher' }, { 'association.op': 'add' }] },
        ],
      }),
    ).toEqual(['user_create', 'association_change', 'association_change']);
    expect(await types({ not: [{ event_type: 'association_change' }] })).toEqual(['user_create']);
    expect(await types({ and: [{ 'changes.field': 'state' }] })).toEqual([]);
  });

  test('time window, fields projection (empty or unknown-only → 400), count', async () => {
    const before = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await createUser('windowed');
    const after = new Date(Date.now() + 1000).toISOString();
    expect((await queryEvents({ start_time: before })).body).toHaveLength(1);
    expect((await queryEvents({ start_time: EPOCH, end_time: before })).body).toHaveLength(0);
    const projected = await queryEvents({ fields: ['event_type', 'resource.username'] });
    expect(projected.body).toEqual([{ event_type: 'user_create', resource: { username: 'windowed' } }]);
    expect((await queryEvents({ fields: [] })).status).toBe(400);
    expect((await queryEvents({ fields: ['nonsense'] })).status).toBe(400);
    const count = await call<{ count: number }>('POST', '/insights/directory/v1/events/count', {
      body: { service: ['directory'], start_time: EPOCH, end_time: after },
    });
    expect(count.body).toEqual({ count: 1 });
  });

  test('C4: late events are hidden until their delay has passed; their timestamp stays the mutation time', async () => {
    const put = await call('PUT', '/_emulator/insights', { body: { delayMs: 400 } });
    expect(put.status).toBe(204);
    expect((await call<{ delayMs: number }>('GET', '/_emulator/insights')).body.delayMs).toBe(400);
    const mutatedAt = Date.now();
    await createUser('late');
    expect((await queryEvents()).body).toEqual([]);
    const hidden = await call<{ count: number }>('POST', '/insights/directory/v1/events/count', {
      body: { service: ['directory'], start_time: EPOCH },
    });
    expect(hidden.body.count).toBe(0);
    expect(emulator.events()).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 450));
    const visible = (await queryEvents()).body;
    expect(visible.map((e) => e.event_type)).toEqual(['user_create']);
    expect(Date.parse(visible[0]!.timestamp)).toBeGreaterThanOrEqual(mutatedAt);
    expect(Date.parse(visible[0]!.timestamp)).toBeLessThan(mutatedAt + 400);
    expect((await call('PUT', '/_emulator/insights', { body: { delayMs: -1 } })).status).toBe(400);
  });
});

describe('/_emulator controls', () => {
  test('reset empties the directory and journal; credentials and the Notion application stay', async () => {
    seedFixture();
    await createUser('gone');
    await call('PUT', '/_emulator/insights', { body: { delayMs: 1000 } });
    expect((await call('POST', '/_emulator/reset')).status).toBe(204);
    const state = await call<{ users: unknown[]; groups: unknown[]; applications: { _id: string }[] }>(
      'GET',
      '/_emulator/state',
    );
    expect(state.body.users).toEqual([]);
    expect(state.body.groups).toEqual([]);
    expect(state.body.applications.map((app) => app._id)).toEqual([NOTION_APP_ID]);
    expect((await queryEvents()).body).toEqual([]);
    expect((await call<{ delayMs: number }>('GET', '/_emulator/insights')).body.delayMs).toBe(0);
    expect((await call('GET', '/api/systemusers')).status).toBe(200);
  });

  test('seed with an explicit object (validated, all or nothing) and GET /_emulator/state', async () => {
    const seeded = await call<{ users: number; groups: number }>('POST', '/_emulator/seed', {
      body: {
        users: [{ username: 'sam', email: 'sam@example.com', firstname: 'Sam' }],
        groups: [{ name: 'Crew', members: ['sam'] }],
        applications: [{ name: 'Slack' }],
        bindings: [{ groups: ['Crew'] }, { application: 'Slack', users: ['sam'] }],
      },
    });
    expect(seeded.status).toBe(200);
    expect(seeded.body).toMatchObject({ users: 1, groups: 1, applications: 2 });
    const broken = await call<{ message: string }>('POST', '/_emulator/seed', {
      body: {
        users: [{ username: 'tom', email: 'tom@example.com' }],
        groups: [{ name: 'Ghosts', members: ['nobody'] }],
      },
    });
    expect(broken.status).toBe(400);
    expect(broken.body.message).toMatch(/nobody/);
    expect((await call('POST', '/_emulator/seed', { body: { name: 'unknown' } })).status).toBe(400);
    const state = await call<{
      users: SystemUser[];
      groups: { name: string; members: { type: string }[] }[];
      bindings: { application: string; users: string[]; groups: string[] }[];
    }>('GET', '/_emulator/state');
    expect(state.body.users.map((u) => u.username)).toEqual(['sam']);
    expect(state.body.groups).toMatchObject([{ name: 'Crew', members: [{ type: 'user' }] }]);
    expect(state.body.bindings.find((b) => b.application === NOTION_APP_ID)?.groups).toHaveLength(1);
    const users = await call<GraphObjectWithPaths[]>('GET', `${APP}/users`);
    expect(users.body.map((u) => u.id)).toEqual([state.body.users[0]!._id]);
  });

  test('GET /_emulator/requests counts API requests by route template, not /_emulator calls', async () => {
    const user = await createUser('counted');
    await call('GET', `/api/systemusers/${user._id}`);
    await call('GET', `/api/v2/users/${user._id}/memberof`);
    await call('GET', '/_emulator/state');
    const counts = await call<{ total: number; byRoute: Record<string, number> }>(
      'GET',
      '/_emulator/requests',
    );
    expect(counts.body.byRoute).toEqual({
      'POST /api/systemusers': 1,
      'GET /api/systemusers/{id}': 1,
      'GET /api/v2/users/{id}/memberof': 1,
    });
    expect(counts.body.total).toBe(3);
  });

  test('faults from the shared control plane answer with JumpCloud error bodies', async () => {
    await call('PUT', '/_emulator/faults', {
      body: { rules: [{ route: 'GET /api/systemusers', count: 1, action: { type: 'status', status: 503 } }] },
    });
    const failed = await call('GET', '/api/systemusers');
    expect(failed.status).toBe(503);
    expect(failed.body).toMatchObject({ code: 503, status: 'UNAVAILABLE' });
    expect((await call('GET', '/api/systemusers')).status).toBe(200);
    await call('DELETE', '/_emulator/faults');
  });
});

describe('demo organisation', () => {
  test('is deterministic and realistic: 200+ varied users, mostly ACTIVATED, 12+ nested and overlapping groups', () => {
    const demo = createDemoOrganization();
    expect(createDemoOrganization()).toEqual(demo);
    expect(createDemoOrganization({ seed: 7 })).not.toEqual(demo);
    const users = demo.jumpcloud.users!;
    expect(users.length).toBeGreaterThanOrEqual(200);
    const states = users.map((u) => u.state);
    expect(states.filter((s) => s === 'ACTIVATED').length).toBeGreaterThan(users.length * 0.8);
    expect(states).toContain('STAGED');
    expect(states).toContain('SUSPENDED');
    const lastnames = users.map((u) => u.lastname ?? '');
    for (const name of ['McDonald', 'de la Cruz']) expect(lastnames).toContain(name);
    expect(lastnames.some((n) => /-/.test(n))).toBe(true);
    expect(users.some((u) => /[À-ž]/.test(`${u.firstname} ${u.lastname}`))).toBe(true);
    // eslint-disable-next-line no-control-regex
    expect(users.some((u) => /[\u0000-\u001f]/.test(`${u.firstname}${u.lastname}`))).toBe(true);
    expect(users.some((u) => (u.lastname ?? '').length > 255)).toBe(true);
    expect(users.some((u) => u.email.endsWith('@contractor.io'))).toBe(true);
    const groups = demo.jumpcloud.groups!;
    expect(groups.length).toBeGreaterThanOrEqual(12);
    expect(groups.filter((g) => (g.groups ?? []).length > 0).length).toBeGreaterThanOrEqual(3);
    const memberships = new Map<string, number>();
    for (const group of groups)
      for (const m of group.members ?? []) memberships.set(m, (memberships.get(m) ?? 0) + 1);
    expect([...memberships.values()].some((n) => n > 1)).toBe(true);
  });

  test('POST /_emulator/seed {"name":"demo"} loads it: Notion bound to several groups (not all) and one user directly', async () => {
    const loaded = await call<{ users: number; groups: number }>('POST', '/_emulator/seed', {
      body: { name: 'demo' },
    });
    expect(loaded.status).toBe(200);
    expect(loaded.body.users).toBeGreaterThanOrEqual(200);
    expect(loaded.body.groups).toBeGreaterThanOrEqual(12);
    expect((await queryEvents()).body).toEqual([]);
    const bound = await call<{ to: { id: string } }[]>(
      'GET',
      `${APP}/associations?targets=user_group&limit=100`,
    );
    expect(bound.body.length).toBeGreaterThan(3);
    expect(bound.body.length).toBeLessThan(loaded.body.groups);
    const direct = await call<{ to: { id: string } }[]>('GET', `${APP}/associations?targets=user`);
    expect(direct.body).toHaveLength(1);
    const inScope: GraphObjectWithPaths[] = [];
    for (let skip = 0; ; skip += 100) {
      const page = await call<GraphObjectWithPaths[]>('GET', `${APP}/users?limit=100&skip=${skip}`);
      inScope.push(...page.body);
      if (page.body.length < 100) break;
    }
    expect(inScope.some((u) => u.paths.some((p) => p.length === 1))).toBe(true);
    expect(inScope.some((u) => u.paths.some((p) => p.length >= 3))).toBe(true);
    expect(inScope.some((u) => u.paths.length > 1)).toBe(true);
  });

  test('the Notion half: a pre-existing group named like a bound group with a member outside it, matching and unmatched members', () => {
    const demo = createDemoOrganization();
    const emails = new Set(demo.jumpcloud.users!.map((u) => u.email.toLowerCase()));
    const notionUsers = demo.notion.users!;
    expect(notionUsers.filter((u) => emails.has(u.userName)).length).toBeGreaterThanOrEqual(2);
    expect(notionUsers.filter((u) => !emails.has(u.userName))).toHaveLength(1);
    const boundGroups = new Set(demo.jumpcloud.bindings!.find((b) => b.application === undefined)!.groups);
    const takeover = demo.notion.groups!.find((g) => boundGroups.has(g.displayName))!;
    const jcGroup = demo.jumpcloud.groups!.find((g) => g.name === takeover.displayName)!;
    const jcMembers = new Set(
      (jcGroup.members ?? []).map((username) =>
        demo.jumpcloud.users!.find((u) => u.username === username)!.email.toLowerCase(),
      ),
    );
    expect(takeover.members!.some((m) => !jcMembers.has(m))).toBe(true);
    for (const group of demo.notion.groups!)
      for (const member of group.members ?? []) expect(notionUsers.map((u) => u.userName)).toContain(member);
  });
});
