/**
 * The Notion SCIM client against the Notion emulator: paging and de-duplication, every operation
 * the activities use, and the error taxonomy produced by the emulator's fault injection.
 */
import { type ApplicationFailure } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { toFailure } from '../../activities/failures';
import { CredentialGuard } from '../../api/credential-guard';
import {
  ApiError,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  type ApiErrorCode,
  type FailureClass,
} from '../../api/errors';
import { NotionScimClient } from '../../api/notion';
import { createNotionEmulator, type NotionEmulator } from '../../harness/emulators/notion';

const TOKEN = 'notion-client-test-token-9f2e';
let emulator: NotionEmulator;
let client: NotionScimClient;
let token = TOKEN;
let scimUrl: string;

beforeAll(async () => {
  emulator = createNotionEmulator({ token: TOKEN });
  scimUrl = `${await emulator.listen()}/scim/v2`;
  client = new NotionScimClient({
    baseUrl: scimUrl,
    token: () => token,
    timeouts: { headersMs: 1500 },
  });
});

afterAll(async () => {
  await client.close();
  await emulator.close();
});

beforeEach(() => {
  emulator.reset();
  emulator.configure({
    verifiedDomains: ['example.com'],
    removedUsersListed: false,
    tokenValid: true,
    unstableOrdering: false,
  });
  emulator.control.setFaults({});
  emulator.control.setRateLimit(null);
  emulator.control.clearRequests();
  token = TOKEN;
});

function seedUsers(count: number): void {
  emulator.seed({
    users: Array.from({ length: count }, (_, i) => ({
      userName: `user${String(i).padStart(4, '0')}@example.com`,
      givenName: 'U',
      familyName: `${i}`,
    })),
  });
}

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

function expectClass(error: ApiError, failureClass: FailureClass, code: ApiErrorCode): void {
  expect([error.failureClass, error.code]).toEqual([failureClass, code]);
}

describe('listing', () => {
  test('pages past 100 in pages of 100 and returns every user once', async () => {
    seedUsers(250); // + the token owner
    const listing = await client.listUsers();
    expect(listing.complete).toBe(true);
    expect(listing.items).toHaveLength(251);
    expect(new Set(listing.items.map((u) => u.id)).size).toBe(251);
    expect(emulator.control.requests().byRoute).toEqual({ 'GET /scim/v2/Users': 3 });
  });

  test('under unstable ordering, repeated ids are de-duplicated and the listing is reported incomplete', async () => {
    seedUsers(299);
    emulator.configure({ unstableOrdering: true });
    let sawIncomplete = false;
    for (let attempt = 0; attempt < 5 && !sawIncomplete; attempt++) {
      const listing = await client.listUsers();
      expect(new Set(listing.items.map((u) => u.id)).size).toBe(listing.items.length);
      if (!listing.complete) {
        sawIncomplete = true;
        expect(listing.problems.join(' ')).toMatch(/repeated|distinct of totalResults 300/);
      }
    }
    expect(sawIncomplete).toBe(true);
  });

  test('resource types are read whether Notion answers a bare array or a ListResponse', async () => {
    const types = await client.resourceTypes();
    expect(types.map((t) => t.id).sort()).toEqual(['Group', 'User']);
  });
});

