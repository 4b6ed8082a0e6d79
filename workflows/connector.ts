/**
 * The connector workflow (`jcn/<connector>/connector`): one per connector, as long-lived as the
 * connector. It holds activation (C1/C2), group management and the last reconciliation, answers
 * `status`, starts reconciliations, and wires in the C3 credentials watch (connector-credentials.ts)
 * and the C6 guard (connector-guard.ts). It continues-as-new before its history grows large, after
 * its message handlers have finished.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { z } from 'zod';
import {
  activateUpdate,
  type ActivationOptions,
  checkWorkersUpdate,
  deactivateUpdate,
  reconcileFinishedSignal,
  reconcileStartedSignal,
  resolveUserUpdate,
  setGroupManagementUpdate,
  startSyncUpdate,
  type StartedSync,
  statusQuery,
  type ConnectorStatus,
  type Verification,
} from '../contracts/connector';
import { connectorIdSchema } from '../contracts/shared';
import { reconcileIdOf, workflowIds } from '../temporal/ids';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { connectorContext } from './connector-context';
import { SCHEDULED_RUN_YIELDS_PATCH } from './reconcile';
import { handleCredentials } from './connector-credentials';
import { handleDeactivationGuard } from './connector-guard';
import { afterVerification } from './credentials-state';
import { failureMessage, parseInput } from './entity';
import { STEPS } from './summaries';

export const connectorInputSchema = z.lazy(() =>
  z.object({
    connectorId: connectorIdSchema,
    /** Carried over by continue-as-new. */
    state: z.custom<ConnectorStatus>((value) => typeof value === 'object' && value !== null).optional(),
    /** Test hook: C6's rolling window (default one hour). */
    deactivationWindowMs: z.number().int().positive().optional(),
  }),
);
export type ConnectorInput = z.infer<typeof connectorInputSchema>;
export type ConnectorState = ConnectorStatus;

/** Keeps histories small even where the server does not suggest continue-as-new. */
const MAX_HISTORY_EVENTS = 2_000;

