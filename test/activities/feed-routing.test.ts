/** C4 routing and cursor, pure (activities/feed-routing.ts). */
import { advanceCursor, pollStart, routeEvent } from '../../activities/feed-routing';

const APP = '64b7f0c2a1d3e4f5a6b7c8d9';
const USER = '5f0000000000000000000001';
const GROUP = '5f00000000000000000000a1';
const CHILD = '5f00000000000000000000a2';

const association = (op: string, from: [string, string], to: [string, string]) => ({
  id: 'e1',
  event_type: 'association_change',
  association: {
    op,
    connection: {
      from: { type: from[0], object_id: from[1], name: 'x' },
      to: { type: to[0], object_id: to[1], name: 'y' },
    },
  },
});

describe('C4: routing Directory Insights events', () => {
  test('user_* events go to the user; leaving events only to a user already managed', () => {
    const update = routeEvent(
      { id: 'e', event_type: 'user_update', resource: { type: 'user', id: USER } },
      APP,
    );
    expect(update.targets).toEqual([{ kind: 'user', id: USER, mode: 'check' }]);
    const suspended = routeEvent(
      { id: 'e', event_type: 'user_suspended', resource: { type: 'user', id: USER } },
      APP,
    );
    expect(suspended).toMatchObject({
      removal: true,
      targets: [{ kind: 'user', id: USER, mode: 'existing' }],
    });
    const deleted = routeEvent({ id: 'e', event_type: 'USER_DELETE', resource: { id: USER } }, APP);
    expect(deleted.targets).toEqual([{ kind: 'user', id: USER, mode: 'existing' }]);
  });

  test('group_* events go to the group; a deletion also asks for a reconciliation (its members are gone)', () => {
    const update = routeEvent(
      { id: 'e', event_type: 'group_update', resource: { type: 'user_group', id: GROUP } },
      APP,
    );
    expect(update.targets).toEqual([{ kind: 'group', id: GROUP, mode: 'check' }]);
    const deleted = routeEvent(
      { id: 'e', event_type: 'group_delete', resource: { type: 'user_group', id: GROUP } },
      APP,
    );
    expect(deleted.targets.map((t) => t.kind)).toEqual(['group', 'reconcile']);
    const systemGroup = routeEvent(
      { id: 'e', event_type: 'group_update', resource: { type: 'system_group', id: GROUP } },
      APP,
    );
    expect(systemGroup.targets).toEqual([]);
  });

  test('membership (user_group → user, lower or upper case, either orientation) reaches the user and the group', () => {
    for (const event of [
      association('add', ['user_group', GROUP], ['user', USER]),
      association('ADD', ['USER', USER], ['USER_GROUP', GROUP]),
    ]) {
      expect(routeEvent(event, APP).targets).toEqual([
        { kind: 'user', id: USER, mode: 'check' },
        { kind: 'group', id: GROUP, mode: 'check' },
      ]);
    }
    const removed = routeEvent(association('remove', ['user_group', GROUP], ['user', USER]), APP);
    expect(removed).toMatchObject({
      removal: true,
      targets: [{ kind: 'user', mode: 'existing' }, { kind: 'group' }],
    });
  });

  test('binding of this application to a group reaches the group and all its members; other applications are ignored', () => {
    const bound = routeEvent(association('add', ['application', APP], ['user_group', GROUP]), APP);
    expect(bound.targets).toEqual([
      { kind: 'group', id: GROUP, mode: 'bound' },
      { kind: 'members', groupId: GROUP, mode: 'bound' },
    ]);
    const unbound = routeEvent(association('remove', ['application', APP], ['user_group', GROUP]), APP);
    expect(unbound).toMatchObject({
      removal: true,
      targets: [{ mode: 'existing' }, { kind: 'members', mode: 'existing' }],
    });
    expect(
      routeEvent(association('add', ['application', '64b7f0c2a1d3e4f5a6b7c8da'], ['user', USER]), APP)
        .targets,
    ).toEqual([]);
    expect(routeEvent(association('add', ['application', APP], ['user', USER]), APP).targets).toEqual([
      { kind: 'user', id: USER, mode: 'bound' },
    ]);
  });

  test('nesting reaches the parent group and the child group members', () => {
    expect(routeEvent(association('add', ['user_group', GROUP], ['user_group', CHILD]), APP).targets).toEqual(
      [
        { kind: 'group', id: GROUP, mode: 'check' },
        { kind: 'members', groupId: CHILD, mode: 'check' },
      ],
    );
  });

  test('events of other kinds, or malformed ones, route nowhere', () => {
    expect(routeEvent({ id: 'e', event_type: 'system_create', resource: { id: USER } }, APP).targets).toEqual(
      [],
    );
    expect(
      routeEvent({ id: 'e', event_type: 'association_change', association: 'garbage' }, APP).targets,
    ).toEqual([]);
    expect(routeEvent({ id: 'e', event_type: 'user_update' }, APP).targets).toEqual([]);
  });
});

describe('C4: the cursor', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 11, 1, 12, 0, s)).toISOString();

  test('moves to the newest event and keeps the ids inside the overlap window (de-duplication)', () => {
    const cursor = advanceCursor(
      { watermark: at(0), seen: [] },
      [
        { id: 'a', timestamp: at(1) },
        { id: 'b', timestamp: at(20) },
        { id: 'c', timestamp: at(30) },
      ],
      15_000,
    );
    expect(cursor).toEqual({ watermark: at(30), seen: ['b', 'c'] });
    expect(pollStart(cursor, 15_000)).toBe(at(15));
  });

  test('a late event (older than the watermark, inside the window) is kept in seen once read; no event keeps the watermark', () => {
    const cursor = advanceCursor(
      { watermark: at(30), seen: ['c'] },
      [
        { id: 'late', timestamp: at(25) },
        { id: 'c', timestamp: at(30) },
      ],
      15_000,
    );
    expect(cursor).toEqual({ watermark: at(30), seen: ['late', 'c'] });
    expect(advanceCursor({ watermark: at(30), seen: ['c'] }, [], 15_000)).toEqual({
      watermark: at(30),
      seen: [],
    });
  });
});