describe('users', () => {
  test('U3/U4: create, then find by email (case-insensitively), then 409 on a second create', async () => {
    const created = await client.createUser({
      userName: 'ann.lee@example.com',
      email: 'ann.lee@example.com',
      givenName: 'Ann',
      familyName: 'Lee',
      formatted: 'Ann Lee',
    });
    expect(created).toMatchObject({
      userName: 'ann.lee@example.com',
      active: true,
      givenName: 'Ann',
      familyName: 'Lee',
    });
    expect(await client.findUserByEmail('Ann.Lee@Example.com')).toMatchObject({ id: created.id });
    expect(await client.findUserByEmail('nobody@example.com')).toBeUndefined();
    const conflict = await failure(
      client.createUser({ userName: 'ann.lee@example.com', email: 'ann.lee@example.com' }),
    );
    expectClass(conflict, 'permanent', 'Conflict');
    expect(conflict.message).toMatch(/create user \(ann\.lee@example\.com\).*409/);
  });

  test('U5: PATCH replaces only the given attributes, case included', async () => {
    const user = await client.createUser({
      userName: 'bo@example.com',
      email: 'bo@example.com',
      givenName: 'Bo',
      familyName: 'Mcdonald',
    });
    emulator.control.clearRequests();
    const patched = await client.patchUser(user.id, { familyName: 'McDonald' });
    expect(patched).toMatchObject({ givenName: 'Bo', familyName: 'McDonald' });
    expect(emulator.control.requests().byRoute).toEqual({ 'PATCH /scim/v2/Users/{id}': 1 });
    expect(await client.patchUser(user.id, {})).toBeUndefined();
    expect(emulator.control.requests().total).toBe(1);
  });

  test('U6/U7: deactivate with active=false; reactivate re-adds the same account by POST when the id is gone', async () => {
    const user = await client.createUser({ userName: 'cy@example.com', email: 'cy@example.com' });
    expect(await client.deactivateUser(user.id)).toBe('deactivated');
    expect(await client.getUser(user.id)).toBeUndefined(); // removed members vanish (default)
    expect(await client.deactivateUser(user.id)).toBe('already-removed');
    const back = await client.reactivateUser(user.id, {
      userName: 'cy@example.com',
      email: 'cy@example.com',
    });
    expect(back).toMatchObject({ id: user.id, active: true });
    expect(emulator.control.requests().byRoute['DELETE /scim/v2/Users/{id}']).toBeUndefined();
  });

  test('U7: with removed members listed, reactivation is a PATCH active=true', async () => {
    emulator.configure({ removedUsersListed: true });
    const user = await client.createUser({ userName: 'di@example.com', email: 'di@example.com' });
    await client.deactivateUser(user.id);
    expect(await client.getUser(user.id)).toMatchObject({ active: false });
    emulator.control.clearRequests();
    expect(
      await client.reactivateUser(user.id, { userName: 'di@example.com', email: 'di@example.com' }),
    ).toMatchObject({ active: true });
    expect(emulator.control.requests().byRoute).toEqual({ 'PATCH /scim/v2/Users/{id}': 1 });
  });

  test('U8: a profile change on an unverified domain is a permanent UnverifiedDomain error', async () => {
    const user = await client.createUser({
      userName: 'eve@contractor.io',
      email: 'eve@contractor.io',
      givenName: 'Eve',
    });
    const error = await failure(client.patchUser(user.id, { givenName: 'Evelyn' }, 'eve@contractor.io'));
    expectClass(error, 'permanent', 'UnverifiedDomain');
    expect(error.message).toMatch(/update user \(eve@contractor\.io\).*not verified/);
  });

  test('U6: the token owner cannot be removed: a permanent TokenOwner error, not rejected credentials', async () => {
    const owner = await client.findUserByEmail('owner@example.com');
    const error = await failure(client.deactivateUser(owner!.id, 'owner@example.com'));
    expectClass(error, 'permanent', 'TokenOwner');
  });

  test('C1/C2: once the write gate refuses (the connector is not activated, or was deactivated), no write reaches Notion: a permanent ConnectorNotActivated error; reads go on', async () => {
    let refusal: string | undefined = 'the connector was deactivated';
    const guard = new CredentialGuard('notion');
    const gated = new NotionScimClient({
      baseUrl: scimUrl,
      token: () => token,
      guard,
      writeGate: () => Promise.resolve(refusal),
    });
    try {
      const user = {
        userName: 'gated@example.com',
        email: 'gated@example.com',
        givenName: 'Gated',
        familyName: 'User',
        formatted: 'Gated User',
      };
      const created = await failure(gated.createUser(user));
      expectClass(created, 'permanent', 'ConnectorNotActivated');
      expect(created.message).toMatch(/deactivated/);
      const seeded = await client.createUser({
        ...user,
        userName: 'open@example.com',
        email: 'open@example.com',
      });
      expectClass(await failure(gated.deactivateUser(seeded.id)), 'permanent', 'ConnectorNotActivated');
      expectClass(await failure(gated.createGroup('Gated')), 'permanent', 'ConnectorNotActivated');
      // Nothing was sent but the reads; the refusal says nothing about the credentials.
      expect(await gated.getUser(seeded.id)).toMatchObject({ active: true });
      expect(guard.rejected).toBeUndefined();
      const routes = Object.keys(
        (
          (await (await fetch(`${scimUrl.replace(/\/scim\/v2$/, '')}/_emulator/requests`)).json()) as {
            byRoute: Record<string, number>;
          }
        ).byRoute,
      );
      expect(routes.filter((route) => !route.startsWith('GET'))).toEqual(['POST /scim/v2/Users']); // the ungated client's
      // Activated again: writes go through.
      refusal = undefined;
      expect(await gated.createUser(user)).toMatchObject({ userName: 'gated@example.com' });
    } finally {
      await gated.close();
    }
  });
});

