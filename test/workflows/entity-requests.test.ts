/** Requests that arrive together converge once (the entity loop's merge), pure. */
import { mergeGroupRequests } from '../../workflows/group-plan';
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
    deactivation: 'approved',
    batch: { id: 'b', size: 2 },
  });
  expect(mergeSyncRequests([{ reason: 'only' }])).toEqual({
    reason: 'only',
    reconcileId: undefined,
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
    provisioned: { u1: 'n1', u2: 'n2' },
  });
});
