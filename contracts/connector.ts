/**
 * The connector workflow's contract (`jcn/<connector>/connector`): its status, the Updates the
 * `jc-notion` command and other workflows send it (C1–C3, C6, C8), and the signals it takes.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ReconcileSummary } from './reconcile';
import type { UserPolicy } from './user';

export interface WorkerHealth {
  worker: string;
  hostname: string;
  pid: number;
  node: string;
  /** Seconds since the worker process started. */
  uptimeSeconds: number;
  /** Configuration as shown to admins: secrets are "set"/"unset". */
  configuration: Record<string, string | number | string[]>;
}

export interface Verification {
  verified: boolean;
  /** The exact reasons when not verified (credentials rejected, application not found…). */
  reasons: string[];
  at: string;
  /** C1: the JumpCloud application the connector acts for, as JumpCloud names it (issue 14). */
  application?: { id: string; name?: string; displayName?: string; ssoUrl?: string };
}

export interface ReconcileRecord {
  reconcileId: string;
  dryRun: boolean;
  startedAt: string;
  finishedAt?: string;
  summary?: ReconcileSummary;
  error?: string;
}

/** C3: a service whose credentials were rejected. */
export interface RejectedService {
  service: 'notion' | 'jumpcloud';
  since: string;
  detail: string;
}

export interface CredentialsStatus {
  state: 'ok' | 'rejected';
  rejected: RejectedService[];
  lastProbeAt?: string;
  /** How often the connector probes rejected credentials (the workers' CREDENTIALS_PROBE_INTERVAL). */
  probeIntervalMs?: number;
  recoveredAt?: string;
}

/** C6: deactivations held for an admin's decision. */
export interface ApprovalStatus {
  since: string;
  /** Deactivations held so far (the users are listed by `status`, from their workflows). */
  held: number;
  reason: string;
  alerted?: boolean;
  /** How many of the held changes are not deactivations (creations, group changes: issue 14). */
  creations?: number;
}

/** C6: what the guard has let through in the last hour. */
export interface DeactivationGuardState {
  /** Granted deactivations: when (ms since epoch) and how many. */
  ledger: { at: number; count: number }[];
  /** Group creations and deletions granted (ms since epoch), a window of their own (issue 14). */
  groupLedger?: number[];
  /** Decisions taken for a batch (one event, one reconciliation), applied to all its members. */
  batches: Record<string, { decision: DeactivationDecision; at: number; reason?: string }>;
}

export type DeactivationDecision = 'granted' | 'held';

export interface ConnectorStatus {
  connectorId: string;
  activated: boolean;
  /**
   * C2: when `deactivate` ran, until the next activation. The workers refuse Notion writes while
   * the connector is not activated, those of users handed over before it too (worker/worker.ts,
   * `activationGate`).
   */
  deactivatedAt?: string;
  groupManagement: boolean;
  groupManagementChangedAt?: string;
  lastVerification?: Verification;
  lastReconcile?: ReconcileRecord;
  runningReconcile?: string;
  lastWorkerCheck?: { at: string; worker: string };
  credentials?: CredentialsStatus;
  approval?: ApprovalStatus;
  lastApproval?: { decision: 'approve' | 'reject'; at: string; users: number };
  deactivationGuard?: DeactivationGuardState;
  /** C6 (issue 14): a bulk creation above the threshold was granted or approved once. */
  creationsTrusted?: boolean;
  /** C5: the Schedule of periodic reconciliations, while activated. */
  schedule?: { scheduleId: string; intervalMs: number; paused: boolean };
  /** C4: the change feed's workflow, while activated. */
  feed?: string;
}

export const statusQuery = defineQuery<ConnectorStatus>('status');
/** Asks one worker of the cluster for its health, through an activity. */
export const checkWorkersUpdate = defineUpdate<WorkerHealth>('checkWorkers');
/** C1: verifies both credentials; activates when both work. */
/**
 * C1's options. `approveCreations`: the admin has seen what the first reconciliation will create
 * (the preview of `activate`, or `sync --dry-run`) and approves it in advance (issue 14).
 */
export interface ActivationOptions {
  approveCreations?: boolean;
}
export const activateUpdate = defineUpdate<Verification, [ActivationOptions?]>('activate');
/** C2: stops every sync; Notion is left as it is. */
export const deactivateUpdate = defineUpdate<ConnectorStatus>('deactivate');
/**
 * G8: turns group management on or off. Off (the default, as in JumpCloud): groups and memberships
 * are left as they are in Notion and no group request is sent; users are still managed. On:
 * G1–G3 resume, with takeover by name.
 */
