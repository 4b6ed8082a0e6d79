/**
 * One full reconciliation (`jcn/<connector>/reconcile/<id>`), started by the connector (on
 * `jc-notion sync`, later by a Schedule). The work is one activity that reads both sides in bulk
 * and signals only the users that differ; the summary goes back to the connector for `status`.
 */
import {
  getExternalWorkflowHandle,
  patched,
  setHandler,
  sleep,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  handOverStartedSignal,
  reconcileProgressQuery,
  type ReconcileProgress,
  type ReconcileSummary,
} from '../contracts/reconcile';
import { failureMessage } from './entity';
import { reconcileDetails, STEPS } from './summaries';
import { handlePermitRequests } from './permits';
import ms from 'ms';
import { reconcileIdOf, workflowIds } from '../temporal/ids';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { reconcileFinishedSignal, reconcileStartedSignal } from '../contracts/connector';
import type { ReconcileWorkflowInput } from '../contracts/reconcile';

/** How long the groups wait for the users handed over to converge first (G9). */
const USERS_BEFORE_GROUPS = '10 minutes';
/**
 * Issue 15: how long a reconciliation follows what it handed over before it reports (a user may
 * wait on a held deactivation or rejected credentials): 10 minutes, plus 100 ms per entity.
 */
const SETTLE_BASE_MS = 10 * 60_000;
const SETTLE_PER_ENTITY_MS = 100;

const { awaitReconciled } = proxyActivities<Activities>({
  startToCloseTimeout: '3 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute' },
});

/**
 * Waits until `target` entities settled this reconciliation's request (tagged `settleId`, by
 * default the reconcileId), or the deadline.
 */
async function awaitSettled(
  input: ReconcileWorkflowInput,
  kind: 'user' | 'group',
  target: number,
  settleId = input.reconcileId,
): Promise<{ settled: number; failed: number }> {
  const deadline = Date.now() + SETTLE_BASE_MS + SETTLE_PER_ENTITY_MS * target;
  let progress = { settled: 0, failed: 0 };
  while (target > 0) {
    progress = await awaitReconciled.executeWithOptions(
      { summary: STEPS.reconcile.awaitSettled(kind, target, progress.settled) },
      [
        {
          connectorId: input.connectorId,
          reconcileId: settleId,
          kind,
          target,
          waitMs: Math.max(0, Math.min(60_000, deadline - Date.now())),
        },
      ],
    );
    if (progress.settled >= target || Date.now() >= deadline) break;
  }
  return progress;
}

const { connectorStatus } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 5 },
});

// Issue 15: a reconciliation is never given up for transient errors (its pages are retried
// inside the activity first); permanent ones end it. Each attempt heartbeats, and `status` shows
// a running reconciliation's age, attempt and last error.
const { dispatchGroups, countReconciled } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '2 minutes' },
});

const { reconcileUsers } = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '10 seconds', maximumInterval: '2 minutes' },
});

/**
 * C5, asked under one name by both halves: a scheduled run looks at its connector, tells it that it
 * started, and looks again; the connector keeps the record of a reconciliation already running
 * rather than take the newcomer's.
 */
export const SCHEDULED_RUN_YIELDS_PATCH = 'c5-scheduled-run-yields';

