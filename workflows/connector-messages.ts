/** Messages of the connector workflow, in a module of their own so that other workflows can signal it. */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ReconcileSummary, WorkerHealth } from '../activities';
import type { UserPolicy } from './user';

export interface Verification {
  verified: boolean;
  /** The exact reasons when not verified (credentials rejected, application not found…). */
  reasons: string[];
  at: string;
}

export interface ReconcileRecord {
  reconcileId: string;
  dryRun: boolean;
  startedAt: string;
  finishedAt?: string;
  summary?: ReconcileSummary;
  error?: string;
}

export interface ConnectorStatus {
  connectorId: string;
  activated: boolean;
  groupManagement: boolean;
  groupManagementChangedAt?: string;
  lastVerification?: Verification;
  lastReconcile?: ReconcileRecord;
  runningReconcile?: string;
  lastWorkerCheck?: { at: string; worker: string };
}

export const statusQuery = defineQuery<ConnectorStatus>('status');
/** Asks one worker of the cluster for its health, through an activity. */
export const checkWorkersUpdate = defineUpdate<WorkerHealth>('checkWorkers');
/** C1: verifies both credentials; activates when both work. */
export const activateUpdate = defineUpdate<Verification>('activate');
/** C2: stops every sync; Notion is left as it is. */
export const deactivateUpdate = defineUpdate<ConnectorStatus>('deactivate');
/**
 * G8: turns group management on or off. Off (the default, as in JumpCloud): groups and memberships
 * are left as they are in Notion and no group request is sent; users are still managed. On:
 * G1–G3 resume, with takeover by name.
 */
export const setGroupManagementUpdate = defineUpdate<ConnectorStatus, [boolean]>('setGroupManagement');
/** C5 on demand (C7 with `dryRun`): starts a reconciliation, answering its workflow id. */
export const startSyncUpdate = defineUpdate<
  { workflowId: string; reconcileId: string },
  [{ dryRun: boolean }]
>('startSync');
/** C8: which JumpCloud user `ref` (id, username or email) is, and the workers' user policy. */
export const resolveUserUpdate = defineUpdate<
  { jumpcloudUserId: string; username: string; policy: UserPolicy } | null,
  [string]
>('resolveUser');
export const reconcileFinishedSignal =
  defineSignal<[{ reconcileId: string; dryRun: boolean; summary?: ReconcileSummary; error?: string }]>(
    'reconcileFinished',
  );