export const setGroupManagementUpdate = defineUpdate<ConnectorStatus, [boolean]>('setGroupManagement');
/** A reconciliation `sync` started, or the one already running that it follows (C5). */
export interface StartedSync {
  workflowId: string;
  reconcileId: string;
  /** C5: a reconciliation was already running; no second one was started. */
  alreadyRunning?: boolean;
}
/** C5 on demand (C7 with `dryRun`): starts a reconciliation, answering its workflow id. */
export const startSyncUpdate = defineUpdate<StartedSync, [{ dryRun: boolean }]>('startSync');
/** C8: which JumpCloud user `ref` (id, username or email) is, and the workers' user policy. */
export const resolveUserUpdate = defineUpdate<
  { jumpcloudUserId: string; username: string; policy: UserPolicy } | null,
  [string]
>('resolveUser');
/** C3: a worker's credential guard has opened (sent once per worker and opening). */
export const credentialsRejectedSignal =
  defineSignal<[RejectedService & { probeIntervalMs: number }]>('credentialsRejected');
/** C5: a scheduled reconciliation has started (so that `deactivate` can stop it and `status` show it). */
export const reconcileStartedSignal =
  defineSignal<[{ workflowId: string; reconcileId: string }]>('reconcileStarted');

/** A batch: the users one event or one reconciliation affects, decided together (C6). */
export interface DeactivationBatch {
  id: string;
  size: number;
}

/**
 * C6: may this user be deactivated now? `held` waits for `jc-notion approve`. `forBatch`: the feed
 * asks for a whole batch before signalling its users; a hold is then counted by each user as it
 * asks, not by this request.
 */
export const requestDeactivationUpdate = defineUpdate<
  DeactivationDecision,
  [{ jumpcloudUserId: string; threshold: number; batch?: DeactivationBatch; forBatch?: boolean }]
>('requestDeactivation');
/** C6: may this reconciliation deactivate `count` users? */
export const reserveDeactivationsUpdate = defineUpdate<
  DeactivationDecision,
  [{ reconcileId: string; count: number; threshold: number }]
>('reserveDeactivations');
/**
 * C6 for creations (issue 14): may this reconciliation create `count` Notion members? Held while
 * no bulk creation has been trusted yet (the first reconciliation after activation, or every one
 * after a rejection) and `count` is above the threshold: a wrong JUMPCLOUD_APP_ID would otherwise
 * provision everyone bound to that application.
 */
export const reserveCreationsUpdate = defineUpdate<
  DeactivationDecision,
  [{ reconcileId: string; count: number; threshold: number }]
>('reserveCreations');
/**
 * C6 for groups (issue 14): may this group be created or deleted in Notion now? More than the
 * threshold within the rolling hour are held for an admin, like deactivations.
 */
export const requestGroupChangeUpdate = defineUpdate<
  DeactivationDecision,
  [{ jumpcloudGroupId: string; change: 'create' | 'delete'; threshold: number }]
>('requestGroupChange');
/** C6: `jc-notion approve` / `reject`: releases or drops every held deactivation. */
/**
 * C6: an admin's decision on the held deactivations. `expect`: how many the admin saw held
 * (`status`); the decision is refused if the set has changed since (`approve --expect N`). A bare
 * decision is the form earlier clients sent.
 */
export type DeactivationsDecision =
  { decision: 'approve' | 'reject'; expect?: number } | 'approve' | 'reject';

export const decideDeactivationsUpdate = defineUpdate<
  { decision: 'approve' | 'reject'; users: number },
  [DeactivationsDecision]
>('decideDeactivations');

/** How a reconciliation ended: its summary, or the error it ended with. */
export interface ReconcileReport {
  reconcileId: string;
  dryRun: boolean;
  summary?: ReconcileSummary;
  error?: string;
}

export const reconcileFinishedSignal = defineSignal<[ReconcileReport]>('reconcileFinished');

/** C5: the error recorded for a reconciliation that ended without reporting back (terminated…). */
export function reconcileEndedUnreported(status: string): string {
  return `the reconciliation ended without reporting back (${status.toLowerCase().replace(/_/g, ' ')})`;
}