export async function reconcileWorkflow(rawInput: ReconcileWorkflowInput): Promise<ReconcileSummary | null> {
  let input = rawInput;
  if (input.scheduled) {
    const { workflowId } = workflowInfo();
    const reconcileId = reconcileIdOf(workflowId);
    const status = await connectorStatus(input.connectorId);
    // C2: nothing runs while deactivated; C5: never two reconciliations at once.
    if (!status.activated || status.runningReconcile) return null;
    input = { ...input, reconcileId, groupManagement: status.groupManagement };
    await getExternalWorkflowHandle(workflowIds.connector(input.connectorId)).signal(reconcileStartedSignal, {
      workflowId,
      reconcileId,
    });
    // C5: a `sync` may have started one between the look and the signal; the connector then kept
    // that one's record, not this run's.
    if (patched(SCHEDULED_RUN_YIELDS_PATCH)) {
      const recorded = await connectorStatus(input.connectorId);
      if (recorded.runningReconcile !== workflowId) return null;
    }
  }
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.connectorId, value: input.connectorId },
    { key: SEARCH_ATTRIBUTES.kind, value: 'reconcile' },
    { key: SEARCH_ATTRIBUTES.reconcileId, value: input.reconcileId },
  ]);
  handlePermitRequests();
  const progress: ReconcileProgress = { phase: 'starting' };
  setHandler(reconcileProgressQuery, () => progress);
  // Issue 19: the UI's current details follow the phases.
  const phase = (next: ReconcileProgress['phase']) => {
    progress.phase = next;
    setCurrentDetails(reconcileDetails(input, progress));
  };
  // Issue 18: the hand-over lasts as long as the sync; its progress shows from its start.
  setHandler(handOverStartedSignal, ({ users }) => {
    if (progress.phase !== 'reading' || !Number.isInteger(users) || users < 0) return;
    progress.dispatched = users;
    phase('users');
  });
  const connector = getExternalWorkflowHandle(workflowIds.connector(input.connectorId));
  try {
    phase('reading');
    const summary = await reconcileUsers.executeWithOptions(
      {
        summary: STEPS.reconcile.readUsers(input.dryRun),
      },
      [input],
    );
    progress.dispatched = summary.dispatched;
    if (!input.dryRun && patched('reconcile-follows-its-own')) {
      // Issue 15: the reconciliation reports once what it handed over has settled, so that
      // `jc-notion sync` asks it, not visibility tags a later reconciliation overwrites.
      phase('users');
      // A retried attempt waits for its own users, not those an earlier one settled.
      const handedOver = summary.dispatched - (summary.settledEarlier ?? 0);
      const own = await awaitSettled(input, 'user', handedOver, summary.settleId);
      if (input.groupManagement) {
        phase('groups');
        summary.groupsDispatched = await dispatchGroups.executeWithOptions(
          { summary: STEPS.reconcile.dispatchGroups() },
          [{ connectorId: input.connectorId, reconcileId: input.reconcileId }],
        );
        progress.groupsDispatched = summary.groupsDispatched;
        setCurrentDetails(reconcileDetails(input, progress));
      }
      const groups = await awaitSettled(input, 'group', summary.groupsDispatched ?? 0);
      // Issue 15: a retried hand-over reports every attempt's users (they settle the
      // reconcileId too), not only those its last attempt handed over.
      let users = own;
      if (summary.settleId !== undefined && patched('reconcile-reports-every-attempt')) {
        users = await awaitReconciled.executeWithOptions({ summary: STEPS.reconcile.countEveryAttempt() }, [
          {
            connectorId: input.connectorId,
            reconcileId: input.reconcileId,
            kind: 'user',
            target: 0,
            waitMs: 0,
          },
        ]);
        // Users an earlier attempt handed over that settled only after this attempt planned.
        summary.dispatched = Math.max(summary.dispatched, users.settled);
      }
      summary.settled = {
        users: users.settled,
        failed: users.failed,
        ...(summary.groupsDispatched !== undefined ? { groups: groups.settled } : {}),
        complete: own.settled >= handedOver && groups.settled >= (summary.groupsDispatched ?? 0),
      };
    } else if (input.groupManagement && !input.dryRun) {
      // G9: users are provisioned before they are added to groups.
      const deadline = Date.now() + ms(USERS_BEFORE_GROUPS);
      while (
        summary.dispatched > 0 &&
        Date.now() < deadline &&
        (await countReconciled(input.connectorId, input.reconcileId, 'user')) < summary.dispatched
      ) {
        await sleep('1 second');
      }
      summary.groupsDispatched = await dispatchGroups({
        connectorId: input.connectorId,
        reconcileId: input.reconcileId,
      });
    }
    await connector.signal(reconcileFinishedSignal, {
      reconcileId: input.reconcileId,
      dryRun: input.dryRun,
      summary,
    });
    return summary;
  } catch (error) {
    await connector.signal(reconcileFinishedSignal, {
      reconcileId: input.reconcileId,
      dryRun: input.dryRun,
      error: failureMessage(error),
    });
    throw error;
  }
}
