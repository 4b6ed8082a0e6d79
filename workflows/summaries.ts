/**
 * Issue 19: what the Temporal UI shows of an entity workflow: its summary (one line, who it is),
 * its current details (who, its links, its state and why) and each activity's summary (what the
 * step does to whom). Pure: workflow code and the gateway build them here, and the tests read the
 * same wording.
 *
 * Privacy (issue 16): summaries are payloads (they go through the payload codec, so they are
 * encrypted with the rest when encryption is on), but they are meant to be read. Unless the
 * admin allows it (`UI_SUMMARIES_PII=plain`, the default only when search attributes are plain
 * and encryption is off), they name people and groups by their JumpCloud and Notion ids only.
 */
import type { GroupState } from '../contracts/group';
import type { ReconcileProgress } from '../contracts/reconcile';
import type { UserState } from '../contracts/user';
import type { OutOfScopeReason } from './user-plan';

/** How to name people and groups in summaries: `personal` names them, otherwise only their ids. */
export interface SummaryPrivacy {
  personal: boolean;
}

/** Who a user is in a summary: the email (or username) when allowed and known, else its JumpCloud id. */
export function userLabel(
  privacy: SummaryPrivacy,
  jumpcloudUserId: string,
  known: { email?: string; username?: string } = {},
): string {
  const name = privacy.personal ? (known.email ?? known.username) : undefined;
  return name ?? `JumpCloud user ${jumpcloudUserId}`;
}

/** A group in a summary: `group "Engineering"` when allowed and known, else `JumpCloud group <id>`. */
export function groupLabel(privacy: SummaryPrivacy, jumpcloudGroupId: string, name?: string): string {
  return privacy.personal && name !== undefined ? `group "${name}"` : `JumpCloud group ${jumpcloudGroupId}`;
}

/** A user workflow's summary: `User kate@example.com (Kate Lee)`, or `User <JumpCloud id>` by ids only. */
export function userWorkflowSummary(
  privacy: SummaryPrivacy,
  jumpcloudUserId: string,
  known: { email?: string; username?: string; displayName?: string } = {},
): string {
  const name = privacy.personal ? (known.email ?? known.username) : undefined;
  if (!name) return `User ${jumpcloudUserId} (JumpCloud id)`;
  return `User ${name}${known.displayName ? ` (${known.displayName})` : ''}`;
}

/** A group workflow's summary: `Group "Engineering"`, or `Group <JumpCloud id>` by ids only. */
export function groupWorkflowSummary(
  privacy: SummaryPrivacy,
  jumpcloudGroupId: string,
  name?: string,
): string {
  return privacy.personal && name !== undefined
    ? `Group "${name}"`
    : `Group ${jumpcloudGroupId} (JumpCloud id)`;
}

const STATUS_WORDS: Record<string, string> = {
  pending: 'pending',
  'in-sync': 'in sync',
  deactivated: 'deactivated in Notion',
  deleted: 'deleted in JumpCloud, deactivated in Notion (delete the account by hand: U10)',
  'out-of-scope': 'out of scope, not in Notion',
  protected: 'protected (never deactivated)',
  held: 'held for an admin (jc-notion approve)',
  rejected: 'rejected by an admin',
  error: 'error',
  empty: 'empty (no Notion group until a member is provisioned)',
  unbound: 'unbound from the Notion app',
  missing: 'missing in JumpCloud (deletion not yet confirmed)',
  'rename-conflict': 'rename refused: another Notion group has the name',
  'deletion-refused': 'deletion refused by Notion',
  disabled: 'group management off (G8)',
};

/** A state in words, with why when the state has a reason (held, error). */
function stateLine(status: string, why?: string): string {
  return `**State:** ${STATUS_WORDS[status] ?? status}${why ? ` — ${why}` : ''}`;
}

/** What is held for an admin, and why. */
function heldWhy(held: NonNullable<UserState['held']>): string {
  const why = OUT_OF_SCOPE_WORDS[held.reason as OutOfScopeReason] ?? held.reason;
  return `${held.kind === 'create' ? 'its creation' : 'its deactivation'} (${why}) since ${held.since}`;
}

/** A user workflow's current details (Temporal markdown), kept up to date after each convergence. */
export function userDetails(privacy: SummaryPrivacy, jumpcloudUserId: string, state: UserState): string {
  const lines = [
    `**${userWorkflowSummary(privacy, jumpcloudUserId, state)}**`,
    `JumpCloud id: ${jumpcloudUserId}`,
    `Notion id: ${state.notionId ?? '(not linked)'}`,
    stateLine(state.status, state.held ? heldWhy(state.held) : state.error?.message),
  ];
  if (privacy.personal && state.username && state.email !== state.username)
    lines.splice(1, 0, `Username: ${state.username}`);
  if (state.lastSyncAt) lines.push(`Last sync: ${state.lastSyncAt}`);
  return lines.join('  \n');
}

/** A group workflow's current details. */
export function groupDetails(privacy: SummaryPrivacy, jumpcloudGroupId: string, state: GroupState): string {
  const lines = [
    `**${groupWorkflowSummary(privacy, jumpcloudGroupId, state.name)}**`,
    `JumpCloud id: ${jumpcloudGroupId}`,
    `Notion id: ${state.notionId ?? '(not created)'}`,
    stateLine(state.status, state.held?.reason ?? state.problem?.message),
    `Members (JumpCloud): ${state.lastMemberIds.length}`,
  ];
  if (state.lastSyncAt) lines.push(`Last sync: ${state.lastSyncAt}`);
  return lines.join('  \n');
}

/** Why a user is deactivated, in an activity's summary: `deactivate kate@example.com …: unbound from the Notion app`. */
export const OUT_OF_SCOPE_WORDS: Record<OutOfScopeReason, string> = {
  deleted: 'deleted in JumpCloud',
  suspended: 'suspended in JumpCloud',
  staged: 'not activated in JumpCloud (staged)',
  unbound: 'unbound from the Notion app',
};

const PHASE_WORDS: Record<ReconcileProgress['phase'], string> = {
  starting: 'starting',
  reading: 'reading JumpCloud and Notion',
  users: 'waiting for the users handed over to settle',
  groups: 'groups: handing over those that differ, then waiting for them to settle',
};

/** A reconciliation's current details: its phase and what it handed over so far. */
export function reconcileDetails(
  input: { reconcileId: string; dryRun: boolean },
  progress: ReconcileProgress,
): string {
  return [
    `**Reconciliation ${input.reconcileId}**${input.dryRun ? ' (dry run)' : ''}`,
    `**Phase:** ${PHASE_WORDS[progress.phase]}`,
    ...(progress.dispatched !== undefined ? [`Users handed over: ${progress.dispatched}`] : []),
    ...(progress.groupsDispatched !== undefined ? [`Groups handed over: ${progress.groupsDispatched}`] : []),
  ].join('  \n');
}
