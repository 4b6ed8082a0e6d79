/**
 * The Notion SCIM emulator over real HTTP (undici against `listen()` on a free port): the real
 * service's paths, bodies, status codes and quirks, and the `/_emulator/` controls.
 */
import { request, type Dispatcher } from 'undici';
import { createNotionEmulator, type NotionEmulator } from '../../../harness/emulators/notion';

const TOKEN = 'local-notion-token';
const SCIM_JSON = 'application/scim+json';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const NOTION_EXT = 'urn:ietf:params:scim:schemas:extension:notion:2.0:User';
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface ScimUser {
  schemas: string[];
  id: string;
  userName: string;
  name?: { formatted?: string; givenName?: string; familyName?: string };
  emails: { value: string; primary: boolean }[];
  displayName: string;
  active: boolean;
  meta: { resourceType: string; created: string; lastModified: string; location: string; version?: string };
  [NOTION_EXT]?: { role: string };
}
interface ScimGroup {
  schemas: string[];
  id: string;
  displayName: string;
  members: { value: string; display?: string }[];
  meta: { resourceType: string; created: string; lastModified: string; location: string };
}
interface ListResponse<T> {
  schemas: string[];
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
  Resources: T[];
}
interface ScimErrorBody {
  schemas: string[];
  status: string;
  scimType?: string;
  detail: string;
}
interface Reply<T> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}
interface State {
  config: {
    verifiedDomains: string[];
    removedUsersListed: boolean;
    tokenValid: boolean;
    unstableOrdering: boolean;
  };
  tokenOwner: { id: string; userName: string };
  users: { id: string; userName: string; active: boolean; groups: string[] }[];
  groups: { id: string; displayName: string; members: string[]; soleOwner: boolean }[];
}

let emulator: NotionEmulator;
let origin: string;

beforeAll(async () => {
  emulator = createNotionEmulator();
  origin = await emulator.listen();
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.reset();
  emulator.configure({
    verifiedDomains: ['example.com'],
    removedUsersListed: false,
    tokenValid: true,
    unstableOrdering: false,
  });
  emulator.control.clearRequests();
  emulator.control.setFaults({});
  emulator.control.setRateLimit(null);
});

interface CallOptions {
  body?: unknown;
  /** Sent as is instead of `body`. */
  raw?: string;
  /** null: no Authorization header. */
  token?: string | null;
  contentType?: string;
}

async function http<T>(
  method: Dispatcher.HttpMethod,
  url: string,
  options: CallOptions = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? TOKEN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const payload = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (payload !== undefined) headers['content-type'] = options.contentType ?? SCIM_JSON;
  const response = await request(url, { method, headers, body: payload });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    headers: response.headers,
    body: (text ? JSON.parse(text) : undefined) as T,
  };
}

const scim = <T = unknown>(method: Dispatcher.HttpMethod, path: string, options?: CallOptions) =>
  http<T>(method, `${origin}/scim/v2${path}`, options);
const control = <T = unknown>(method: Dispatcher.HttpMethod, path: string, body?: unknown) =>
  http<T>(method, `${origin}/_emulator${path}`, { body, token: null, contentType: 'application/json' });

const patchOps = (...Operations: Record<string, unknown>[]) => ({ schemas: [PATCH_SCHEMA], Operations });
const q = (filter: string) => `?filter=${encodeURIComponent(filter)}`;

async function createUser(userName: string, name?: ScimUser['name']): Promise<ScimUser> {
  const reply = await scim<ScimUser>('POST', '/Users', {
    body: { schemas: [USER_SCHEMA], userName, ...(name ? { name } : {}) },
  });
  expect(reply.status).toBe(201);
  return reply.body;
}

async function createGroup(displayName: string, members: string[] = []): Promise<ScimGroup> {
  const reply = await scim<ScimGroup>('POST', '/Groups', {
    body: {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName,
      members: members.map((value) => ({ value })),
    },
  });
  expect(reply.status).toBe(201);
  return reply.body;
}

function expectScimError(reply: Reply<unknown>, status: number, scimType?: string): ScimErrorBody {
  expect(reply.status).toBe(status);
  expect(String(reply.headers['content-type'])).toContain(SCIM_JSON);
  const body = reply.body as ScimErrorBody;
  expect(body.schemas).toEqual([ERROR_SCHEMA]);
  expect(body.status).toBe(String(status));
  if (scimType) expect(body.scimType).toBe(scimType);
  expect(typeof body.detail).toBe('string');
  return body;
}

const state = () => emulator.state() as State;

describe('discovery', () => {
  test('ServiceProviderConfig answers without authentication: patch and filter supported, sort/bulk/etag not', async () => {
    const reply = await scim<Record<string, { supported: boolean }>>('GET', '/ServiceProviderConfig', {
      token: null,
    });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toContain(SCIM_JSON);
    expect(reply.body.patch!.supported).toBe(true);
    expect(reply.body.filter!.supported).toBe(true);
    expect(reply.body.sort!.supported).toBe(false);
    expect(reply.body.bulk!.supported).toBe(false);
    expect(reply.body.etag!.supported).toBe(false);
  });

  test('ResourceTypes is a bare JSON array (not a ListResponse), as on the real service', async () => {
    const reply = await scim<{ id: string; endpoint: string }[]>('GET', '/ResourceTypes');
    expect(reply.status).toBe(200);
    expect(Array.isArray(reply.body)).toBe(true);
    expect(reply.body.map((type) => [type.id, type.endpoint])).toEqual([
      ['User', '/Users'],
      ['Group', '/Groups'],
    ]);
  });

  test('an unknown SCIM endpoint (/Schemas is undocumented) answers 404 in the SCIM error schema', async () => {
    expectScimError(await scim('GET', '/Schemas'), 404);
  });
});

