/** C6's arithmetic, pure: the rolling hour, batches decided once, reservations, the approval. */
import type { DeactivationGuardState } from '../../contracts/connector';
import {
  addToApproval,
  approvalAlert,
  decideDeactivation,
  decideGroupChange,
  DEACTIVATION_WINDOW_MS,
  grantedInWindow,
  pruneGuard,
  reserveCreations,
  reserveDeactivations,
} from '../../workflows/deactivation-ledger';

const T0 = Date.parse('2026-12-02T10:00:00Z');
const MIN = 60_000;
const empty = (): DeactivationGuardState => ({ ledger: [], batches: {} });

describe('C6: the rolling-hour window', () => {
  test('C6: deactivations up to the threshold are granted, the next one in the hour is held', () => {
    let guard = empty();
    for (let i = 0; i < 3; i++) {
      const result = decideDeactivation(pruneGuard(guard, T0 + i * MIN), { threshold: 3 }, T0 + i * MIN);
      expect(result.decision).toBe('granted');
      expect(result.held).toBeUndefined();
      guard = result.guard;
    }
    const fourth = decideDeactivation(pruneGuard(guard, T0 + 30 * MIN), { threshold: 3 }, T0 + 30 * MIN);
    expect(fourth.decision).toBe('held');
    expect(fourth.held).toEqual({
      count: 1,
      reason: 'more than 3 deactivations in one hour (DEACTIVATION_THRESHOLD)',
    });
    expect(grantedInWindow(fourth.guard)).toBe(3);
  });

  test('C6: a grant leaves the window one hour after it was made, not at the top of the hour', () => {
    let guard = empty();
    for (const at of [T0, T0 + 10 * MIN, T0 + 20 * MIN])
      guard = decideDeactivation(pruneGuard(guard, at), { threshold: 3 }, at).guard;
    // 59 minutes after the first: still three in the window.
    expect(
      decideDeactivation(pruneGuard(guard, T0 + 59 * MIN), { threshold: 3 }, T0 + 59 * MIN).decision,
    ).toBe('held');
    // One hour after the first: it has left, so one more fits.
    const later = decideDeactivation(pruneGuard(guard, T0 + 60 * MIN), { threshold: 3 }, T0 + 60 * MIN);
    expect(later.decision).toBe('granted');
    expect(later.guard.ledger.map((e) => e.at)).toEqual([T0 + 10 * MIN, T0 + 20 * MIN, T0 + 60 * MIN]);
  });

  test('C6: pruning drops expired grants and batch decisions, and honours a shorter window', () => {
    const guard: DeactivationGuardState = {
      ledger: [
        { at: T0, count: 2 },
        { at: T0 + 50 * MIN, count: 1 },
      ],
      batches: { old: { decision: 'held', at: T0 }, recent: { decision: 'granted', at: T0 + 50 * MIN } },
    };
    const pruned = pruneGuard(guard, T0 + DEACTIVATION_WINDOW_MS);
    expect(pruned.ledger).toEqual([{ at: T0 + 50 * MIN, count: 1 }]);
    expect(Object.keys(pruned.batches)).toEqual(['recent']);
    expect(pruneGuard(guard, T0 + 51 * MIN, 60_000).ledger).toEqual([]);
    expect(pruneGuard(undefined, T0)).toEqual(empty());
  });
});

describe('C6: batches', () => {
  test('C6: a batch is decided once for its whole size; its later members share the decision', () => {
    const first = decideDeactivation(empty(), { threshold: 5, batch: { id: 'group:g1', size: 4 } }, T0);
    expect(first.decision).toBe('granted');
    expect(grantedInWindow(first.guard)).toBe(4);
    const second = decideDeactivation(
      first.guard,
      { threshold: 5, batch: { id: 'group:g1', size: 4 } },
      T0 + 1,
    );
    expect(second.decision).toBe('granted');
    expect(grantedInWindow(second.guard)).toBe(4); // not counted twice
  });

  test('C6: a batch larger than the threshold is held, and each of its members adds one to the approval', () => {
    const batch = { id: 'group:g2', size: 12 };
    const first = decideDeactivation(empty(), { threshold: 10, batch }, T0);
    expect(first.decision).toBe('held');
    expect(first.held?.reason).toBe('one change would deactivate 12 users (DEACTIVATION_THRESHOLD 10)');
    const second = decideDeactivation(first.guard, { threshold: 10, batch }, T0 + 5);
    // Each member carries the batch's reason: when the feed asked for the batch first (issue 15),
    // a member is the first to add itself to the approval, and the admin must see why.
    expect(second).toMatchObject({
      decision: 'held',
      held: { count: 1, reason: 'one change would deactivate 12 users (DEACTIVATION_THRESHOLD 10)' },
    });
    expect(grantedInWindow(second.guard)).toBe(0);
  });
});

