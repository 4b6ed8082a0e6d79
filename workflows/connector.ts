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
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { z } from 'zod';
import type { Activities, JumpCloudActivities, NotionActivities } from '../activities';
import { workflowIds } from '../temporal/ids';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { taskQueues } from '../temporal/task-queues';
import {
  activateUpdate,
  checkWorkersUpdate,
  deactivateUpdate,
  reconcileFinishedSignal,
  resolveUserUpdate,
  setGroupManagementUpdate,
  startSyncUpdate,
  statusQuery,
  type ConnectorStatus,
  type Verification,
} from './connector-messages';
import { parseInput } from './entity';
import { reconcileWorkflow } from './reconcile';

export * from './connector-messages';

export const connectorInputSchema = z.object({
  connectorId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/),
  /** Carried over by continue-as-new. */
  state: z.custom<ConnectorStatus>((value) => typeof value === 'object' && value !== null).optional(),
});
export type ConnectorInput = z.infer<typeof connectorInputSchema>;
export type ConnectorState = ConnectorStatus;

const { workerHealth, userPolicy } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
});

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
    if (verification.verified) state.activated = true;
    return verification;
  });

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

  setHandler(reconcileFinishedSignal, ({ reconcileId, dryRun, summary, error }) => {
    if (!dryRun) {
      state.lastReconcile = {
        reconcileId,
        dryRun,
        startedAt: reconcileId.slice(0, 24),
        finishedAt: new Date().toISOString(),
        summary,
        error,
      };
      if (state.runningReconcile?.endsWith(reconcileId)) state.runningReconcile = undefined;
    }
  });

  await condition(
    () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS,
  );
  await condition(allHandlersFinished);
  await continueAsNew<typeof connectorWorkflow>({ connectorId: state.connectorId, state });
}

/** The message an admin needs: the API error's, not Temporal's wrapper. */
function failureMessage(error: unknown): string {
  if (error instanceof Error && error.cause instanceof Error) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}