export async function connectorWorkflow(rawInput: ConnectorInput): Promise<void> {
  const input = parseInput(connectorInputSchema, rawInput, 'connector');
  const state: ConnectorStatus = input.state ?? {
    connectorId: input.connectorId,
    activated: false,
    groupManagement: false,
  };
  const ctx = connectorContext(state);
  const { notion, jumpcloud, main } = ctx;

  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.connectorId, value: state.connectorId },
    { key: SEARCH_ATTRIBUTES.kind, value: 'connector' },
  ]);

  setHandler(statusQuery, () => state);

  /** C1: nothing syncs before activation (an Update refused here leaves no trace in history). */
  const requireActivated = () => {
    if (!state.activated) throw new Error('the connector is not activated: run `jc-notion activate` first');
  };

  setHandler(checkWorkersUpdate, async () => {
    const health = await main.workerHealth.executeWithOptions(
      { summary: STEPS.connector.workerHealth() },
      [],
    );
    state.lastWorkerCheck = { at: new Date().toISOString(), worker: health.worker };
    return health;
  });

  setHandler(activateUpdate, async (options?: ActivationOptions): Promise<Verification> => {
    const [notionCheck, jumpcloudCheck] = await Promise.allSettled([
      notion.notionVerifyCredentials.executeWithOptions({ summary: STEPS.connector.verifyNotion() }, []),
      jumpcloud.jumpcloudVerifyApplication.executeWithOptions(
        { summary: STEPS.connector.verifyJumpCloud() },
        [],
      ),
    ]);
    const reasons: string[] = [];
    if (notionCheck.status === 'rejected') reasons.push(`Notion: ${failureMessage(notionCheck.reason)}`);
    if (jumpcloudCheck.status === 'rejected')
      reasons.push(`JumpCloud: ${failureMessage(jumpcloudCheck.reason)}`);
    const at = new Date().toISOString();
    const verification: Verification = {
      verified: reasons.length === 0,
      reasons,
      at,
      ...(jumpcloudCheck.status === 'fulfilled' ? { application: jumpcloudCheck.value } : {}),
    };
    state.lastVerification = verification;
    if (verification.verified) {
      state.activated = true;
      delete state.deactivatedAt;
      if (options?.approveCreations) state.creationsTrusted = true;
      state.credentials = afterVerification(state.credentials, at); // C1 just proved both work
      if (patched('c4-c5-feed-and-schedule')) {
        await ctx.startFeed();
        state.schedule = await main.ensureReconcileSchedule.executeWithOptions(
          { summary: STEPS.connector.ensureSchedule() },
          [state.connectorId],
        );
      }
    }
    return verification;
  });

  setHandler(setGroupManagementUpdate, async (enabled) => {
    const wasEnabled = state.groupManagement;
    state.groupManagement = enabled;
    state.groupManagementChangedAt = new Date().toISOString();
    // G8: enabling resumes G1–G3 (takeover by name) at once when the connector is active.
    if (enabled && !wasEnabled && state.activated && !(await ctx.reconcileInProgress()))
      await ctx.startReconcile(false);
    return state;
  });

  setHandler(deactivateUpdate, async () => {
    state.activated = false;
    state.deactivatedAt = new Date().toISOString();
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
      const schedule = await main.pauseReconcileSchedule.executeWithOptions(
        { summary: STEPS.connector.pauseSchedule() },
        [state.connectorId],
      );
      state.schedule = schedule ?? undefined;
    }
    return state;
  });

  // C5: never two reconciliations at once. A `sync` while one runs (on demand or scheduled) follows
  // that one; `sync`s that arrive together share one start. A dry run writes nothing: it always
  // runs on its own.
  let syncStarting: Promise<StartedSync> | undefined;
  setHandler(
    startSyncUpdate,
    ({ dryRun }) => {
      if (dryRun || !patched('c5-one-reconciliation-at-a-time')) return ctx.startReconcile(dryRun);
      if (syncStarting) return syncStarting.then((started) => ({ ...started, alreadyRunning: true }));
      syncStarting = (async (): Promise<StartedSync> => {
        try {
          const running = (await ctx.reconcileInProgress()) ? state.runningReconcile : undefined;
          if (!running) return await ctx.startReconcile(false);
          return { workflowId: running, reconcileId: reconcileIdOf(running), alreadyRunning: true };
        } finally {
          syncStarting = undefined;
        }
      })();
      return syncStarting;
    },
    { validator: (_request: { dryRun: boolean }) => requireActivated() },
  );

  setHandler(
    resolveUserUpdate,
    async (ref) => {
      const [user, policy] = await Promise.all([
        jumpcloud.jumpcloudFindUser.executeWithOptions({ summary: STEPS.connector.findUser() }, [ref]),
        main.userPolicy.executeWithOptions({ summary: STEPS.connector.userPolicy() }, []),
      ]);
      return user ? { jumpcloudUserId: user.id, username: user.username, policy } : null;
    },
    // C1: `provision` (C8) asks here first: nothing syncs before activation, nor after `deactivate`.
    { validator: (_ref: string) => requireActivated() },
  );

  setHandler(reconcileStartedSignal, ({ workflowId }) => {
    if (!state.activated) return;
    // C5: a scheduled run that looked just before a `sync` started one does not take its place:
    // it looks again once it has told us, finds the other one, and skips.
    const another = state.runningReconcile !== undefined && state.runningReconcile !== workflowId;
    if (another && patched(SCHEDULED_RUN_YIELDS_PATCH)) return;
    state.runningReconcile = workflowId;
  });

  setHandler(reconcileFinishedSignal, (report) => ctx.reconcileEnded(report));

  // Timed work (C3 probes, C6's approval alert), each due at its own time.
  const timed = [handleCredentials(ctx), handleDeactivationGuard(ctx, input.deactivationWindowMs)];
  const shouldContinueAsNew = () =>
    workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS;
  for (;;) {
    // Timers only while something is due: an idle connector's history stays as it was.
    const due = timed.map((t) => t.dueAt()).filter((at): at is number => at !== undefined);
    const wake = () => shouldContinueAsNew() || ctx.alerts.length > 0;
    if (due.length > 0) await condition(wake, Math.max(1, Math.min(...due) - Date.now()));
    else await condition(() => wake() || timed.some((t) => t.dueAt() !== undefined));
    // Alerts go out before continue-as-new, which does not carry them over.
    while (ctx.alerts.length > 0) {
      const alert = ctx.alerts.shift()!;
      await ctx.patient.sendNotification
        .executeWithOptions({ summary: STEPS.connector.notify(alert.subject) }, [alert])
        .catch(() => undefined); // the activity logs what it could not send
    }
    if (shouldContinueAsNew()) break;
    for (const t of timed) await t.run(Date.now());
  }
  await condition(allHandlersFinished);
  await continueAsNew<typeof connectorWorkflow>({ ...input, state });
}