describe('C6: reservations by a reconciliation', () => {
  test('C6: a reconciliation reserves all its deactivations at once, or none', () => {
    const granted = reserveDeactivations(empty(), { count: 3, threshold: 5 }, T0);
    expect(granted.decision).toBe('granted');
    expect(granted.guard.ledger).toEqual([{ at: T0, count: 3 }]);
    const over = reserveDeactivations(granted.guard, { count: 3, threshold: 5 }, T0 + MIN);
    expect(over).toMatchObject({
      decision: 'held',
      held: { count: 3, reason: 'more than 5 deactivations in one hour (DEACTIVATION_THRESHOLD)' },
    });
    expect(grantedInWindow(over.guard)).toBe(3);
    const huge = reserveDeactivations(empty(), { count: 40, threshold: 5 }, T0);
    expect(huge.held?.reason).toBe('one reconciliation would deactivate 40 users (DEACTIVATION_THRESHOLD 5)');
  });
});

describe('C6: the approval', () => {
  test('C6: held deactivations add up; the first reason and start are kept', () => {
    const a = addToApproval(undefined, { count: 1, reason: 'first' }, '2026-12-02T10:00:00Z');
    const b = addToApproval({ ...a, alerted: true }, { count: 3, reason: 'second' }, '2026-12-02T10:05:00Z');
    expect(b).toEqual({ since: '2026-12-02T10:00:00Z', held: 4, reason: 'first', alerted: true });
    const alert = approvalAlert(b);
    expect(alert.subject).toBe('4 deactivation(s) await approval');
    expect(alert.text).toContain('Deactivations are held: first.');
    expect(alert.text).toContain('jc-notion approve');
  });
});

describe('C6 for a first bulk creation (issue 14)', () => {
  test('C6: a first reconciliation creating more than the threshold is held, with the reason an admin needs', () => {
    const result = reserveCreations(false, { count: 300, threshold: 25 });
    expect(result.decision).toBe('held');
    expect(result.trusted).toBe(false);
    expect(result.held).toEqual({
      count: 300,
      reason:
        'the first reconciliation would create 300 Notion members (DEACTIVATION_THRESHOLD 25): is JUMPCLOUD_APP_ID the right application?',
    });
  });

  test('C6: creations within the threshold are granted and make bulk creation trusted from then on', () => {
    expect(reserveCreations(false, { count: 10, threshold: 25 })).toEqual({
      decision: 'granted',
      trusted: true,
    });
    expect(reserveCreations(true, { count: 5000, threshold: 25 })).toEqual({
      decision: 'granted',
      trusted: true,
    });
  });

  test('C6: held creations count in the approval, and its alert speaks of changes', () => {
    const approval = addToApproval(
      undefined,
      { count: 300, reason: 'first' },
      '2026-12-03T10:00:00Z',
      'creation',
    );
    expect(approval).toMatchObject({ held: 300, creations: 300 });
    expect(approvalAlert(approval).subject).toBe('300 change(s) await approval');
  });
});

test('C6 (issue 14): group creations and deletions are counted in their own rolling hour; past the threshold they are held', () => {
  let guard = empty();
  for (let i = 0; i < 3; i++) {
    const result = decideGroupChange(guard, { threshold: 3, change: 'delete' }, T0 + i);
    expect(result.decision).toBe('granted');
    guard = result.guard;
  }
  const fourth = decideGroupChange(guard, { threshold: 3, change: 'create' }, T0 + 10);
  expect(fourth.decision).toBe('held');
  expect(fourth.held?.reason).toBe(
    'more than 3 group creations or deletions in one hour (DEACTIVATION_THRESHOLD)',
  );
  // Deactivations are not counted against groups, nor groups against deactivations.
  expect(grantedInWindow(guard)).toBe(0);
  const later = pruneGuard(guard, T0 + 61 * MIN);
  expect(decideGroupChange(later, { threshold: 3, change: 'create' }, T0 + 61 * MIN).decision).toBe(
    'granted',
  );
});
