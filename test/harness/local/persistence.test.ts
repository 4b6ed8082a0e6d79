/**
 * Emulator snapshots (`jc-notion local --data-dir`): `snapshot()` / `restore()` round-trip the
 * whole state of the JumpCloud and Notion emulators (ids, times, memberships, the Directory
 * Insights journal and its cursors, removed Notion members, configuration), a corrupt or foreign
 * snapshot is refused whole, and the stack's file helpers restore, save atomically and save only
 * what changed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request, type Dispatcher } from 'undici';
import {
  SnapshotError,
  createJumpCloudEmulator,
  type InsightsEvent,
  type JumpCloudEmulator,
  type SystemUser,
  type UserGroup,
} from '../../../harness/emulators/jumpcloud';
import { createNotionEmulator, type NotionEmulator } from '../../../harness/emulators/notion';
import {
  RestoreError,
  restoreEmulator,
  startSnapshotSaver,
  writeFileAtomically,
  type PersistedEmulator,
} from '../../../harness/local/persistence';
import { NOTION_APP_ID, caller, header } from '../emulators/jumpcloud-http';

const running: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const emulator of running.splice(0)) await emulator.close();
});

async function startJumpCloud(): Promise<{ emulator: JumpCloudEmulator; call: ReturnType<typeof caller> }> {
  const emulator = createJumpCloudEmulator();
  running.push(emulator);
  const origin = await emulator.listen();
  return { emulator, call: caller(() => origin) };
}

/** Through JSON, as the stack stores it. */
const throughJson = <T>(value: T): unknown => JSON.parse(JSON.stringify(value));

const EPOCH = '2020-01-01T00:00:00Z';