describe('groups', () => {
  test('G4: members are added and removed in batches, not one request per member', async () => {
    seedUsers(300);
    const ids = (await client.listUsers()).items
      .filter((u) => u.userName !== 'owner@example.com')
      .map((u) => u.id);
    const group = await client.createGroup('Engineering');
    emulator.control.clearRequests();
    expect(await client.addMembers(group.id, ids)).toBe(3);
    expect((await client.getGroup(group.id))!.memberIds).toHaveLength(300);
    expect(await client.removeMembers(group.id, ids.slice(0, 150), 50)).toBe(3);
    expect((await client.getGroup(group.id))!.memberIds).toHaveLength(150);
    expect(emulator.control.requests().byRoute['PATCH /scim/v2/Groups/{id}']).toBe(6);
  });

  test('G4: member removal falls back to the RFC filter-path form when the value-array form is refused', async () => {
    seedUsers(3);
    const ids = (await client.listUsers()).items
      .filter((u) => u.userName !== 'owner@example.com')
      .map((u) => u.id);
    const group = await client.createGroup('Design');
    await client.addMembers(group.id, ids);
    emulator.control.setFaults({
      rules: [
        {
          route: 'PATCH /scim/v2/Groups/{id}',
          count: 1,
          action: { type: 'status', status: 400, detail: 'Unsupported remove form' },
        },
      ],
    });
    expect(await client.removeMembers(group.id, ids.slice(0, 2))).toBe(1);
    expect((await client.getGroup(group.id))!.memberIds).toEqual([ids[2]]);
    // The client remembers: the next removal goes straight to the filter-path form.
    emulator.control.clearRequests();
    await client.removeMembers(group.id, ids.slice(2));
    expect(emulator.control.requests().byRoute['PATCH /scim/v2/Groups/{id}']).toBe(1);
  });

  test('G3/G5/G7: find by exact name, rename in place, delete; a refused deletion is GroupDeletionRefused', async () => {
    emulator.seed({ groups: [{ displayName: 'Finance', soleOwner: true }, { displayName: 'finance' }] });
    const finance = await client.findGroupByName('Finance');
    expect(finance?.displayName).toBe('Finance');
    await client.renameGroup(finance!.id, 'Finance & Legal');
    expect((await client.getGroup(finance!.id))?.displayName).toBe('Finance & Legal');
    expectClass(
      await failure(client.deleteGroup(finance!.id, 'Finance & Legal')),
      'permanent',
      'GroupDeletionRefused',
    );
    const lower = await client.findGroupByName('finance');
    expect(await client.deleteGroup(lower!.id)).toBe('deleted');
    expect(await client.deleteGroup(lower!.id)).toBe('already-gone');
  });
});

