/** Requests that arrive together converge once (the entity loop's merge), pure. */
import { mergeGroupRequests } from '../../workflows/group-plan';
import { rememberReconciles } from '../../workflows/entity';
import { mergeSyncRequests } from '../../workflows/user-plan';

test('C6: a user request merged with later hints keeps the admin decision, the batch and the reconcile id', () => {
  const merged = mergeSyncRequests([
    { reason: 'reconcile', reconcileId: 'r1', deactivation: 'approved', batch: { id: 'b', size: 2 } },
    { reason: 'event', policy: { usernameSource: 'email', protectedUsers: [] } },
    { reason: 'event 2' },
  ]);
  expect(merged).toEqual({
    reason: 'event 2',
    reconcileId: 'r1',
    reconcileIds: ['r1'],
    deactivation: 'approved',
    batch: { id: 'b', size: 2 },
  });
  expect(mergeSyncRequests([{ reason: 'only' }])).toEqual({
    reason: 'only',
    reconcileId: undefined,
    reconcileIds: [],
    deactivation: undefined,
    batch: undefined,
  });
});

test('G2/G9: a group request merged with others keeps every member link handed over and the latest reconcile id', () => {
  const merged = mergeGroupRequests([
    { reason: 'a', groupManagement: true, reconcileId: 'r1', provisioned: { u1: 'n1' } },
    { reason: 'b', groupManagement: true, reconcileId: 'r2', provisioned: { u2: 'n2' } },
    { reason: 'c', groupManagement: false },
  ]);
  expect(merged).toEqual({
    reason: 'c',
    groupManagement: false,
    reconcileId: 'r2',
    reconcileIds: ['r1', 'r2'],
    provisioned: { u1: 'n1', u2: 'n2' },
  });
});

test('issue 15 (C5): requests of two reconciliations that arrive together are settled for both, whatever their order', () => {
  // The second reconciliation's request may arrive first: the user settles both, and each
  // reconciliation counts it (the user used to carry only the id that arrived last).
  const merged = mergeSyncRequests([
    { reason: 'reconcile', reconcileId: 'second' },
    { reason: 'reconcile', reconcileId: 'first' },
  ]);
  expect(merged.reconcileIds).toEqual(['second', 'first']);
  const settled = rememberReconciles(['older'], merged.reconcileIds!);
  expect(settled).toEqual(['first', 'second', 'older']);
  expect(settled).toContain('second');
});

test('issue 15: an entity remembers its five latest reconciliations, newest first, each once', () => {
  let settled = rememberReconciles(undefined, ['r1']);
  for (const id of ['r2', 'r3', 'r2', 'r4', 'r5', 'r6']) settled = rememberReconciles(settled, [id]);
  expect(settled).toEqual(['r6', 'r5', 'r4', 'r2', 'r3']);
  expect(rememberReconciles(settled, [])).toEqual(settled);
});