describe('JumpCloud emulator snapshots', () => {
  /** A directory built through the API and the programmatic mutations; returns the ids. */
  async function buildDirectory(emulator: JumpCloudEmulator, call: ReturnType<typeof caller>) {
    emulator.seed({
      users: [
        {
          username: 'alice',
          email: 'alice@example.com',
          firstname: 'Alice',
          created: '2021-03-04T05:06:07.000Z',
        },
        { username: 'bob', email: 'bob@example.com', state: 'STAGED' },
      ],
      groups: [
        { name: 'Engineering', members: ['alice'], groups: ['Platform'] },
        { name: 'Platform', members: ['bob'] },
      ],
      applications: [{ name: 'Slack' }],
      bindings: [{ groups: ['Engineering'] }, { application: 'Slack', users: ['alice'] }],
    });
    const carol = await call<SystemUser>('POST', '/api/systemusers', {
      body: {
        username: 'carol',
        email: 'carol@example.com',
        firstname: 'Carol',
        lastname: 'Danvers',
        department: 'Security',
        addresses: [{ type: 'work', locality: 'Paris' }],
        phoneNumbers: [{ type: 'mobile', number: '+33 6 00 00 00 00' }],
        attributes: [{ name: 'badge', value: '42' }],
        mfa: { exclusion: true, exclusionDays: 3 },
      },
    });
    expect(carol.status).toBe(200);
    const dave = await call<SystemUser>('POST', '/api/systemusers', {
      body: { username: 'dave', email: 'dave@example.com', manager: carol.body._id },
    });
    expect(dave.status).toBe(200);
    expect(
      (await call('PUT', `/api/systemusers/${carol.body._id}`, { body: { jobTitle: 'CISO' } })).status,
    ).toBe(200);
    const sre = await call<UserGroup>('POST', '/api/v2/usergroups', {
      body: { name: 'SRE', description: 'on call', attributes: { sudo: { enabled: false } } },
    });
    expect(sre.status).toBeLessThan(300);
    const state = emulator.state();
    const id = (username: string) => state.users.find((user) => user.username === username)!._id;
    const group = (name: string) => state.groups.find((g) => g.name === name)!.id;
    for (const member of [
      { type: 'user', id: carol.body._id },
      { type: 'user', id: id('bob') },
    ])
      expect(
        (await call('POST', `/api/v2/usergroups/${sre.body.id}/members`, { body: { op: 'add', ...member } }))
          .status,
      ).toBe(204);
    expect(
      (
        await call('POST', `/api/v2/usergroups/${group('Platform')}/members`, {
          body: { op: 'add', type: 'user_group', id: sre.body.id },
        })
      ).status,
    ).toBe(204);
    expect(
      (
        await call('POST', `/api/v2/applications/${NOTION_APP_ID}/associations`, {
          body: { op: 'add', type: 'user', id: dave.body._id },
        })
      ).status,
    ).toBe(204);
    // Programmatic mutations, events included.
    const erin = emulator.createUser({ username: 'erin', email: 'erin@example.com' });
    emulator.suspendUser(erin._id);
    const design = emulator.createGroup({ name: 'Design' });
    emulator.addGroupMember(design.id, { type: 'user', id: erin._id });
    emulator.addGroupMember(design.id, { type: 'user', id: id('alice') });
    emulator.bind({ type: 'user_group', id: design.id });
    const temp = emulator.createUser({ username: 'temp', email: 'temp@example.com' });
    emulator.addGroupMember(design.id, { type: 'user', id: temp._id });
    emulator.deleteUser(temp._id);
    return {
      carol: carol.body._id,
      dave: dave.body._id,
      erin: erin._id,
      alice: id('alice'),
      sre: sre.body.id,
    };
  }

  const queryEvents = (call: ReturnType<typeof caller>, body: Record<string, unknown> = {}) =>
    call<InsightsEvent[]>('POST', '/insights/directory/v1/events', {
      body: { service: ['all'], start_time: EPOCH, ...body },
    });

  test('round-trip: the same directory, ids, memberships, bindings, journal and API answers', async () => {
    const original = await startJumpCloud();
    const ids = await buildDirectory(original.emulator, original.call);
    const snapshot = original.emulator.snapshot();
    expect(snapshot).toMatchObject({ version: 1, emulator: 'jumpcloud' });

    const copy = await startJumpCloud();
    copy.emulator.restore(throughJson(snapshot));

    expect(copy.emulator.state()).toEqual(original.emulator.state());
    expect(copy.emulator.events()).toEqual(original.emulator.events());
    expect(copy.emulator.snapshot()).toEqual(throughJson(snapshot));
    for (const path of [
      `/api/systemusers/${ids.carol}`,
      `/api/systemusers/${ids.dave}`,
      '/api/systemusers',
      '/api/v2/usergroups',
      `/api/v2/usergroups/${ids.sre}/members`,
      `/api/v2/users/${ids.carol}/memberof`,
      `/api/v2/users/${ids.alice}/memberof`,
      `/api/v2/applications/${NOTION_APP_ID}/users`,
      `/api/v2/applications/${NOTION_APP_ID}/usergroups`,
      `/api/v2/applications/${NOTION_APP_ID}/associations?targets=user_group`,
      '/api/applications',
    ]) {
      const [before, after] = [await original.call('GET', path), await copy.call('GET', path)];
      expect({ path, status: after.status, body: after.body }).toEqual({
        path,
        status: 200,
        body: before.body,
      });
    }
    const carol = copy.emulator.state().users.find((user) => user._id === ids.carol)!;
    expect(carol).toMatchObject({ jobTitle: 'CISO', department: 'Security', mfa: { exclusionDays: 3 } });
    expect(copy.emulator.state().users.find((user) => user._id === ids.erin)!.state).toBe('SUSPENDED');
  });

  test('Directory Insights: the same events and ids, and a cursor taken before the restore stays valid', async () => {
    const original = await startJumpCloud();
    await buildDirectory(original.emulator, original.call);
    const firstPage = await queryEvents(original.call, { limit: 5 });
    expect(firstPage.body).toHaveLength(5);
    const cursor: unknown = JSON.parse(header(firstPage, 'x-search_after')!);
    const rest = await queryEvents(original.call, { search_after: cursor });

    const copy = await startJumpCloud();
    copy.emulator.restore(throughJson(original.emulator.snapshot()));
    const all = await queryEvents(copy.call);
    expect(all.body.map((event) => event.id)).toEqual(original.emulator.events().map((event) => event.id));
    expect(all.body).toEqual((await queryEvents(original.call)).body);
    const continued = await queryEvents(copy.call, { search_after: cursor });
    expect(continued.body).toEqual(rest.body);
    const filtered = { search_term: { and: [{ event_type: 'user_create' }] } };
    expect((await queryEvents(copy.call, filtered)).body).toEqual(
      (await queryEvents(original.call, filtered)).body,
    );

    // New changes after the restore: fresh ids, later events after the old cursor, the uid sequence goes on.
    const frank = copy.emulator.createUser({ username: 'frank', email: 'frank@example.com' });
    expect(frank.unix_uid).toBe(original.emulator.snapshot().counters.nextUid);
    const known = new Set([
      ...original.emulator.events().map((event) => event.id),
      ...original.emulator.state().users.map((user) => user._id),
      ...original.emulator.state().groups.map((group) => group.id),
    ]);
    expect(known.has(frank._id)).toBe(false);
    const after = await queryEvents(copy.call, { search_after: cursor });
    expect(after.body.map((event) => event.id)).toEqual([
      ...rest.body.map((event) => event.id),
      copy.emulator.events().at(-1)!.id,
    ]);
    expect(known.has(copy.emulator.events().at(-1)!.id)).toBe(false);
  });

  test('the insights delay and the visibility of late events are restored', async () => {
    const original = await startJumpCloud();
    original.emulator.createUser({ username: 'early', email: 'early@example.com' });
    original.emulator.setInsightsDelay(3_600_000);
    const late = original.emulator.createUser({ username: 'late', email: 'late@example.com' });

    const copy = await startJumpCloud();
    copy.emulator.restore(throughJson(original.emulator.snapshot()));
    expect(copy.emulator.state().insights).toEqual({ delayMs: 3_600_000, events: 2 });
    const visible = await queryEvents(copy.call);
    expect(visible.body.map((event) => (event.resource as { username: string }).username)).toEqual(['early']);
    expect(copy.emulator.events().map((event) => (event.resource as { id: string }).id)).toContain(late._id);
    // New events are delayed too.
    copy.emulator.createUser({ username: 'later', email: 'later@example.com' });
    expect((await queryEvents(copy.call)).body).toHaveLength(1);
  });

  test('a corrupt, inconsistent or foreign snapshot is refused whole with a clear error', async () => {
    const original = await startJumpCloud();
    await buildDirectory(original.emulator, original.call);
    const good = throughJson(original.emulator.snapshot()) as Record<string, unknown> & {
      users: Record<string, unknown>[];
      groups: { members: { id: string; type: string }[] }[];
      bindings: { application: string; members: unknown[] }[];
    };
    const target = await startJumpCloud();
    target.emulator.seed({ users: [{ username: 'zoe', email: 'zoe@example.com' }] });
    const before = target.emulator.snapshot();
    const notion = createNotionEmulator();

    const refusals: [unknown, RegExp][] = [
      [null, /not a JumpCloud snapshot: expected a JSON object/],
      [[], /not a JumpCloud snapshot: expected a JSON object/],
      [{}, /not a JumpCloud snapshot: "emulator" is missing/],
      [notion.snapshot(), /not a JumpCloud snapshot: "emulator" is "notion"/],
      [{ ...good, version: 2 }, /unsupported JumpCloud snapshot version 2/],
      [{ ...good, users: 'none' }, /invalid JumpCloud snapshot: users: /],
      [
        { ...good, users: good.users.map((user, i) => (i === 1 ? { ...user, email: 42 } : user)) },
        /invalid JumpCloud snapshot: users\.1\.email: /,
      ],
      [
        { ...good, users: good.users.map((user, i) => (i === 1 ? { ...user, surprise: true } : user)) },
        /users\.1: .*surprise/,
      ],
      [{ ...good, users: [...good.users, good.users[0]] }, /the id of user \w+ is used twice/],
      [
        {
          ...good,
          groups: good.groups.map((group, i) =>
            i === 0
              ? { ...group, members: [...group.members, { id: 'ffffffffffffffffffffffff', type: 'user' }] }
              : group,
          ),
        },
        /members of user group \w+: user ffffffffffffffffffffffff does not exist/,
      ],
      [{ ...good, memberOf: {} }, /memberOf does not list every group membership/],
      [
        { ...good, bindings: [...good.bindings, { application: 'aaaaaaaaaaaaaaaaaaaaaaaa', members: [] }] },
        /bindings name application aaaaaaaaaaaaaaaaaaaaaaaa, which does not exist/,
      ],
      [{ ...good, organization: '000000000000000000000000' }, /of organisation 000000000000000000000000/],
      [
        { ...good, insights: { delayMs: 0, events: [{ at: 1, visibleAt: 1, event: { id: 'x' } }] } },
        /insights\.events\.0\.event\.event_type/,
      ],
    ];
    for (const [snapshot, message] of refusals) {
      let thrown: unknown;
      try {
        target.emulator.restore(snapshot);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(SnapshotError);
      expect((thrown as Error).message).toMatch(message);
      // Nothing half-restored.
      expect(target.emulator.snapshot()).toEqual(before);
    }
  });

  test('a group nesting cycle in a snapshot is refused', async () => {
    const original = await startJumpCloud();
    original.emulator.seed({ groups: [{ name: 'A', groups: ['B'] }, { name: 'B' }] });
    const snapshot = throughJson(original.emulator.snapshot()) as {
      groups: { id: string; name: string; members: { id: string; type: string }[] }[];
      memberOf: Record<string, string[]>;
    };
    const [a, b] = snapshot.groups;
    b!.members.push({ id: a!.id, type: 'user_group' });
    snapshot.memberOf[a!.id] = [b!.id];
    expect(() => createJumpCloudEmulator().restore(snapshot)).toThrow(/is nested in itself/);
  });

  test('revision() moves with every change (API, programmatic, seed, delay, reset), not with reads', async () => {
    const { emulator, call } = await startJumpCloud();
    let last = emulator.revision();
    const moved = () => {
      const now = emulator.revision();
      const changed = now !== last;
      last = now;
      return changed;
    };
    await call('POST', '/api/systemusers', { body: { username: 'a', email: 'a@example.com' } });
    expect(moved()).toBe(true);
    await call('GET', '/api/systemusers');
    await queryEvents(call);
    emulator.snapshot();
    expect(moved()).toBe(false);
    emulator.createGroup({ name: 'G' });
    expect(moved()).toBe(true);
    emulator.seed({ users: [{ username: 'b', email: 'b@example.com' }] });
    expect(moved()).toBe(true);
    await call('PUT', '/_emulator/insights', { body: { delayMs: 10 } });
    expect(moved()).toBe(true);
    emulator.restore(emulator.snapshot());
    expect(moved()).toBe(true);
    emulator.reset();
    expect(moved()).toBe(true);
  });
});

describe('Notion emulator snapshots', () => {
  const SCIM_JSON = 'application/scim+json';
  const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
  const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
  const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

  interface Reply<T> {
    status: number;
    body: T;
  }
  interface Resource {
    id: string;
    active?: boolean;
    [field: string]: unknown;
  }

  async function startNotion(options: Parameters<typeof createNotionEmulator>[0] = {}) {
    const emulator = createNotionEmulator(options);
    running.push(emulator);
    const origin = await emulator.listen();
    const scim = async <T = Resource>(
      method: Dispatcher.HttpMethod,
      path: string,
      body?: unknown,
    ): Promise<Reply<T>> => {
      const response = await request(`${origin}/scim/v2${path}`, {
        method,
        headers: {
          authorization: 'Bearer local-notion-token',
          ...(body === undefined ? {} : { 'content-type': SCIM_JSON }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.body.text();
      return { status: response.statusCode, body: (text ? JSON.parse(text) : undefined) as T };
    };
    return { emulator, scim, origin };
  }

  type Scim = Awaited<ReturnType<typeof startNotion>>['scim'];

  async function buildWorkspace({
    emulator,
    scim,
    origin,
  }: {
    emulator: NotionEmulator;
    scim: Scim;
    origin: string;
  }) {
    emulator.configure({ verifiedDomains: ['example.com', 'corp.example'] });
    emulator.seed({
      users: [
        { userName: 'seeded@example.com', givenName: 'Seeded', role: 'membership_admin' },
        { userName: 'gone@example.com', active: false },
      ],
    });
    const create = async (userName: string, extra: Record<string, unknown> = {}) => {
      const reply = await scim('POST', '/Users', { schemas: [USER_SCHEMA], userName, ...extra });
      expect(reply.status).toBe(201);
      return reply.body;
    };
    const alice = await create('alice@example.com', {
      name: { givenName: 'Alice', familyName: 'Liddell' },
      title: 'Engineer',
    });
    const bob = await create('bob@corp.example');
    const carol = await create('carol@other.example', { name: { formatted: 'Carol D.' } });
    const removed = await create('removed@example.com');
    expect(
      (
        await scim('PATCH', `/Users/${bob.id}`, {
          schemas: [PATCH_SCHEMA],
          Operations: [{ op: 'replace', path: 'name.givenName', value: 'Bobby' }],
        })
      ).status,
    ).toBe(200);
    const team = await scim('POST', '/Groups', {
      schemas: [GROUP_SCHEMA],
      displayName: 'Team',
      members: [{ value: bob.id }, { value: alice.id }, { value: removed.id }],
    });
    expect(team.status).toBe(201);
    const owners = await scim('POST', '/Groups', {
      schemas: [GROUP_SCHEMA],
      displayName: 'Owners',
      members: [{ value: alice.id }],
    });
    expect(owners.status).toBe(201);
    expect((await scim('DELETE', `/Users/${removed.id}`)).status).toBe(204);
    const soleOwner = await request(`${origin}/_emulator/groups/${owners.body.id}/sole-owner`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ soleOwner: true }),
    });
    await soleOwner.body.text();
    expect(soleOwner.statusCode).toBe(200);
    return { alice, bob, carol, removed, team: team.body, owners: owners.body };
  }

  test('round-trip: the same users, ids, removed members, groups, token owner and config', async () => {
    const original = await startNotion();
    const ids = await buildWorkspace(original);
    original.emulator.configure({ unstableOrdering: false, removedUsersListed: false });
    const snapshot = original.emulator.snapshot();
    expect(snapshot).toMatchObject({ version: 1, emulator: 'notion' });

    const copy = await startNotion({ verifiedDomains: ['elsewhere.example'], removedUsersListed: true });
    copy.emulator.restore(throughJson(snapshot));
    expect(copy.emulator.state()).toEqual(original.emulator.state());
    expect(copy.emulator.snapshot()).toEqual(throughJson(snapshot));
    expect(snapshot.tokenOwner.id).toBe(
      (original.emulator.state() as { tokenOwner: { id: string } }).tokenOwner.id,
    );

    for (const path of [
      `/Users/${ids.alice.id}`,
      `/Users/${ids.bob.id}`,
      `/Users/${ids.carol.id}`,
      `/Users/${snapshot.tokenOwner.id}`,
      '/Users',
      `/Groups/${ids.team.id}`,
      '/Groups',
    ]) {
      const [before, after] = [await original.scim('GET', path), await copy.scim('GET', path)];
      expect({ path, status: after.status, body: after.body }).toEqual({
        path,
        status: 200,
        body: before.body,
      });
    }
    // The removed member is still removed: gone from GET and from its groups.
    expect((await copy.scim('GET', `/Users/${ids.removed.id}`)).status).toBe(404);
    const team = await copy.scim<{ members: { value: string }[] }>('GET', `/Groups/${ids.team.id}`);
    expect(team.body.members.map((member) => member.value)).toEqual([ids.bob.id, ids.alice.id]);
    // … and re-adding it takes a POST that gives back the same account.
    const back = await copy.scim('POST', '/Users', {
      schemas: [USER_SCHEMA],
      userName: 'removed@example.com',
    });
    expect(back.status).toBe(201);
    expect(back.body.id).toBe(ids.removed.id);
    // Verified domains came back: a profile change on corp.example is allowed, on other.example refused.
    const rename = (id: string) =>
      copy.scim('PATCH', `/Users/${id}`, {
        schemas: [PATCH_SCHEMA],
        Operations: [{ op: 'replace', path: 'name.familyName', value: 'New' }],
      });
    expect((await rename(ids.bob.id)).status).toBe(200);
    expect((await rename(ids.carol.id)).status).toBe(400);
    // The sole-owner group still cannot be deleted; the token owner still cannot be removed.
    expect((await copy.scim('DELETE', `/Groups/${ids.owners.id}`)).status).toBe(409);
    expect((await copy.scim('DELETE', `/Users/${snapshot.tokenOwner.id}`)).status).toBe(403);
    // A reset keeps the restored token owner's id.
    copy.emulator.reset();
    expect((copy.emulator.state() as { tokenOwner: { id: string } }).tokenOwner.id).toBe(
      snapshot.tokenOwner.id,
    );
  });

  test('removedUsersListed and tokenValid are restored', async () => {
    const original = await startNotion();
    const gone = await original.scim('POST', '/Users', {
      schemas: [USER_SCHEMA],
      userName: 'gone@example.com',
    });
    await original.scim('DELETE', `/Users/${gone.body.id}`);
    original.emulator.configure({ removedUsersListed: true });

    const copy = await startNotion();
    copy.emulator.restore(throughJson(original.emulator.snapshot()));
    const listed = await copy.scim('GET', `/Users/${gone.body.id}`);
    expect(listed).toMatchObject({ status: 200, body: { id: gone.body.id, active: false } });

    original.emulator.configure({ tokenValid: false, unstableOrdering: true });
    copy.emulator.restore(throughJson(original.emulator.snapshot()));
    expect((await copy.scim('GET', '/Users')).status).toBe(401);
    expect(copy.emulator.snapshot().config).toEqual({
      verifiedDomains: ['example.com'],
      removedUsersListed: true,
      tokenValid: false,
      unstableOrdering: true,
    });
  });

  test('a corrupt, inconsistent or foreign snapshot is refused whole with a clear error', async () => {
    const original = await startNotion();
    const ids = await buildWorkspace(original);
    type Snapshot = ReturnType<NotionEmulator['snapshot']>;
    const good = throughJson(original.emulator.snapshot()) as Snapshot;
    const target = await startNotion();
    target.emulator.seed({ users: [{ userName: 'zoe@example.com' }] });
    const before = target.emulator.snapshot();
    const jumpcloud = createJumpCloudEmulator();

    const refusals: [unknown, RegExp][] = [
      ['notion', /not a Notion snapshot: expected a JSON object/],
      [jumpcloud.snapshot(), /not a Notion snapshot: "emulator" is "jumpcloud"/],
      [{ ...good, version: '1' }, /unsupported Notion snapshot version "1"/],
      [
        { ...good, config: { ...good.config, tokenValid: 'yes' } },
        /invalid Notion snapshot: config\.tokenValid: /,
      ],
      [
        { ...good, users: good.users.map((user, i) => (i === 2 ? { ...user, role: 'emperor' } : user)) },
        /users\.2\.role: /,
      ],
      [
        {
          ...good,
          users: good.users.map((user, i) => (i === 2 ? { ...user, userName: 'Upper@Example.com' } : user)),
        },
        /userName "Upper@Example.com" is not a lower-case email/,
      ],
      [
        { ...good, tokenOwner: { ...good.tokenOwner, userName: 'boss@example.com' } },
        /token owner is boss@example.com/,
      ],
      [
        { ...good, tokenOwner: { ...good.tokenOwner, id: ids.alice.id } },
        /the token owner .* is not a member named/,
      ],
      [
        {
          ...good,
          groups: good.groups.map((group) =>
            group.id === ids.team.id ? { ...group, members: [...group.members, ids.removed.id] } : group,
          ),
        },
        new RegExp(`group ${ids.team.id}: ${ids.removed.id} is not a workspace member`),
      ],
      [
        { ...good, users: good.users.map((user) => ({ ...user, groups: [] })) },
        /users' groups do not list every group membership/,
      ],
    ];
    for (const [snapshot, message] of refusals) {
      let thrown: unknown;
      try {
        target.emulator.restore(snapshot);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(SnapshotError);
      expect((thrown as Error).message).toMatch(message);
      expect(target.emulator.snapshot()).toEqual(before);
    }
  });

  test('revision() moves with every change (API, control, programmatic), not with reads', async () => {
    const { emulator, scim } = await startNotion();
    let last = emulator.revision();
    const moved = () => {
      const now = emulator.revision();
      const changed = now !== last;
      last = now;
      return changed;
    };
    const user = await scim('POST', '/Users', { schemas: [USER_SCHEMA], userName: 'a@example.com' });
    expect(moved()).toBe(true);
    await scim('GET', '/Users');
    await scim('GET', `/Users/${user.body.id}`);
    emulator.snapshot();
    expect(moved()).toBe(false);
    await scim('POST', '/Groups', {
      schemas: [GROUP_SCHEMA],
      displayName: 'G',
      members: [{ value: user.body.id }],
    });
    expect(moved()).toBe(true);
    await scim('DELETE', `/Users/${user.body.id}`);
    expect(moved()).toBe(true);
    emulator.configure({ removedUsersListed: true });
    expect(moved()).toBe(true);
    emulator.seed({ users: [{ userName: 'b@example.com' }] });
    expect(moved()).toBe(true);
    emulator.reset();
    expect(moved()).toBe(true);
  });
});

describe('the data-dir files (local/persistence)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jc-notion-state-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const targets = () => {
    const jumpcloud = createJumpCloudEmulator();
    const notion = createNotionEmulator();
    const files: PersistedEmulator[] = [
      { label: 'JumpCloud emulator', file: path.join(dir, 'jumpcloud.json'), emulator: jumpcloud },
      { label: 'Notion emulator', file: path.join(dir, 'notion.json'), emulator: notion },
    ];
    return { jumpcloud, notion, files };
  };

  test('no file: nothing restored; the saver writes both files, then only what changed, and a last time on stop', async () => {
    const first = targets();
    expect(first.files.map((target) => restoreEmulator(target))).toEqual([false, false]);
    first.jumpcloud.createUser({ username: 'alice', email: 'alice@example.com' });
    const saver = startSnapshotSaver(first.files, {
      restored: new Set(),
      onError: noErrors,
      intervalMs: 60_000,
    });
    try {
      await saver.save();
      expect(fs.readdirSync(dir).sort()).toEqual(['jumpcloud.json', 'notion.json']);
      fs.rmSync(first.files[1]!.file);
      await saver.save();
      // Unchanged: not written again.
      expect(fs.existsSync(first.files[1]!.file)).toBe(false);
      first.notion.seed({ users: [{ userName: 'bob@example.com' }] });
      first.jumpcloud.createGroup({ name: 'Late' });
    } finally {
      await saver.stop();
    }
    // No temporary file left behind.
    expect(fs.readdirSync(dir).sort()).toEqual(['jumpcloud.json', 'notion.json']);

    const second = targets();
    expect(second.files.map((target) => restoreEmulator(target))).toEqual([true, true]);
    expect(second.jumpcloud.state()).toEqual(first.jumpcloud.state());
    expect(second.jumpcloud.events()).toEqual(first.jumpcloud.events());
    expect(second.notion.state()).toEqual(first.notion.state());
  });

  test('a restored emulator is not rewritten until it changes', async () => {
    const first = targets();
    first.jumpcloud.createUser({ username: 'alice', email: 'alice@example.com' });
    for (const target of first.files)
      await writeFileAtomically(target.file, JSON.stringify(target.emulator.snapshot()));
    const second = targets();
    const restored = new Set(second.files.filter((target) => restoreEmulator(target)));
    expect(restored.size).toBe(2);
    fs.rmSync(second.files[0]!.file);
    const saver = startSnapshotSaver(second.files, { restored, onError: noErrors, intervalMs: 60_000 });
    await saver.save();
    expect(fs.existsSync(second.files[0]!.file)).toBe(false);
    second.jumpcloud.deleteUser(second.jumpcloud.state().users[0]!._id);
    await saver.stop();
    expect(JSON.parse(fs.readFileSync(second.files[0]!.file, 'utf8'))).toMatchObject({ users: [] });
  });

  test('the saver saves by itself every interval while the state changes', async () => {
    const { files, jumpcloud } = targets();
    const saver = startSnapshotSaver(files, { restored: new Set(), onError: noErrors, intervalMs: 20 });
    try {
      jumpcloud.createUser({ username: 'alice', email: 'alice@example.com' });
      const saved = () =>
        fs.existsSync(files[0]!.file)
          ? (JSON.parse(fs.readFileSync(files[0]!.file, 'utf8')) as { users: { username: string }[] })
          : undefined;
      const deadline = Date.now() + 5_000;
      while (saved()?.users.length !== 1 && Date.now() < deadline) await sleep(10);
      expect(saved()?.users.map((user) => user.username)).toEqual(['alice']);
      jumpcloud.createUser({ username: 'bob', email: 'bob@example.com' });
      while (saved()?.users.length !== 2 && Date.now() < deadline) await sleep(10);
      expect(saved()?.users.map((user) => user.username)).toEqual(['alice', 'bob']);
    } finally {
      await saver.stop();
    }
  });

  test('a corrupt or foreign file is refused with the file named, and the emulator left as it was', () => {
    const { files, jumpcloud, notion } = targets();
    const before = notion.snapshot();
    fs.writeFileSync(files[0]!.file, '{"version": 1, "emulator": "jumpcl');
    expect(() => restoreEmulator(files[0]!)).toThrow(RestoreError);
    expect(() => restoreEmulator(files[0]!)).toThrow(
      new RegExp(`cannot restore the JumpCloud emulator from ${escape(files[0]!.file)}: not valid JSON`),
    );
    fs.writeFileSync(files[1]!.file, JSON.stringify(jumpcloud.snapshot()));
    expect(() => restoreEmulator(files[1]!)).toThrow(
      new RegExp(
        `cannot restore the Notion emulator from ${escape(files[1]!.file)}: not a Notion snapshot: "emulator" is "jumpcloud"`,
      ),
    );
    expect(notion.snapshot()).toEqual(before);
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The saver's error reports, which these tests expect none of. */
const noErrors = (line: string) => {
  throw new Error(`unexpected save error: ${line}`);
};