describe('bulk reads under faults (issue 15)', () => {
  test('issue 15: a listing of 10 pages under 30% of failed requests completes, each failed page tried again alone (Retry-After honoured); without retries it fails', async () => {
    seedUsers(999); // + the token owner: 10 pages
    const storm = {
      rules: [
        { route: 'GET /scim/v2/Users', rate: 0.15, action: { type: 'status' as const, status: 500 } },
        {
          route: 'GET /scim/v2/Users',
          rate: 0.1,
          action: { type: 'status' as const, status: 429, retryAfter: 0 },
        },
        { route: 'GET /scim/v2/Users', rate: 0.05, action: { type: 'reset' as const } },
      ],
    };
    emulator.control.setFaults(storm);
    const waits: number[] = [];
    const paced = new NotionScimClient({
      baseUrl: scimUrl,
      token: () => token,
      pageRetry: { attempts: 8, maxDelayMs: 20, onWait: (ms) => waits.push(ms) },
    });
    try {
      for (let run = 0; run < 3; run++) {
        const listing = await paced.listUsers();
        expect(listing.complete).toBe(true);
        expect(listing.items).toHaveLength(1000);
      }
    } finally {
      await paced.close();
    }
    expect(waits.length).toBeGreaterThan(0);
    expect(Math.max(...waits)).toBeLessThanOrEqual(20);

    // The same storm without retries inside the listing: one failed page fails the whole read.
    let failed = 0;
    for (let run = 0; run < 5; run++) await client.listUsers().catch(() => (failed += 1));
    expect(failed).toBeGreaterThan(0);
  });

  test('issue 15: a Retry-After longer than the client waits is not slept on: the activity waits it (nextRetryDelay)', async () => {
    seedUsers(10);
    emulator.control.setFaults({
      rules: [{ route: 'GET /scim/v2/Users', action: { type: 'status', status: 429, retryAfter: 60 } }],
    });
    const paced = new NotionScimClient({ baseUrl: scimUrl, token: () => token, pageRetry: { attempts: 8 } });
    try {
      const error = await failure(paced.listUsers());
      expectClass(error, 'retryable', 'RateLimited');
      expect(emulator.control.requests().total).toBe(1);
      expect(msToNumber((toFailure(error) as ApplicationFailure).nextRetryDelay!)).toBe(60_000);
    } finally {
      await paced.close();
    }
  });

  test('issue 15 (U9): one member record that does not fit is set aside with its reason; the others are listed', async () => {
    seedUsers(150);
    const [victim] = (emulator.state() as { users: { id: string }[] }).users;
    emulator.control.setFaults({});
    const paced = new NotionScimClient({ baseUrl: scimUrl, token: () => token });
    try {
      // A record without its userName, as a broken proxy or an API change might serve it.
      emulator.configure({ malformedUserIds: [victim!.id] });
      const listing = await paced.listUsers();
      expect(listing.complete).toBe(true);
      expect(listing.items).toHaveLength(150);
      expect(listing.rejected).toEqual([{ id: victim!.id, problem: expect.stringMatching(/userName/) }]);
      // Read by itself, it is that member's permanent error, not a retry.
      const error = await failure(paced.getUser(victim!.id));
      expectClass(error, 'permanent', 'InvalidRecord');
    } finally {
      emulator.configure({ malformedUserIds: [] });
      await paced.close();
    }
  });
});

