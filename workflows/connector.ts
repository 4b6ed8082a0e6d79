/**
 * The connector workflow (`jcn/<connector>/connector`): one per connector, as long-lived as the
 * connector. It holds activation (C1/C2), group management and the last reconciliation, answers
 * `status`, and starts reconciliations. It continues-as-new before its history grows large, after
 * its message handlers have finished.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { z } from 'zod';
import type { Activities, JumpCloudActivities, NotionActivities } from '../activities';
import { workflowIds } from '../temporal/ids';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { taskQueues } from '../temporal/task-queues';
import {
  activateUpdate,
  checkWorkersUpdate,
  credentialsRejectedSignal,
  deactivateUpdate,
  decideDeactivationsUpdate,
  reconcileFinishedSignal,
  reconcileStartedSignal,
  requestDeactivationUpdate,
  reserveDeactivationsUpdate,
  resolveUserUpdate,
  setGroupManagementUpdate,
  startSyncUpdate,
  statusQuery,
  type ConnectorStatus,
  type DeactivationDecision,
  type DeactivationGuardState,
  type Verification,
} from '../contracts/connector';
import { failureMessage, parseInput } from './entity';
import { connectorIdSchema } from '../contracts/shared';
import { feedWorkflow } from './feed';
import { reconcileWorkflow } from './reconcile';

export const connectorInputSchema = z.object({
  connectorId: connectorIdSchema,
  /** Carried over by continue-as-new. */
  state: z.custom<ConnectorStatus>((value) => typeof value === 'object' && value !== null).optional(),
});
export type ConnectorInput = z.infer<typeof connectorInputSchema>;
export type ConnectorState = ConnectorStatus;

const { workerHealth, userPolicy, ensureReconcileSchedule, pauseReconcileSchedule } =
  proxyActivities<Activities>({
    startToCloseTimeout: '30 seconds',
    retry: { maximumAttempts: 3 },
  });

/** Alerts are worth some patience: the SMTP server may be down for a while. */
const { sendNotification, releaseHeldDeactivations } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', maximumAttempts: 10 },
});

const HOUR_MS = 3_600_000;

/** Keeps histories small even where the server does not suggest continue-as-new. */
const MAX_HISTORY_EVENTS = 2_000;