describe('authentication', () => {
  test('C3: no bearer token or a wrong one answers 401 in the SCIM error schema, status as a string', async () => {
    for (const token of [null, 'wrong-token']) {
      const body = expectScimError(await scim('GET', '/Users?count=1', { token }), 401);
      expect(body.status).toBe('401');
    }
    expect((await scim('GET', '/Users?count=1')).status).toBe(200);
  });

  test('C3: tokenValid=false (a revoked token) makes every authenticated request answer 401 until restored', async () => {
    const user = await createUser('revoked@example.com');
    const put = await control<State['config']>('PUT', '/config', { tokenValid: false });
    expect(put.status).toBe(200);
    expect(put.body.tokenValid).toBe(false);
    expectScimError(await scim('GET', '/Users?count=1'), 401);
    expectScimError(await scim('GET', `/Users/${user.id}`), 401);
    expectScimError(
      await scim('PATCH', `/Users/${user.id}`, {
        body: patchOps({ op: 'replace', path: 'active', value: false }),
      }),
      401,
    );
    expectScimError(await scim('GET', '/Groups'), 401);
    // Discovery needs no token at all.
    expect((await scim('GET', '/ServiceProviderConfig')).status).toBe(200);
    await control('PUT', '/config', { tokenValid: true });
    expect((await scim('GET', `/Users/${user.id}`)).status).toBe(200);
  });

  test('request bodies are accepted as application/scim+json and application/json', async () => {
    const scimJson = await scim<ScimUser>('POST', '/Users', {
      body: { userName: 'a@example.com' },
      contentType: SCIM_JSON,
    });
    expect(scimJson.status).toBe(201);
    const json = await scim<ScimUser>('POST', '/Users', {
      body: { userName: 'b@example.com' },
      contentType: 'application/json; charset=utf-8',
    });
    expect(json.status).toBe(201);
    expect(json.headers['content-type']).toContain(SCIM_JSON);
  });
});

