/** The pure group planner: G1–G5, G7, G9, G10 (G6/G8 decide whether it runs at all). */
import {
  batches,
  checkDeletion,
  mergeGroupRequests,
  planGroup,
  type GroupPlanInput,
  type NotionGroupFacts,
} from '../../workflows/group-plan';

const jc = { id: '60404cdf8626c3345f178b91', name: 'Engineering' };
const group = (over: Partial<NotionGroupFacts> = {}): NotionGroupFacts => ({
  id: 'g-1',
  displayName: 'Engineering',
  memberIds: ['a', 'b'],
  ...over,
});
const plan = (over: Partial<GroupPlanInput>) =>
  planGroup({
    jumpcloud: jc,
    bound: true,
    desiredMemberIds: ['a', 'b'],
    linked: group(),
    sameName: null,
    ...over,
  });

test('G1: a linked group whose name and members match needs nothing', () => {
  expect(plan({})).toEqual({ operations: [] });
});

test('G2: an empty bound group is not created; it is created with its first provisioned member', () => {
  expect(plan({ linked: null, desiredMemberIds: [] })).toEqual({ operations: [], note: 'empty' });
  expect(plan({ linked: null, desiredMemberIds: ['b', 'a', 'a'] })).toEqual({
    operations: [{ kind: 'create', displayName: 'Engineering', addMemberIds: ['a', 'b'] }],
  });
});

test('G2: a created group that becomes empty stays, empty', () => {
  expect(plan({ desiredMemberIds: [] })).toEqual({
    operations: [{ kind: 'remove-members', notionId: 'g-1', memberIds: ['a', 'b'] }],
  });
});

test('G3: a Notion group with exactly the same name is adopted and its foreign members removed', () => {
  expect(plan({ linked: null, sameName: group({ id: 'g-9', memberIds: ['a', 'foreign'] }) })).toEqual({
    operations: [
      { kind: 'adopt', notionId: 'g-9' },
      { kind: 'add-members', notionId: 'g-9', memberIds: ['b'] },
      { kind: 'remove-members', notionId: 'g-9', memberIds: ['foreign'] },
    ],
  });
});

test('G3: adoption happens even for a group with no provisioned member yet', () => {
  expect(
    plan({ linked: null, desiredMemberIds: [], sameName: group({ id: 'g-9', memberIds: [] }) }).operations,
  ).toEqual([{ kind: 'adopt', notionId: 'g-9' }]);
});

test('G4/G9: only the difference is sent, for provisioned members only', () => {
  expect(plan({ desiredMemberIds: ['b', 'c'] }).operations).toEqual([
    { kind: 'add-members', notionId: 'g-1', memberIds: ['c'] },
    { kind: 'remove-members', notionId: 'g-1', memberIds: ['a'] },
  ]);
});

test('G4: 300 member changes make 3 batches, not 300 requests', () => {
  expect(
    batches(
      Array.from({ length: 300 }, (_, i) => i),
      100,
    ).map((b) => b.length),
  ).toEqual([100, 100, 100]);
});

test('G5: a rename keeps the Notion id', () => {
  expect(plan({ jumpcloud: { ...jc, name: 'Platform Engineering' } }).operations).toEqual([
    { kind: 'rename', notionId: 'g-1', displayName: 'Platform Engineering' },
  ]);
});

test("G5: a rename onto another Notion group's name is a visible conflict that overwrites nothing", () => {
  const result = plan({
    jumpcloud: { ...jc, name: 'Sales' },
    sameName: group({ id: 'g-2', displayName: 'Sales' }),
  });
  expect(result.operations).toEqual([
    { kind: 'rename-conflict', notionId: 'g-1', displayName: 'Sales', ownerId: 'g-2' },
  ]);
});

test('G5: names are compared exactly (case included)', () => {
  expect(plan({ jumpcloud: { ...jc, name: 'ENGINEERING' } }).operations).toEqual([
    { kind: 'rename', notionId: 'g-1', displayName: 'ENGINEERING' },
  ]);
});

test('G6: an unbound group is left exactly as it is', () => {
  expect(plan({ bound: false, desiredMemberIds: [] })).toEqual({ operations: [], note: 'unbound' });
});

test('G7: a managed group deleted in JumpCloud is deleted in Notion; an unmanaged one is not touched', () => {
  expect(plan({ jumpcloud: null })).toEqual({ operations: [{ kind: 'delete', notionId: 'g-1' }] });
  expect(plan({ jumpcloud: null, linked: null })).toEqual({ operations: [], note: 'deleted-unlinked' });
});

test('G10: a member added in Notion by hand is removed; one removed by hand is added back', () => {
  expect(plan({ linked: group({ memberIds: ['a', 'manual'] }) }).operations).toEqual([
    { kind: 'add-members', notionId: 'g-1', memberIds: ['b'] },
    { kind: 'remove-members', notionId: 'g-1', memberIds: ['manual'] },
  ]);
});

describe('G7 (issue 14): a 404 is a deletion only once confirmed', () => {
  const now = Date.parse('2026-12-03T10:00:00.000Z');
  const confirmMs = 15 * 60_000;

  test('G7: the first 404 is not a deletion: the group is read again after the confirmation delay', () => {
    expect(checkDeletion({ confirmMs, now })).toEqual({
      kind: 'unconfirmed',
      since: '2026-12-03T10:00:00.000Z',
      until: '2026-12-03T10:15:00.000Z',
      recheckInMs: confirmMs,
    });
  });

  test('G7: still missing before the delay has passed: not yet, and the next read is due when it has', () => {
    const check = checkDeletion({ missingSince: '2026-12-03T09:50:00.000Z', confirmMs, now });
    expect(check).toMatchObject({
      kind: 'unconfirmed',
      since: '2026-12-03T09:50:00.000Z',
      recheckInMs: 5 * 60_000,
    });
  });

  test('G7: still missing once the delay has passed: confirmed', () => {
    expect(checkDeletion({ missingSince: '2026-12-03T09:45:00.000Z', confirmMs, now })).toEqual({
      kind: 'confirmed',
    });
  });

  test("G7: JumpCloud's group_delete event confirms at once", () => {
    expect(checkDeletion({ deletedEvent: true, confirmMs, now })).toEqual({ kind: 'confirmed' });
  });

  test('G7: a group_delete event among merged requests still counts', () => {
    const merged = mergeGroupRequests([
      { reason: 'event group_delete', groupManagement: true, deletedEvent: true },
      { reason: 'reconcile', groupManagement: true, reconcileId: 'r1' },
    ]);
    expect(merged).toMatchObject({ reason: 'reconcile', reconcileId: 'r1', deletedEvent: true });
    expect(mergeGroupRequests([{ reason: 'reconcile', groupManagement: true }]).deletedEvent).toBeUndefined();
  });
});