export async function connectorWorkflow(rawInput: ConnectorInput): Promise<void> {
  const input = parseInput(connectorInputSchema, rawInput, 'connector');
  const state: ConnectorStatus = input.state ?? {
    connectorId: input.connectorId,
    activated: false,
    groupManagement: false,
  };
  const queues = taskQueues(workflowInfo().taskQueue);
  // Verification answers an admin who waits: few attempts, short timeouts.
  const verify = {
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumAttempts: 2 },
  } as const;
  const notion = proxyActivities<NotionActivities>({ ...verify, taskQueue: queues.notion });
  const jumpcloud = proxyActivities<JumpCloudActivities>({ ...verify, taskQueue: queues.jumpcloud });

  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.connectorId, value: state.connectorId },
    { key: SEARCH_ATTRIBUTES.kind, value: 'connector' },
  ]);

  setHandler(statusQuery, () => state);

  async function startReconcile(dryRun: boolean): Promise<{ workflowId: string; reconcileId: string }> {
    const reconcileId = `${new Date().toISOString()}-${uuid4().slice(0, 8)}`;
    const workflowId = workflowIds.reconcile(state.connectorId, reconcileId);
    await startChild(reconcileWorkflow, {
      workflowId,
      args: [{ connectorId: state.connectorId, reconcileId, dryRun, groupManagement: state.groupManagement }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    if (!dryRun) state.runningReconcile = workflowId;
    return { workflowId, reconcileId };
  }

  setHandler(checkWorkersUpdate, async () => {
    const health = await workerHealth();
    state.lastWorkerCheck = { at: new Date().toISOString(), worker: health.worker };
    return health;
  });

  setHandler(activateUpdate, async (): Promise<Verification> => {
    const [notionCheck, jumpcloudCheck] = await Promise.allSettled([
      notion.notionVerifyCredentials(),
      jumpcloud.jumpcloudVerifyApplication(),
    ]);
    const reasons: string[] = [];
    if (notionCheck.status === 'rejected') reasons.push(`Notion: ${failureMessage(notionCheck.reason)}`);
    if (jumpcloudCheck.status === 'rejected')
      reasons.push(`JumpCloud: ${failureMessage(jumpcloudCheck.reason)}`);
    const verification: Verification = {
      verified: reasons.length === 0,
      reasons,
      at: new Date().toISOString(),
    };
    state.lastVerification = verification;
    if (verification.verified) {
      state.activated = true;
      if (state.credentials?.state === 'rejected') {
        // C1 just proved both credentials work.
        state.credentials = {
          ...state.credentials,
          state: 'ok',
          rejected: [],
          recoveredAt: new Date().toISOString(),
        };
      }
      if (patched('c4-c5-feed-and-schedule')) {
        await startFeed();
        state.schedule = await ensureReconcileSchedule(state.connectorId);
      }
    }
    return verification;
  });

  /** C4: the change feed runs while the connector is activated (one per connector). */
  async function startFeed(): Promise<void> {
    const workflowId = workflowIds.feed(state.connectorId);
    try {
      await startChild(feedWorkflow, {
        workflowId,
        args: [{ connectorId: state.connectorId, cursor: { watermark: new Date().toISOString(), seen: [] } }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
    } catch (error) {
      // Already polling (activated twice): its cursor is the one to keep.
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
    state.feed = workflowId;
  }

  setHandler(setGroupManagementUpdate, async (enabled) => {
    const wasEnabled = state.groupManagement;
    state.groupManagement = enabled;
    state.groupManagementChangedAt = new Date().toISOString();
    // G8: enabling resumes G1–G3 (takeover by name) at once when the connector is active.
    if (enabled && !wasEnabled && state.activated && !state.runningReconcile) await startReconcile(false);
    return state;
  });

  setHandler(deactivateUpdate, async () => {
    state.activated = false;
    // C2: every sync stops at once; what reached Notion stays as it is.
    if (state.runningReconcile) {
      await getExternalWorkflowHandle(state.runningReconcile)
        .cancel()
        .catch(() => undefined);
      state.runningReconcile = undefined;
    }
    if (patched('c4-c5-feed-and-schedule')) {
      await getExternalWorkflowHandle(workflowIds.feed(state.connectorId))
        .cancel()
        .catch(() => undefined); // not running: nothing to stop
      state.feed = undefined;
      const schedule = await pauseReconcileSchedule(state.connectorId);
      state.schedule = schedule ?? undefined;
    }
    return state;
  });

  setHandler(startSyncUpdate, ({ dryRun }) => startReconcile(dryRun), {
    validator: (_request: { dryRun: boolean }) => {
      // C1: nothing syncs before activation.
      if (!state.activated) throw new Error('the connector is not activated: run `jc-notion activate` first');
    },
  });

  setHandler(resolveUserUpdate, async (ref) => {
    const [user, policy] = await Promise.all([jumpcloud.jumpcloudFindUser(ref), userPolicy()]);
    return user ? { jumpcloudUserId: user.id, username: user.username, policy } : null;
  });

  setHandler(reconcileStartedSignal, ({ workflowId }) => {
    if (state.activated) state.runningReconcile = workflowId;
  });

  // ---- C3: credentials rejected ---------------------------------------------------------------
  const alerts: { subject: string; text: string }[] = [];
  let nextProbeAt = 0;
  setHandler(credentialsRejectedSignal, ({ service, since, detail, probeIntervalMs }) => {
    // Before activation, C1's verification reports a rejection to the admin directly.
    if (!state.activated) return;
    const credentials = state.credentials ?? { state: 'ok', rejected: [] };
    if (credentials.rejected.some((r) => r.service === service)) return; // another worker saw it too
    const wasOk = credentials.state === 'ok';
    state.credentials = {
      ...credentials,
      state: 'rejected',
      rejected: [...credentials.rejected, { service, since, detail }],
      probeIntervalMs,
    };
    nextProbeAt = Date.now() + probeIntervalMs;
    const name = service === 'notion' ? 'Notion SCIM token' : 'JumpCloud API key';
    alerts.push({
      subject: `credentials rejected: ${name}`,
      text: [
        `The ${name} was rejected (${detail}) at ${since}.`,
        wasOk
          ? 'Requests to this service are paused on every worker; nothing is retried entity by entity.'
          : '',
        `The connector tries the credentials again every ${Math.round(probeIntervalMs / 1000)} s and resumes by itself once they work:`,
        service === 'notion'
          ? "replace NOTION_SCIM_TOKEN in the workers' environment (a new token is used by the next request)."
          : "replace JUMPCLOUD_API_KEY in the workers' environment (a new key is used by the next request).",
      ]
        .filter(Boolean)
        .join('\n'),
    });
  });

  /** C3: one request per rejected service; the connector resumes when all of them work again. */
  async function probeCredentials(): Promise<void> {
    const credentials = state.credentials;
    if (!credentials || credentials.state !== 'rejected') return;
    const still = [];
    for (const rejected of credentials.rejected) {
      try {
        // The same checks as activation (C1): they go through the open guard.
        if (rejected.service === 'notion') await notion.notionVerifyCredentials();
        else await jumpcloud.jumpcloudVerifyApplication();
      } catch (error) {
        still.push({ ...rejected, detail: failureMessage(error) });
      }
    }
    const at = new Date().toISOString();
    if (still.length === 0) {
      state.credentials = { ...credentials, state: 'ok', rejected: [], lastProbeAt: at, recoveredAt: at };
      // The paused requests resume by themselves, but a change whose retries ran out during a
      // long outage (an hour) was left to the next reconciliation: catch up now instead.
      const catchUp = state.activated && !state.runningReconcile && patched('c3-catch-up-reconcile');
      if (catchUp) await startReconcile(false);
      alerts.push({
        subject: 'credentials accepted again',
        text: [
          `The credentials work again (checked at ${at}); requests have resumed.`,
          catchUp ? 'A reconciliation has started to catch up on anything the outage held up.' : '',
        ]
          .filter(Boolean)
          .join('\n'),
      });
    } else {
      state.credentials = { ...credentials, rejected: still, lastProbeAt: at };
    }
    nextProbeAt = Date.now() + (credentials.probeIntervalMs ?? 30_000);
  }

  // ---- C6: the mass-deactivation guard ------------------------------------------------------
  const guard = (): DeactivationGuardState => {
    state.deactivationGuard ??= { ledger: [], batches: {} };
    const now = Date.now();
    const { ledger, batches } = state.deactivationGuard;
    state.deactivationGuard.ledger = ledger.filter((entry) => now - entry.at < HOUR_MS);
    for (const [id, batch] of Object.entries(batches)) if (now - batch.at >= HOUR_MS) delete batches[id];
    return state.deactivationGuard;
  };
  const grantedLastHour = (g: DeactivationGuardState) =>
    g.ledger.reduce((sum, entry) => sum + entry.count, 0);

  function hold(count: number, reason: string): void {
    const first = !state.approval;
    state.approval = {
      since: state.approval?.since ?? new Date().toISOString(),
      held: (state.approval?.held ?? 0) + count,
      reason: state.approval?.reason ?? reason,
      alerted: state.approval?.alerted,
    };
    if (first) approvalAlertAt = Date.now() + APPROVAL_ALERT_DELAY_MS;
  }
  /** The alert waits a little so that it counts a whole batch, not its first member. */
  const APPROVAL_ALERT_DELAY_MS = 10_000;
  let approvalAlertAt = 0;

  setHandler(requestDeactivationUpdate, ({ threshold, batch }): DeactivationDecision => {
    const g = guard();
    const known = batch ? g.batches[batch.id] : undefined;
    if (known) {
      if (known.decision === 'held') hold(1, 'held');
      return known.decision;
    }
    const size = batch?.size ?? 1;
    const decision: DeactivationDecision = grantedLastHour(g) + size > threshold ? 'held' : 'granted';
    if (decision === 'granted') g.ledger.push({ at: Date.now(), count: size });
    else
      hold(
        1,
        batch && batch.size > threshold
          ? `one change would deactivate ${batch.size} users (DEACTIVATION_THRESHOLD ${threshold})`
          : `more than ${threshold} deactivations in one hour (DEACTIVATION_THRESHOLD)`,
      );
    if (batch) g.batches[batch.id] = { decision, at: Date.now() };
    return decision;
  });

  setHandler(reserveDeactivationsUpdate, ({ count, threshold }): DeactivationDecision => {
    const g = guard();
    if (count > threshold || grantedLastHour(g) + count > threshold) {
      hold(
        count,
        count > threshold
          ? `one reconciliation would deactivate ${count} users (DEACTIVATION_THRESHOLD ${threshold})`
          : `more than ${threshold} deactivations in one hour (DEACTIVATION_THRESHOLD)`,
      );
      return 'held';
    }
    g.ledger.push({ at: Date.now(), count });
    return 'granted';
  });

  setHandler(decideDeactivationsUpdate, async (decision) => {
    const users = await releaseHeldDeactivations(state.connectorId, decision);
    state.approval = undefined;
    state.lastApproval = { decision, at: new Date().toISOString(), users };
    return { decision, users };
  });

  setHandler(reconcileFinishedSignal, ({ reconcileId, dryRun, summary, error }) => {
    if (!dryRun) {
      state.lastReconcile = {
        reconcileId,
        dryRun,
        // `2026-12-01T20:00:00.000Z-1a2b3c4d` (on demand) or `scheduled-2026-12-01T20:00:00Z`.
        startedAt: /\d{4}-\d\d-\d\dT[\d:.]+Z/.exec(reconcileId)?.[0] ?? reconcileId,
        finishedAt: new Date().toISOString(),
        summary,
        error,
      };
      if (state.runningReconcile?.endsWith(reconcileId)) state.runningReconcile = undefined;
    }
  });

  const shouldContinueAsNew = () =>
    workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS;
  const rejected = () => state.credentials?.state === 'rejected';
  const approvalAlertDue = () => Boolean(state.approval && !state.approval.alerted);
  for (;;) {
    // Timers only while something is due (probes, the approval alert): an idle connector's
    // history stays as it was.
    const due = [
      rejected() ? nextProbeAt : undefined,
      approvalAlertDue() ? approvalAlertAt : undefined,
    ].filter((at): at is number => at !== undefined);
    const wake = () => shouldContinueAsNew() || alerts.length > 0;
    if (due.length > 0) await condition(wake, Math.max(1, Math.min(...due) - Date.now()));
    else await condition(() => wake() || rejected() || approvalAlertDue());
    // Alerts go out before continue-as-new, which does not carry them over.
    while (alerts.length > 0) {
      const alert = alerts.shift()!;
      await sendNotification(alert).catch(() => undefined); // the activity logs what it could not send
    }
    if (shouldContinueAsNew()) break;
    if (rejected() && Date.now() >= nextProbeAt) await probeCredentials();
    if (approvalAlertDue() && Date.now() >= approvalAlertAt && state.approval) {
      state.approval.alerted = true;
      alerts.push({
        subject: `${state.approval.held} deactivation(s) await approval`,
        text: [
          `Deactivations are held: ${state.approval.reason}.`,
          'Nothing else is held up. Review them with `jc-notion status`, then run `jc-notion approve` to apply them',
          'or `jc-notion reject` to drop them.',
        ].join('\n'),
      });
    }
  }
  await condition(allHandlersFinished);
  await continueAsNew<typeof connectorWorkflow>({ connectorId: state.connectorId, state });
}