describe('error taxonomy from fault injection', () => {
  test.each([
    [500, 'retryable', 'ServerError'],
    [502, 'retryable', 'ServerError'],
    [503, 'retryable', 'ServerError'],
    [429, 'retryable', 'RateLimited'],
    [529, 'retryable', 'RateLimited'],
    [400, 'permanent', 'BadRequest'],
    [404, 'permanent', 'NotFound'],
    [409, 'permanent', 'Conflict'],
    [401, 'credentials', 'CredentialsRejected'],
    [403, 'credentials', 'CredentialsRejected'],
  ] as const)('%i is %s (%s) and keeps the service detail', async (status, failureClass, code) => {
    emulator.control.setFaults({
      rules: [{ route: 'GET /scim/v2/Users', action: { type: 'status', status, detail: `fault ${status}` } }],
    });
    const error = await failure(client.listUsers());
    expectClass(error, failureClass, code);
    expect(error.info.status).toBe(status);
    expect(error.message).toContain(`fault ${status}`);
  });

  test('Retry-After on 429 and 503 becomes the least wait', async () => {
    emulator.control.setFaults({
      rules: [{ route: 'GET', action: { type: 'status', status: 429, retryAfter: 2 } }],
    });
    expect((await failure(client.listUsers())).info.retryAfterMs).toBe(2000);
    emulator.control.setFaults({
      rules: [{ route: 'GET', action: { type: 'status', status: 503, retryAfter: 7 } }],
    });
    expect((await failure(client.listUsers())).info.retryAfterMs).toBe(7000);
  });

  test('a Retry-After of hours or years is capped at MAX_RETRY_AFTER_MS (10 minutes)', async () => {
    emulator.control.setFaults({
      rules: [{ route: 'GET', action: { type: 'status', status: 429, retryAfter: 99_999_999 } }],
    });
    expect((await failure(client.listUsers())).info.retryAfterMs).toBe(MAX_RETRY_AFTER_MS);
    expect(MAX_RETRY_AFTER_MS).toBe(600_000);
    // An HTTP date a year ahead, too.
    const nextYear = new Date(Date.now() + 365 * 86_400_000).toUTCString();
    expect(parseRetryAfter(nextYear)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter('120')).toBe(120_000);
  });

  test('the emulator rate limit answers 429 with Retry-After, classified as RateLimited', async () => {
    emulator.control.setRateLimit({ rps: 1, burst: 1 });
    await client.checkCredentials();
    const error = await failure(client.checkCredentials());
    expectClass(error, 'retryable', 'RateLimited');
    expect(error.info.retryAfterMs).toBeGreaterThanOrEqual(1000);
  });

  test('a connection reset is a retryable network error', async () => {
    emulator.control.setFaults({
      rules: [{ route: 'GET /scim/v2/Users', count: 1, action: { type: 'reset' } }],
    });
    expectClass(await failure(client.listUsers()), 'retryable', 'Network');
    expect((await client.listUsers()).complete).toBe(true);
  });

  test('a server slower than the headers timeout is a retryable Timeout', async () => {
    emulator.control.setFaults({
      rules: [{ route: 'GET /scim/v2/Users', count: 1, action: { type: 'latency', ms: 3000 } }],
    });
    expectClass(await failure(client.listUsers()), 'retryable', 'Timeout');
  });

  test('C3: a revoked token is CredentialsRejected; a rotated token is used by the next request', async () => {
    token = 'wrong-token';
    expectClass(await failure(client.checkCredentials()), 'credentials', 'CredentialsRejected');
    token = TOKEN;
    await expect(client.checkCredentials()).resolves.toBeUndefined();
    emulator.configure({ tokenValid: false });
    expectClass(await failure(client.checkCredentials()), 'credentials', 'CredentialsRejected');
  });

  test('C3: every rejection, answered by Notion or turned away by the open guard, is retried at the next probe, never after an exponential backoff', async () => {
    let now = 1_000_000;
    const guard = new CredentialGuard('notion', { probeIntervalMs: 3_000, now: () => now });
    const guarded = new NotionScimClient({ baseUrl: scimUrl, token: () => token, guard });
    try {
      emulator.configure({ tokenValid: false });
      const retryDelays: (number | undefined)[] = [];
      for (let attempt = 0; attempt < 4; attempt++) {
        // Alternately the half-open probe (a real 401) and a request the open guard turns away.
        const rejected = await failure(guarded.getUser('any-id'));
        expect(rejected.info.class).toBe('credentials');
        const failed = toFailure(rejected) as ApplicationFailure;
        expect(failed.nonRetryable).toBe(false);
        retryDelays.push(failed.nextRetryDelay == null ? undefined : msToNumber(failed.nextRetryDelay));
        now += 1_500;
      }
      // Without a delay, Temporal's backoff (1 s × 2^attempt, up to 5 min) would apply.
      expect(retryDelays).toEqual([3_000, 1_500, 3_000, 1_500]);
      expect(emulator.control.requests().total).toBe(2); // the probes only
    } finally {
      await guarded.close();
    }
  });

  test('no secret appears in any error message', async () => {
    const messages: string[] = [];
    token = 'wrong-token-0c4f1d9e';
    messages.push((await failure(client.checkCredentials())).message);
    token = TOKEN;
    for (const status of [400, 401, 403, 404, 409, 429, 500]) {
      emulator.control.setFaults({ rules: [{ route: 'GET', action: { type: 'status', status } }] });
      messages.push((await failure(client.listUsers())).message);
    }
    for (const message of messages) {
      expect(message).not.toContain(TOKEN);
      expect(message).not.toContain('wrong-token-0c4f1d9e');
    }
  });
});
