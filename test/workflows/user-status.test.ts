/** The status a user shows after a sync without error (SPEC §7), pure. */
import { deriveUserStatus, type SyncOutcome } from '../../workflows/user-status';

const outcome = (over: Partial<SyncOutcome> = {}): SyncOutcome => ({
  inScope: false,
  invalid: false,
  held: false,
  rejectionKept: false,
  protectedUser: false,
  deletedInJumpCloud: false,
  linked: false,
  ...over,
});

test('U1/U9: in scope is in sync, or error when the data cannot be provisioned', () => {
  expect(deriveUserStatus(outcome({ inScope: true, linked: true }))).toBe('in-sync');
  expect(deriveUserStatus(outcome({ inScope: true, invalid: true }))).toBe('error');
});

test('C6: a held deactivation shows as held before anything else', () => {
  expect(
    deriveUserStatus(
      outcome({
        held: true,
        rejectionKept: true,
        protectedUser: true,
        deletedInJumpCloud: true,
        linked: true,
      }),
    ),
  ).toBe('held');
});

test('C6/U6/U10/U4: out of scope: rejected, then protected, then deleted, then deactivated or out of scope', () => {
  expect(deriveUserStatus(outcome({ rejectionKept: true, protectedUser: true, linked: true }))).toBe(
    'rejected',
  );
  expect(deriveUserStatus(outcome({ protectedUser: true, deletedInJumpCloud: true, linked: true }))).toBe(
    'protected',
  );
  expect(deriveUserStatus(outcome({ deletedInJumpCloud: true, linked: true }))).toBe('deleted');
  expect(deriveUserStatus(outcome({ linked: true }))).toBe('deactivated');
  expect(deriveUserStatus(outcome())).toBe('out-of-scope');
});

test('C6 (issue 14): a held creation of a user in scope shows as held', () => {
  expect(
    deriveUserStatus({
      inScope: true,
      invalid: false,
      held: true,
      rejectionKept: false,
      protectedUser: false,
      deletedInJumpCloud: false,
      linked: false,
    }),
  ).toBe('held');
});