describe('users', () => {
  test('U4: POST /Users creates a member: 201, a hyphenated UUID, userName lower-cased, Location', async () => {
    const reply = await scim<ScimUser>('POST', '/Users', {
      body: {
        schemas: [USER_SCHEMA],
        userName: 'Ada.Lovelace@Example.COM',
        name: { givenName: 'Ada', familyName: 'Lovelace' },
      },
    });
    expect(reply.status).toBe(201);
    expect(reply.body.id).toMatch(UUID);
    expect(reply.body.userName).toBe('ada.lovelace@example.com');
    expect(reply.body.emails).toEqual([{ value: 'ada.lovelace@example.com', primary: true }]);
    expect(reply.body.active).toBe(true);
    expect(reply.headers.location).toBe(`https://app.notion.com/scim/v2/Users/${reply.body.id}`);
    const got = await scim<ScimUser>('GET', `/Users/${reply.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(reply.body);
  });

  test('real-service quirks: meta times are millisecond-epoch strings, no meta.version, location on app.notion.com, Notion extension present but missing from schemas', async () => {
    const before = Date.now();
    const user = await createUser('quirks@example.com', { formatted: 'Quirky' });
    expect(user.schemas).toEqual([USER_SCHEMA]);
    expect(user.schemas).not.toContain(NOTION_EXT);
    expect(user[NOTION_EXT]).toEqual({ role: 'member' });
    expect(user.meta.resourceType).toBe('User');
    expect(user.meta.created).toMatch(/^\d{13}$/);
    expect(Number(user.meta.created)).toBeGreaterThanOrEqual(before);
    expect(user.meta.lastModified).toMatch(/^\d{13}$/);
    expect(user.meta).not.toHaveProperty('version');
    expect(user.meta.location).toBe(`https://app.notion.com/scim/v2/Users/${user.id}`);
  });

  test('name parts may be absent: a user created with only name.formatted has no givenName/familyName; displayName is returned', async () => {
    const formattedOnly = await createUser('formatted@example.com', { formatted: 'Alex Dupuis' });
    expect(formattedOnly.name).toEqual({ formatted: 'Alex Dupuis' });
    expect(formattedOnly.displayName).toBe('Alex Dupuis');
    const partsOnly = await createUser('parts@example.com', { givenName: 'Claire', familyName: 'Durand' });
    expect(partsOnly.name).toEqual({ givenName: 'Claire', familyName: 'Durand' });
    expect(partsOnly.displayName).toBe('Claire Durand');
    const nameless = await createUser('nameless@example.com');
    expect(nameless.name).toBeUndefined();
  });

  test('U3: POST of a current member answers 409 uniqueness; the email filter then finds it', async () => {
    const user = await createUser('dup@example.com');
    const body = expectScimError(
      await scim('POST', '/Users', { body: { userName: 'DUP@example.com' } }),
      409,
      'uniqueness',
    );
    expect(body.detail).toContain('dup@example.com');
    const found = await scim<ListResponse<ScimUser>>(
      'GET',
      `/Users${q('email eq "dup@example.com"')}&count=1`,
    );
    expect(found.body.totalResults).toBe(1);
    expect(found.body.Resources[0]!.id).toBe(user.id);
  });

  test('POST creates accounts on unverified domains too (Notion creates or adds any email)', async () => {
    const user = await createUser('guest@elsewhere.org', { formatted: 'Outside Person' });
    expect(user.userName).toBe('guest@elsewhere.org');
    expect(user.displayName).toBe('Outside Person');
  });

  test('filters: email eq (case-insensitive), userName eq, given_name/family_name eq (case-sensitive)', async () => {
    const ada = await createUser('ada@example.com', { givenName: 'Ada', familyName: 'Lovelace' });
    await createUser('alan@example.com', { givenName: 'Alan', familyName: 'Turing' });
    await createUser('ada2@example.com', { givenName: 'Ada', familyName: 'Byron' });
    const ids = async (filter: string) =>
      (await scim<ListResponse<ScimUser>>('GET', `/Users${q(filter)}`)).body.Resources.map((u) => u.userName);

    expect(await ids('email eq "ADA@Example.com"')).toEqual(['ada@example.com']);
    expect(await ids('userName eq "ada@example.com"')).toEqual(['ada@example.com']);
    expect(await ids('given_name eq "Ada"')).toEqual(['ada@example.com', 'ada2@example.com']);
    expect(await ids('given_name eq "ada"')).toEqual([]);
    expect(await ids('family_name eq "Turing"')).toEqual(['alan@example.com']);
    expect(await ids('email eq "nobody@example.com"')).toEqual([]);
    const one = await scim<ListResponse<ScimUser>>('GET', `/Users${q('email eq "ada@example.com"')}`);
    expect(one.body).toMatchObject({ totalResults: 1, startIndex: 1, itemsPerPage: 1 });
    expect(one.body.Resources[0]!.id).toBe(ada.id);
  });

  test('an unsupported filter answers 400 invalidFilter', async () => {
    for (const filter of [
      'emails.value eq "ada@example.com"',
      'email co "ada"',
      'email eq "a@example.com" and given_name eq "A"',
      'externalId eq "x"',
      'email eq',
    ]) {
      expectScimError(await scim('GET', `/Users${q(filter)}`), 400, 'invalidFilter');
    }
  });

  test('paging: ListResponse with 1-based startIndex, count capped at 100, totalResults and itemsPerPage', async () => {
    emulator.seed({ users: Array.from({ length: 149 }, (_, i) => ({ userName: `user${i}@example.com` })) });
    const first = await scim<ListResponse<ScimUser>>('GET', '/Users?startIndex=1&count=500');
    expect(first.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:ListResponse']);
    expect(first.body).toMatchObject({ totalResults: 150, startIndex: 1, itemsPerPage: 100 });
    expect(first.body.Resources).toHaveLength(100);
    const second = await scim<ListResponse<ScimUser>>('GET', '/Users?startIndex=101&count=100');
    expect(second.body).toMatchObject({ totalResults: 150, startIndex: 101, itemsPerPage: 50 });
    const all = [...first.body.Resources, ...second.body.Resources].map((u) => u.id);
    expect(new Set(all).size).toBe(150);
    const small = await scim<ListResponse<ScimUser>>('GET', '/Users?startIndex=2&count=3');
    expect(small.body.Resources.map((u) => u.id)).toEqual(all.slice(1, 4));
    const past = await scim<ListResponse<ScimUser>>('GET', '/Users?startIndex=1000');
    expect(past.body).toMatchObject({ totalResults: 150, itemsPerPage: 0, Resources: [] });
    const noCount = await scim<ListResponse<ScimUser>>('GET', '/Users');
    expect(noCount.body.itemsPerPage).toBe(100);
  });

  test('U6: PATCH active=false removes the member from the workspace and from all its groups', async () => {
    const user = await createUser('leaver@example.com');
    const other = await createUser('stayer@example.com');
    const a = await createGroup('A', [user.id, other.id]);
    const b = await createGroup('B', [user.id]);

    const reply = await scim<ScimUser>('PATCH', `/Users/${user.id}`, {
      body: patchOps({ op: 'Replace', path: 'active', value: false }),
    });
    expect(reply.status).toBe(200);
    expect(reply.body.active).toBe(false);
    expect((await scim<ScimGroup>('GET', `/Groups/${a.id}`)).body.members.map((m) => m.value)).toEqual([
      other.id,
    ]);
    expect((await scim<ScimGroup>('GET', `/Groups/${b.id}`)).body.members).toEqual([]);
    // Removed members vanish by default (removedUsersListed=false).
    expectScimError(await scim('GET', `/Users/${user.id}`), 404);
    const list = await scim<ListResponse<ScimUser>>('GET', '/Users');
    expect(list.body.Resources.map((u) => u.id)).not.toContain(user.id);
    expect(
      (await scim<ListResponse<ScimUser>>('GET', `/Users${q('email eq "leaver@example.com"')}`)).body
        .totalResults,
    ).toBe(0);
  });

  test('U6: Entra-style PATCH active "False" (a string) and Okta-style value-object PATCH also remove the member', async () => {
    const entra = await createUser('entra@example.com');
    const okta = await createUser('okta@example.com');
    expect(
      (
        await scim<ScimUser>('PATCH', `/Users/${entra.id}`, {
          body: patchOps({ op: 'Replace', path: 'active', value: 'False' }),
        })
      ).body.active,
    ).toBe(false);
    expect(
      (
        await scim<ScimUser>('PATCH', `/Users/${okta.id}`, {
          body: patchOps({ op: 'replace', value: { active: false } }),
        })
      ).body.active,
    ).toBe(false);
  });

  test('U6: PUT active=false and DELETE (204) also remove the member from the workspace and its groups', async () => {
    const put = await createUser('put@example.com', { formatted: 'Put Me' });
    const del = await createUser('del@example.com');
    const group = await createGroup('G', [put.id, del.id]);
    const replaced = await scim<ScimUser>('PUT', `/Users/${put.id}`, {
      body: {
        schemas: [USER_SCHEMA],
        userName: 'put@example.com',
        name: { formatted: 'Put Me' },
        active: false,
      },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body.active).toBe(false);
    const deleted = await scim('DELETE', `/Users/${del.id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeUndefined();
    expect((await scim<ScimGroup>('GET', `/Groups/${group.id}`)).body.members).toEqual([]);
    expectScimError(await scim('GET', `/Users/${del.id}`), 404);
    expectScimError(await scim('DELETE', `/Users/${del.id}`), 404);
    const removed = state()
      .users.filter((u) => !u.active)
      .map((u) => u.userName);
    expect(removed.sort()).toEqual(['del@example.com', 'put@example.com']);
  });

  test('U7: POST of a removed member re-adds the same account: same id, active true, 201', async () => {
    const user = await createUser('back@example.com', { formatted: 'Back Again' });
    await scim('DELETE', `/Users/${user.id}`);
    const again = await scim<ScimUser>('POST', '/Users', {
      body: { schemas: [USER_SCHEMA], userName: 'Back@example.com' },
    });
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(user.id);
    expect(again.body.active).toBe(true);
    expect(again.body.displayName).toBe('Back Again');
    expect((await scim<ScimUser>('GET', `/Users/${user.id}`)).body.active).toBe(true);
  });

  test('U7: PATCH active=true on a removed member is 404 while removed members vanish (removedUsersListed=false)', async () => {
    const user = await createUser('gone@example.com');
    await scim('PATCH', `/Users/${user.id}`, {
      body: patchOps({ op: 'replace', path: 'active', value: false }),
    });
    expectScimError(
      await scim('PATCH', `/Users/${user.id}`, {
        body: patchOps({ op: 'replace', path: 'active', value: true }),
      }),
      404,
    );
  });

  test('U7: removedUsersListed=true keeps removed members listed with active:false and PATCH active=true re-adds them', async () => {
    await control('PUT', '/config', { removedUsersListed: true });
    const user = await createUser('listed@example.com');
    await scim('PATCH', `/Users/${user.id}`, {
      body: patchOps({ op: 'replace', path: 'active', value: false }),
    });
    const got = await scim<ScimUser>('GET', `/Users/${user.id}`);
    expect(got.status).toBe(200);
    expect(got.body.active).toBe(false);
    const listed = await scim<ListResponse<ScimUser>>('GET', `/Users${q('email eq "listed@example.com"')}`);
    expect(listed.body.Resources.map((u) => [u.id, u.active])).toEqual([[user.id, false]]);
    expect((await scim<ListResponse<ScimUser>>('GET', '/Users')).body.totalResults).toBe(2);

    const back = await scim<ScimUser>('PATCH', `/Users/${user.id}`, {
      body: patchOps({ op: 'replace', path: 'active', value: true }),
    });
    expect(back.status).toBe(200);
    expect(back.body.active).toBe(true);
    // Switching back hides removed members again.
    await scim('DELETE', `/Users/${user.id}`);
    await control('PUT', '/config', { removedUsersListed: false });
    expect((await scim<ListResponse<ScimUser>>('GET', '/Users')).body.totalResults).toBe(1);
  });

  test('U6: the token owner always exists and cannot be removed: PATCH/PUT active=false and DELETE answer 403', async () => {
    const owner = await scim<ListResponse<ScimUser>>('GET', `/Users${q('email eq "owner@example.com"')}`);
    expect(owner.body.totalResults).toBe(1);
    const id = owner.body.Resources[0]!.id;
    expect(owner.body.Resources[0]![NOTION_EXT]).toEqual({ role: 'owner' });
    for (const reply of [
      await scim('PATCH', `/Users/${id}`, {
        body: patchOps({ op: 'replace', path: 'active', value: false }),
      }),
      await scim('PUT', `/Users/${id}`, { body: { userName: 'owner@example.com', active: false } }),
      await scim('DELETE', `/Users/${id}`),
    ]) {
      expect(expectScimError(reply, 403).detail).toMatch(/owner.*cannot be removed/);
    }
    expect((await scim<ScimUser>('GET', `/Users/${id}`)).body.active).toBe(true);
  });

  test('U5: PATCH replaces name parts with capitalised ops, path and value-object forms; a change of case alone is applied', async () => {
    const user = await createUser('names@example.com', {
      givenName: 'ada',
      familyName: 'lovelace',
      formatted: 'ada lovelace',
    });
    const reply = await scim<ScimUser>('PATCH', `/Users/${user.id}`, {
      body: patchOps(
        { op: 'Replace', path: 'name.givenName', value: 'Ada' },
        { op: 'replace', value: { 'name.familyName': 'Lovelace' } },
        { op: 'Add', path: 'name', value: { formatted: 'Ada Lovelace' } },
      ),
    });
    expect(reply.status).toBe(200);
    expect(reply.body.name).toEqual({ formatted: 'Ada Lovelace', givenName: 'Ada', familyName: 'Lovelace' });
    expect(reply.body.displayName).toBe('Ada Lovelace');
    expect(Number(reply.body.meta.lastModified)).toBeGreaterThanOrEqual(Number(user.meta.lastModified));

    const removed = await scim<ScimUser>('PATCH', `/Users/${user.id}`, {
      body: patchOps({ op: 'Remove', path: 'name.formatted' }),
    });
    expect(removed.body.name).toEqual({ givenName: 'Ada', familyName: 'Lovelace' });
  });

  test('PATCH sets the Notion role in the value-as-object form and by extension path', async () => {
    const user = await createUser('role@example.com');
    const byObject = await scim<ScimUser>('PATCH', `/Users/${user.id}`, {
      body: patchOps({ op: 'replace', value: { [NOTION_EXT]: { role: 'membership_admin' } } }),
    });
    expect(byObject.body[NOTION_EXT]).toEqual({ role: 'membership_admin' });
    const byPath = await scim<ScimUser>('PATCH', `/Users/${user.id}`, {
      body: patchOps({ op: 'replace', path: `${NOTION_EXT}:role`, value: 'restricted_member' }),
    });
    expect(byPath.body[NOTION_EXT]).toEqual({ role: 'restricted_member' });
    expectScimError(
      await scim('PATCH', `/Users/${user.id}`, {
        body: patchOps({ op: 'replace', value: { [NOTION_EXT]: { role: 'guest' } } }),
      }),
      400,
      'invalidValue',
    );
  });

  test('PUT replaces the given attributes and name parts (userName may be left out)', async () => {
    const user = await createUser('put2@example.com', { givenName: 'Old', familyName: 'Name' });
    const reply = await scim<ScimUser>('PUT', `/Users/${user.id}`, {
      body: { schemas: [USER_SCHEMA], name: { formatted: 'New Name' } },
    });
    expect(reply.status).toBe(200);
    expect(reply.body.name).toEqual({ formatted: 'New Name' });
    expect(reply.body.userName).toBe('put2@example.com');
  });

  test('U8: profile changes for a user whose email domain is not verified answer 400 mutability naming the domain', async () => {
    const user = await createUser('someone@unverified.org', { givenName: 'Some', familyName: 'One' });
    for (const body of [
      patchOps({ op: 'replace', path: 'name.givenName', value: 'Other' }),
      patchOps({ op: 'replace', value: { name: { formatted: 'X' } } }),
      patchOps({ op: 'replace', path: 'userName', value: 'someone.else@unverified.org' }),
    ]) {
      const error = expectScimError(await scim('PATCH', `/Users/${user.id}`, { body }), 400, 'mutability');
      expect(error.detail).toContain('unverified.org');
      expect(error.detail).toContain('not verified');
    }
    expectScimError(
      await scim('PUT', `/Users/${user.id}`, { body: { name: { givenName: 'Y' } } }),
      400,
      'mutability',
    );
    // Nothing changed, and what is not a profile change still works.
    const same = await scim<ScimUser>('PATCH', `/Users/${user.id}`, {
      body: patchOps({ op: 'replace', path: 'name.givenName', value: 'Some' }),
    });
    expect(same.status).toBe(200);
    const role = await scim<ScimUser>('PATCH', `/Users/${user.id}`, {
      body: patchOps({ op: 'replace', value: { [NOTION_EXT]: { role: 'membership_admin' } } }),
    });
    expect(role.status).toBe(200);
    const off = await scim<ScimUser>('PATCH', `/Users/${user.id}`, {
      body: patchOps({ op: 'replace', path: 'active', value: false }),
    });
    expect(off.body.active).toBe(false);
  });

  test('U8: the verified-domain list is configurable (PUT /_emulator/config verifiedDomains)', async () => {
    const user = await createUser('someone@partner.org');
    await control('PUT', '/config', { verifiedDomains: ['example.com', 'Partner.org'] });
    const reply = await scim<ScimUser>('PATCH', `/Users/${user.id}`, {
      body: patchOps({ op: 'replace', path: 'name.formatted', value: 'Partner Person' }),
    });
    expect(reply.status).toBe(200);
    expect(reply.body.displayName).toBe('Partner Person');
  });

  test('changing userName lower-cases it and re-indexes the email filter', async () => {
    const user = await createUser('old@example.com');
    const reply = await scim<ScimUser>('PATCH', `/Users/${user.id}`, {
      body: patchOps({ op: 'Replace', path: 'userName', value: 'New@Example.com' }),
    });
    expect(reply.body.userName).toBe('new@example.com');
    expect(reply.body.emails).toEqual([{ value: 'new@example.com', primary: true }]);
    expect(
      (await scim<ListResponse<ScimUser>>('GET', `/Users${q('email eq "old@example.com"')}`)).body
        .totalResults,
    ).toBe(0);
    expect(
      (await scim<ListResponse<ScimUser>>('GET', `/Users${q('email eq "new@example.com"')}`)).body
        .totalResults,
    ).toBe(1);
    // The old address is free again.
    expect((await scim('POST', '/Users', { body: { userName: 'old@example.com' } })).status).toBe(201);
  });

  test("changing userName to another account's email answers 500 (as observed on the real service, unlike POST's 409)", async () => {
    const a = await createUser('first@example.com');
    const b = await createUser('second@example.com');
    await scim('DELETE', `/Users/${b.id}`);
    for (const target of ['second@example.com', 'owner@example.com']) {
      expectScimError(
        await scim('PATCH', `/Users/${a.id}`, {
          body: patchOps({ op: 'replace', path: 'userName', value: target }),
        }),
        500,
      );
    }
    expectScimError(await scim('PUT', `/Users/${a.id}`, { body: { userName: 'owner@example.com' } }), 500);
    expect((await scim<ScimUser>('GET', `/Users/${a.id}`)).body.userName).toBe('first@example.com');
  });

  test('U9: bad bodies answer 400: invalidSyntax for malformed JSON or a bad op, invalidValue for bad values, invalidPath for unknown paths', async () => {
    const user = await createUser('body@example.com');
    expectScimError(await scim('POST', '/Users', { raw: '{"userName": ' }), 400, 'invalidSyntax');
    expectScimError(await scim('POST', '/Users', { body: ['x'] }), 400, 'invalidSyntax');
    expectScimError(
      await scim('POST', '/Users', { body: { name: { formatted: 'No Email' } } }),
      400,
      'invalidValue',
    );
    expectScimError(
      await scim('POST', '/Users', { body: { userName: 'not-an-email' } }),
      400,
      'invalidValue',
    );
    expectScimError(
      await scim('POST', '/Users', {
        body: { userName: 'ctl@example.com', name: { formatted: 'a\u0007b' } },
      }),
      400,
      'invalidValue',
    );
    expectScimError(
      await scim('POST', '/Users', { body: { userName: 'x@example.com', name: { givenName: 42 } } }),
      400,
      'invalidValue',
    );
    expectScimError(
      await scim('PATCH', `/Users/${user.id}`, { body: { Operations: [] } }),
      400,
      'invalidValue',
    );
    expectScimError(
      await scim('PATCH', `/Users/${user.id}`, {
        body: patchOps({ op: 'merge', path: 'active', value: true }),
      }),
      400,
      'invalidSyntax',
    );
    expectScimError(
      await scim('PATCH', `/Users/${user.id}`, {
        body: patchOps({ op: 'replace', path: 'active', value: 'maybe' }),
      }),
      400,
      'invalidValue',
    );
    expectScimError(
      await scim('PATCH', `/Users/${user.id}`, {
        body: patchOps({ op: 'replace', path: 'favouriteColour', value: 'red' }),
      }),
      400,
      'invalidPath',
    );
    expectScimError(
      await scim('PATCH', `/Users/${user.id}`, { body: patchOps({ op: 'remove' }) }),
      400,
      'noTarget',
    );
    // A PATCH is atomic: a valid first op is not applied when a later one fails.
    expectScimError(
      await scim('PATCH', `/Users/${user.id}`, {
        body: patchOps(
          { op: 'replace', path: 'name.formatted', value: 'Changed' },
          { op: 'replace', path: 'bogus', value: 1 },
        ),
      }),
      400,
    );
    expect((await scim<ScimUser>('GET', `/Users/${user.id}`)).body.name).toBeUndefined();
  });

  test('unknown user ids answer 404', async () => {
    expectScimError(await scim('GET', '/Users/00000000-0000-0000-0000-000000000000'), 404);
    expectScimError(
      await scim('PATCH', '/Users/nope', { body: patchOps({ op: 'replace', path: 'active', value: true }) }),
      404,
    );
  });
});

describe('groups', () => {
  test('G1: POST /Groups creates a group with members; GET and the displayName eq filter find it', async () => {
    const ada = await createUser('ada@example.com', { formatted: 'Ada' });
    const group = await createGroup('Engineering', [ada.id]);
    expect(group.id).toMatch(UUID);
    expect(group.schemas).toEqual(['urn:ietf:params:scim:schemas:core:2.0:Group']);
    expect(group.members).toEqual([{ value: ada.id, display: 'ada@example.com' }]);
    expect(group.meta.created).toMatch(/^\d{13}$/);
    expect(group.meta.location).toBe(`https://app.notion.com/scim/v2/Groups/${group.id}`);
    expect((await scim<ScimGroup>('GET', `/Groups/${group.id}`)).body).toEqual(group);
    await createGroup('Design');

    const quoted = await scim<ListResponse<ScimGroup>>('GET', `/Groups${q('displayName eq "Engineering"')}`);
    expect(quoted.body.Resources.map((g) => g.id)).toEqual([group.id]);
    // Notion's own documentation leaves the value unquoted.
    const unquoted = await scim<ListResponse<ScimGroup>>('GET', `/Groups${q('displayName eq Engineering')}`);
    expect(unquoted.body.totalResults).toBe(1);
    const none = await scim<ListResponse<ScimGroup>>('GET', `/Groups${q('displayName eq "engineering"')}`);
    expect(none.body.totalResults).toBe(0);
    expectScimError(await scim('GET', `/Groups${q('id eq "x"')}`), 400, 'invalidFilter');
    const all = await scim<ListResponse<ScimGroup>>('GET', '/Groups?count=1&startIndex=2');
    expect(all.body).toMatchObject({ totalResults: 2, startIndex: 2, itemsPerPage: 1 });
  });

  test('G4: PATCH Add/Remove members with a value array (op names case-insensitive) answers 200 with the group', async () => {
    const [a, b, c] = [
      await createUser('a@example.com'),
      await createUser('b@example.com'),
      await createUser('c@example.com'),
    ];
    const group = await createGroup('Team');
    const added = await scim<ScimGroup>('PATCH', `/Groups/${group.id}`, {
      body: patchOps({
        op: 'Add',
        path: 'members',
        value: [{ value: a.id }, { value: b.id }, { value: c.id }],
      }),
    });
    expect(added.status).toBe(200);
    expect(added.body.members.map((m) => m.value)).toEqual([a.id, b.id, c.id]);
    const removed = await scim<ScimGroup>('PATCH', `/Groups/${group.id}`, {
      body: patchOps({ op: 'REMOVE', path: 'members', value: [{ value: a.id }, { value: c.id }] }),
    });
    expect(removed.body.members.map((m) => m.value)).toEqual([b.id]);
    // Adding a current member again is harmless.
    const again = await scim<ScimGroup>('PATCH', `/Groups/${group.id}`, {
      body: patchOps({ op: 'add', path: 'members', value: [{ value: b.id }] }),
    });
    expect(again.body.members.map((m) => m.value)).toEqual([b.id]);
    expect(state().users.find((u) => u.id === b.id)!.groups).toEqual([group.id]);
  });

  test('G4: RFC filter-path removal members[value eq "<id>"] removes that member', async () => {
    const [a, b] = [await createUser('a@example.com'), await createUser('b@example.com')];
    const group = await createGroup('Team', [a.id, b.id]);
    const reply = await scim<ScimGroup>('PATCH', `/Groups/${group.id}`, {
      body: patchOps({ op: 'remove', path: `members[value eq "${a.id}"]` }),
    });
    expect(reply.status).toBe(200);
    expect(reply.body.members.map((m) => m.value)).toEqual([b.id]);
  });

  test('G5: PATCH replace displayName (path and value-object forms) renames the group in place', async () => {
    const group = await createGroup('Old name');
    const byPath = await scim<ScimGroup>('PATCH', `/Groups/${group.id}`, {
      body: patchOps({ op: 'Replace', path: 'displayName', value: 'New name' }),
    });
    expect(byPath.body).toMatchObject({ id: group.id, displayName: 'New name' });
    const byObject = await scim<ScimGroup>('PATCH', `/Groups/${group.id}`, {
      body: patchOps({ op: 'replace', value: { displayName: 'Newer name' } }),
    });
    expect(byObject.body).toMatchObject({ id: group.id, displayName: 'Newer name' });
    expect(
      (await scim<ListResponse<ScimGroup>>('GET', `/Groups${q('displayName eq "Old name"')}`)).body
        .totalResults,
    ).toBe(0);
    expect(
      (await scim<ListResponse<ScimGroup>>('GET', `/Groups${q('displayName eq "Newer name"')}`)).body
        .totalResults,
    ).toBe(1);
  });

  test('G9: only current workspace members can be added to a group: 400 naming the id, nothing applied', async () => {
    const member = await createUser('member@example.com');
    const removed = await createUser('removed@example.com');
    await scim('DELETE', `/Users/${removed.id}`);
    const group = await createGroup('Team');
    const unknown = '11111111-2222-3333-4444-555555555555';
    for (const id of [unknown, removed.id]) {
      const error = expectScimError(
        await scim('PATCH', `/Groups/${group.id}`, {
          body: patchOps({ op: 'Add', path: 'members', value: [{ value: member.id }, { value: id }] }),
        }),
        400,
        'invalidValue',
      );
      expect(error.detail).toContain(id);
    }
    expect((await scim<ScimGroup>('GET', `/Groups/${group.id}`)).body.members).toEqual([]);
    expectScimError(
      await scim('POST', '/Groups', { body: { displayName: 'Bad', members: [{ value: unknown }] } }),
      400,
      'invalidValue',
    );
  });

  test('PUT /Groups replaces displayName and, when given, members (kept when omitted)', async () => {
    const [a, b] = [await createUser('a@example.com'), await createUser('b@example.com')];
    const group = await createGroup('Team', [a.id]);
    const renamed = await scim<ScimGroup>('PUT', `/Groups/${group.id}`, { body: { displayName: 'Renamed' } });
    expect(renamed.body).toMatchObject({ id: group.id, displayName: 'Renamed' });
    expect(renamed.body.members.map((m) => m.value)).toEqual([a.id]);
    const replaced = await scim<ScimGroup>('PUT', `/Groups/${group.id}`, {
      body: { displayName: 'Renamed', members: [{ value: b.id }] },
    });
    expect(replaced.body.members.map((m) => m.value)).toEqual([b.id]);
    expectScimError(await scim('PUT', `/Groups/${group.id}`, { body: { members: [] } }), 400, 'invalidValue');
  });

  test('G7: deleting a group that is the sole full-access holder of a page is refused with 409; allowed once cleared', async () => {
    const group = await createGroup('Owners');
    const flag = await control<{ soleOwner: boolean }>('PUT', `/groups/${group.id}/sole-owner`, {
      soleOwner: true,
    });
    expect(flag.status).toBe(200);
    expect(flag.body.soleOwner).toBe(true);
    const error = expectScimError(await scim('DELETE', `/Groups/${group.id}`), 409);
    expect(error.detail).toContain('full access');
    expect((await scim('GET', `/Groups/${group.id}`)).status).toBe(200);
    await control('PUT', `/groups/${group.id}/sole-owner`, { soleOwner: false });
    expect((await scim('DELETE', `/Groups/${group.id}`)).status).toBe(204);
    expectScimError(await scim('GET', `/Groups/${group.id}`), 404);
    expect((await control('PUT', `/groups/${group.id}/sole-owner`, { soleOwner: true })).status).toBe(404);
  });

  test('G7: the sole-owner flag can be seeded', async () => {
    emulator.seed({
      users: [{ userName: 'x@example.com' }],
      groups: [{ displayName: 'Seeded', members: ['x@example.com'], soleOwner: true }],
    });
    const id = state().groups.find((g) => g.displayName === 'Seeded')!.id;
    expectScimError(await scim('DELETE', `/Groups/${id}`), 409);
  });
});

describe('quirks and controls', () => {
  test('unstableOrdering shuffles the order between list calls, so offset paging yields duplicates and misses', async () => {
    emulator.seed({ users: Array.from({ length: 59 }, (_, i) => ({ userName: `u${i}@example.com` })) });
    await control('PUT', '/config', { unstableOrdering: true });
    const orders: string[] = [];
    for (let i = 0; i < 3; i++) {
      const page = await scim<ListResponse<ScimUser>>('GET', '/Users?count=100');
      expect(page.body.totalResults).toBe(60);
      expect(new Set(page.body.Resources.map((u) => u.id)).size).toBe(60);
      orders.push(page.body.Resources.map((u) => u.id).join());
    }
    expect(new Set(orders).size).toBeGreaterThan(1);

    // Paging by 10 across calls: the union almost surely misses some ids.
    const seen: string[] = [];
    for (let start = 1; start <= 60; start += 10) {
      seen.push(
        ...(
          await scim<ListResponse<ScimUser>>('GET', `/Users?startIndex=${start}&count=10`)
        ).body.Resources.map((u) => u.id),
      );
    }
    expect(seen).toHaveLength(60);
    expect(new Set(seen).size).toBeLessThan(60);
  });

  test('SPEC §8: GET /_emulator/config returns the defaults (verifiedDomains ["example.com"], removedUsersListed false, tokenValid true); PUT validates', async () => {
    const reply = await control<State['config']>('GET', '/config');
    expect(reply.body).toEqual({
      verifiedDomains: ['example.com'],
      removedUsersListed: false,
      tokenValid: true,
      unstableOrdering: false,
    });
    expect((await control('PUT', '/config', { removedUsersListed: 'yes' })).status).toBe(400);
    expect((await control('PUT', '/config', { unknownSwitch: true })).status).toBe(400);
    const put = await control<State['config']>('PUT', '/config', { verifiedDomains: ['acme.io'] });
    expect(put.body).toMatchObject({ verifiedDomains: ['acme.io'], removedUsersListed: false });
  });

  test('SPEC §8: POST /_emulator/reset empties the workspace but keeps the token and the token owner', async () => {
    const ownerId = state().tokenOwner.id;
    await createUser('temp@example.com');
    await createGroup('Temp');
    expect((await control('POST', '/reset')).status).toBe(204);
    const users = await scim<ListResponse<ScimUser>>('GET', '/Users');
    expect(users.status).toBe(200);
    expect(users.body.Resources.map((u) => [u.id, u.userName])).toEqual([[ownerId, 'owner@example.com']]);
    expect((await scim<ListResponse<ScimGroup>>('GET', '/Groups')).body.totalResults).toBe(0);
  });

  test('POST /_emulator/seed loads users (incl. removed ones and roles) and groups by userName; answers their ids', async () => {
    const reply = await control<{ users: Record<string, string>; groups: Record<string, string> }>(
      'POST',
      '/seed',
      {
        users: [
          {
            userName: 'Grace@Example.com',
            givenName: 'Grace',
            familyName: 'Hopper',
            role: 'membership_admin',
          },
          { userName: 'ex@example.com', formatted: 'Ex Member', active: false },
          { userName: 'owner@example.com', formatted: 'The Owner' },
        ],
        groups: [{ displayName: 'Navy', members: ['grace@example.com', 'owner@example.com'] }],
      },
    );
    expect(reply.status).toBe(200);
    const graceId = reply.body.users['grace@example.com']!;
    const grace = await scim<ScimUser>('GET', `/Users/${graceId}`);
    expect(grace.body.name).toEqual({ givenName: 'Grace', familyName: 'Hopper' });
    expect(grace.body[NOTION_EXT]).toEqual({ role: 'membership_admin' });
    expectScimError(await scim('GET', `/Users/${reply.body.users['ex@example.com']}`), 404);
    const navy = await scim<ScimGroup>('GET', `/Groups/${reply.body.groups.Navy}`);
    expect(navy.body.members.map((m) => m.value)).toEqual([graceId, state().tokenOwner.id]);
    expect(
      (await scim<ListResponse<ScimUser>>('GET', `/Users${q('email eq "owner@example.com"')}`)).body
        .Resources[0]!.displayName,
    ).toBe('The Owner');
    // A group member must be a member of the workspace; bad bodies are refused.
    expect(
      (await control('POST', '/seed', { groups: [{ displayName: 'X', members: ['ex@example.com'] }] }))
        .status,
    ).toBe(400);
    expect((await control('POST', '/seed', { users: [{ email: 'x@example.com' }] })).status).toBe(400);
  });

  test('GET /_emulator/state lists all users (removed ones too), all groups and the config', async () => {
    const user = await createUser('s@example.com');
    const gone = await createUser('gone@example.com');
    const group = await createGroup('G', [user.id]);
    await scim('DELETE', `/Users/${gone.id}`);
    const reply = await control<State>('GET', '/state');
    expect(reply.status).toBe(200);
    expect(reply.body.users.map((u) => [u.userName, u.active])).toEqual([
      ['owner@example.com', true],
      ['s@example.com', true],
      ['gone@example.com', false],
    ]);
    expect(reply.body.groups).toEqual([
      expect.objectContaining({ id: group.id, members: [user.id], soleOwner: false }),
    ]);
    expect(reply.body.config.verifiedDomains).toEqual(['example.com']);
  });

  test('SPEC §8: the request log counts SCIM requests by route template and not /_emulator/ calls', async () => {
    const user = await createUser('log@example.com');
    await scim('GET', `/Users/${user.id}`);
    await scim('PATCH', `/Users/${user.id}`, {
      body: patchOps({ op: 'replace', path: 'name.formatted', value: 'L' }),
    });
    await control('GET', '/state');
    const reply = await control<{ total: number; byRoute: Record<string, number> }>('GET', '/requests');
    expect(reply.body.total).toBe(3);
    expect(reply.body.byRoute).toEqual({
      'POST /scim/v2/Users': 1,
      'GET /scim/v2/Users/{id}': 1,
      'PATCH /scim/v2/Users/{id}': 1,
    });
  });

  test('injected faults answer in the SCIM error schema with Retry-After', async () => {
    emulator.control.setFaults({
      rules: [
        { route: 'GET /scim/v2/Users', count: 1, action: { type: 'status', status: 429, retryAfter: 2 } },
      ],
    });
    const reply = await scim('GET', '/Users');
    expectScimError(reply, 429);
    expect(reply.headers['retry-after']).toBe('2');
    expect((await scim('GET', '/Users')).status).toBe(200);
  });

  test('a custom token and owner can be given to createNotionEmulator', async () => {
    const other = createNotionEmulator({
      token: 'other-token',
      ownerEmail: 'Boss@Acme.io',
      verifiedDomains: ['acme.io'],
    });
    const otherOrigin = await other.listen();
    try {
      const denied = await http('GET', `${otherOrigin}/scim/v2/Users`);
      expect(denied.status).toBe(401);
      const list = await http<ListResponse<ScimUser>>('GET', `${otherOrigin}/scim/v2/Users`, {
        token: 'other-token',
      });
      expect(list.body.Resources.map((u) => u.userName)).toEqual(['boss@acme.io']);
    } finally {
      await other.close();
    }
  });
});
