/**
 * Issue 19: all the wording of the Temporal UI's user metadata: a workflow's summary and details
 * when it starts (`STARTS`, and who an entity is: `userWorkflowSummary`, `groupWorkflowSummary`),
 * an entity's current details (who, its links, its state and why) and each activity's summary
 * (`STEPS`: what the step does to whom). Pure: workflow code, the activities, the gateway and the
 * CLI build them here, and the tests read the same wording.
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

/** `1 member`, `3 members`. */
const members = (count: number) => `${count} member${count === 1 ? '' : 's'}`;
const readBoundGroups = () => 'read the groups bound to the Notion app from JumpCloud';

/**
 * What a workflow shows when it starts: its static summary and details (a user's or a group's
 * summary is `userWorkflowSummary` or `groupWorkflowSummary`).
 */
export const STARTS = {
  user: {
    details: (connectorId: string, jumpcloudUserId: string) =>
      `JumpCloud user ${jumpcloudUserId} of connector ${connectorId}: its Notion account (U1–U11)`,
  },
  group: {
    details: (connectorId: string, jumpcloudGroupId: string) =>
      `JumpCloud group ${jumpcloudGroupId} of connector ${connectorId}: its Notion group (G1–G10)`,
  },
  connector: {
    summary: (connectorId: string) => `Connector ${connectorId}: JumpCloud → Notion`,
    details: () =>
      'Holds the connector: activation, credentials, its change feed and reconciliations (jc-notion status).',
  },
  feed: {
    summary: (connectorId: string) => `JumpCloud change feed of connector ${connectorId}`,
  },
  reconcile: {
    summary: (reconcileId: string, dryRun: boolean) =>
      `Reconciliation ${reconcileId}${dryRun ? ' (dry run: plans, writes nothing)' : ''}`,
    /** The Schedule's action: each run's id is only known when it starts. */
    scheduled: (connectorId: string) => `Scheduled reconciliation of connector ${connectorId}`,
  },
  import: {
    summary: (importId: string, connectorId: string) => `Import ${importId} into connector ${connectorId}`,
    batch: (importId: string, batch: number) => `Import ${importId}: batch ${batch}`,
  },
} as const;

/**
 * Each activity's summary: what the step does to whom. `who` and `group` are labels already
 * computed (`userLabel`, `groupLabel`), so what they may say of a person is decided there.
 */
export const STEPS = {
  user: {
    readJumpCloud: (who: string) => `read ${who} from JumpCloud`,
    readGroups: (who: string) => `read the groups of ${who} from JumpCloud`,
    readBoundGroups,
    readBoundUsers: () => 'read the users bound to the Notion app from JumpCloud',
    readNotion: (who: string, notionId: string) => `read ${who} from Notion (linked ${notionId})`,
    findInNotion: (who: string) => `look for ${who} among Notion's members`,
    /** After a create answered 409 (U3). */
    findExisting: (who: string) => `look for ${who} among Notion's members (already a member)`,
    create: (who: string) => `create ${who} in Notion`,
    reactivate: (who: string) => `reactivate ${who} in Notion (active=true)`,
    /** U7: the member's id is gone, POST re-adds the account. */
    readd: (who: string) => `re-add ${who} to Notion (its id is gone)`,
    update: (who: string, fields: readonly string[]) => `update ${who} in Notion: ${fields.join(', ')}`,
    deactivate: (who: string, reason: OutOfScopeReason) =>
      `deactivate ${who} in Notion (active=false): ${OUT_OF_SCOPE_WORDS[reason]}`,
    askDeactivation: (who: string) =>
      `ask the connector whether deactivating ${who} stays within DEACTIVATION_THRESHOLD (C6)`,
    nudgeGroups: (who: string, groups: number) => `ask its ${groups} bound group(s) to add ${who} (G9)`,
  },
  group: {
    readJumpCloud: (group: string) => `read ${group} from JumpCloud`,
    readBoundGroups,
    readMembers: (group: string) => `read the members of ${group} from JumpCloud`,
    findProvisioned: (count: number) => `look up which of the ${count} members are provisioned (G9)`,
    readNotion: (group: string, notionId: string) => `read ${group} from Notion (linked ${notionId})`,
    findByName: (group: string) => `look for ${group} by name in Notion`,
    nudgeMembers: (count: number, why: 'group unbound' | 'group deleted') =>
      `ask its ${count} last members to check their scope (${why})`,
    addMembers: (group: string, count: number) => `add ${members(count)} to ${group} in Notion`,
    removeMembers: (group: string, count: number) => `remove ${members(count)} from ${group} in Notion`,
    create: (group: string) => `create ${group} in Notion`,
    rename: (group: string) => `rename ${group} in Notion`,
    delete: (group: string) => `delete ${group} in Notion`,
    askChange: (group: string, what: 'creation' | 'deletion') =>
      `ask the connector whether the ${what} of ${group} stays within DEACTIVATION_THRESHOLD (C6)`,
  },
  connector: {
    workerHealth: () => 'ask a worker for its health and configuration (jc-notion status)',
    verifyNotion: () => 'verify the Notion SCIM token (GET /Users?count=1)',
    verifyJumpCloud: () => 'verify the JumpCloud API key and the Notion application (JUMPCLOUD_APP_ID)',
    ensureSchedule: () => 'create or resume the reconciliation Schedule (C5)',
    pauseSchedule: () => 'pause the reconciliation Schedule (C2)',
    findUser: () => 'look up the user jc-notion provision names in JumpCloud',
    userPolicy: () => "read the workers' user settings",
    notify: (subject: string) => `mail the admins (NOTIFY_EMAIL): ${subject}`,
    decideHeld: (decision: 'approve' | 'reject') =>
      `${decision} the held changes (C6: jc-notion ${decision})`,
    reconcileRunning: () => 'check whether the reconciliation on record still runs',
  },
  feed: {
    poll: (watermark: string) => `read JumpCloud's changes since ${watermark} and hand them over (C4)`,
  },
  reconcile: {
    readUsers: (dryRun: boolean) =>
      `read JumpCloud and Notion, hand each user that differs to its workflow${dryRun ? ' (dry run: plan only)' : ''}`,
    dispatchGroups: () => 'hand each bound or linked group that differs to its workflow',
    awaitSettled: (kind: 'user' | 'group', target: number, settled: number) =>
      `wait for the ${target} ${kind}(s) handed over to settle (${settled} so far)`,
    /** A retried hand-over: what its earlier attempts' users have settled too. */
    countEveryAttempt: () => "count the users every attempt's hand-over brought to a settled state",
  },
  /** No personal data in import summaries: a member is named by its place in the import. */
  import: {
    findByEmail: () => "look for the Notion member's email among JumpCloud's users (I2)",
    createUser: (attempt: number) =>
      `create the JumpCloud user for the Notion member (I2; username try ${attempt})`,
    addToGroup: (jumpcloudUserId: string, groupId: string) =>
      `add JumpCloud user ${jumpcloudUserId} to the bound group ${groupId} (I3)`,
    handOver: (users: number) => `hand the ${users} imported user(s) to their workflows`,
  },
} as const;
