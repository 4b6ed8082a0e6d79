/**
 * The status a user workflow shows (SPEC §7: `JcnSyncState`, `jc-notion status`) after a sync that
 * recorded no error. Pure: derived from what the sync found and decided.
 */
import type { UserStatus } from '../contracts/user';

export interface SyncOutcome {
  inScope: boolean;
  /** The JumpCloud data cannot be provisioned (U9). */
  invalid: boolean;
  /** C6: a deactivation (or a first reconciliation's creation) waits for an admin. */
  held: boolean;
  /** C6: an admin rejected the deactivation, and it was not proposed again. */
  rejectionKept: boolean;
  /** U6: a deactivation skipped for a protected user (NOTION_PROTECTED_USERS). */
  protectedUser: boolean;
  /** Deleted in JumpCloud while linked to a Notion member (U10). */
  deletedInJumpCloud: boolean;
  linked: boolean;
}

/** Held first (a held creation is in scope); in scope: in sync unless invalid; out of scope: the first of these that holds. */
export function deriveUserStatus(outcome: SyncOutcome): UserStatus {
  if (outcome.held) return 'held';
  if (outcome.inScope) return outcome.invalid ? 'error' : 'in-sync';
  if (outcome.rejectionKept) return 'rejected';
  if (outcome.protectedUser) return 'protected';
  if (outcome.deletedInJumpCloud) return 'deleted';
  return outcome.linked ? 'deactivated' : 'out-of-scope';
}
