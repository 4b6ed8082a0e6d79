/**
 * Activities: every side effect of the product, thin and idempotent. Three groups, one per task
 * queue (temporal/task-queues.ts): workflows import only their types.
 */
import { Context, log } from '@temporalio/activity';
import { ListingCheckpoints } from './listing-checkpoints';
import { secretValues } from '../config/config';
import { currentSecretValues } from '../config/secrets';
import { keepAlive } from './progress';
import { groupRequestSettingsOf, userPolicyOf, withPacedClients } from './clients';
import { withRequestBudget, type SlotParking } from './permits';
import { updateWhenFree } from '../temporal/busy';
import { workerHealth } from './health';
import { type WorkerHealth } from '../contracts/connector';
import { createJumpCloudActivities } from './jumpcloud';
import { dispatchGroups, type GroupDispatchInput } from './groups';
import { awaitReconciled, type AwaitReconciledInput } from './settle';
import { abortableCall } from '../common/abort';
import { notionIdOwners, nudgeUsers, provisionedNotionIds, type NotionIdOwner } from './links';
import { createNotionActivities } from './notion';
import { reconcileUsers, type ReconcileInput } from './reconcile';
import { handOverStartedSignal, type ReconcileSummary } from '../contracts/reconcile';
import type { UserPolicy } from '../contracts/user';
import { createNotifier, type Notification, type NotificationOutcome } from './notify';
import { createImportActivities } from './import';
import { pollFeed, type FeedPollInput, type FeedPollResult } from './feed';
import { ensureReconcileSchedule, pauseReconcileSchedule, type ScheduleState } from './schedule';
import { releaseHeldDeactivations } from './approval';
import { reconcileIdOf, workflowIds } from '../temporal/ids';
import {
  reconcileEndedUnreported,
  reconcileFinishedSignal,
  requestDeactivationUpdate,
  requestGroupChangeUpdate,
  reserveCreationsUpdate,
  reserveDeactivationsUpdate,
  statusQuery,
  type DeactivationBatch,
  type DeactivationDecision,
} from '../contracts/connector';
import { EntityGateway } from '../temporal/entities';
import { searchKeysFor } from '../temporal/search-keys';
import type { ActivityDeps } from './deps';

/** Activities of the main task queue: no single-request API calls. */
export function createActivities(deps: ActivityDeps) {
  const connector = (connectorId: string) =>
    deps.temporal.workflow.getHandle(workflowIds.connector(connectorId));
  /** The connector's Updates from activities, asked again while it is busy with others. */
  const askConnector = <T>(send: () => Promise<T>) => {
    // The activity's cancellation cancels the call itself, not only the waiting for it.
    const signal = Context.current().cancellationSignal;
    return updateWhenFree(() => abortableCall(deps.temporal, signal, send), {
      onWait: () => keepAlive(),
      signal,
    });
  };
  const gateway = new EntityGateway(deps.temporal, deps.config.temporal.taskQueue);
  const policy = userPolicyOf(deps.config);
  const notifier = createNotifier(deps.config, () =>
    currentSecretValues(secretValues(deps.config), deps.config.secretFiles),
  );
  const checkpoints = new ListingCheckpoints();
  return {
    ...createImportActivities(deps),
    /** Mail to NOTIFY_EMAIL through NOTIFY_SMTP_URL; logged only when they are unset. */
    async sendNotification(notification: Notification): Promise<NotificationOutcome> {
      const outcome = await notifier.send(notification);
      if (outcome.sent) log.info('notification sent', { subject: notification.subject, to: outcome.to });
      else log.warn('notification not mailed', { subject: notification.subject, reason: outcome.reason });
      return outcome;
    },
    /** Reports this worker's identity and configuration (without secrets). */
    async workerHealth(): Promise<WorkerHealth> {
      return Promise.resolve(workerHealth(deps.config, deps.identity));
    },
    /** C5/C7: plans every user and hands the differences to their workflows (or only plans). */
    async reconcileUsers(input: ReconcileInput): Promise<ReconcileSummary> {
      return withPacedClients(deps, (paced) =>
        reconcileUsers(
          {
            jumpcloud: paced.jumpcloud,
            notion: paced.notion,
            client: deps.temporal,
            appId: deps.config.jumpcloud.appId,
            taskQueue: deps.config.temporal.taskQueue,
            policy,
            dispatchWindow: deps.dispatchWindow,
            announceHandOver: async (users) => {
              const { info, cancellationSignal } = Context.current();
              // Run outside a workflow (no reconciliation to tell), there is nobody to tell.
              if (!info.workflowExecution) return;
              const { workflowId } = info.workflowExecution;
              await abortableCall(deps.temporal, cancellationSignal, () =>
                deps.temporal.workflow.getHandle(workflowId).signal(handOverStartedSignal, { users }),
              );
            },
            reserveDeactivations: (count) =>
              askConnector(() =>
                connector(input.connectorId).executeUpdate(reserveDeactivationsUpdate, {
                  args: [
                    { reconcileId: input.reconcileId, count, threshold: deps.config.deactivationThreshold },
                  ],
                }),
              ),
            reserveCreations: (count) =>
              askConnector(() =>
                connector(input.connectorId).executeUpdate(reserveCreationsUpdate, {
                  args: [
                    { reconcileId: input.reconcileId, count, threshold: deps.config.deactivationThreshold },
                  ],
                }),
              ),
            checkpoints,
            searchKeys: searchKeysFor(deps.config),
          },
          input,
        ),
      );
    },
    /** C4: the workers' feed settings (workflows read no environment). */
    async feedSettings(): Promise<{ pollIntervalMs: number; overlapMs: number }> {
      return Promise.resolve({
        pollIntervalMs: deps.config.pollIntervalMs,
        overlapMs: deps.config.feedOverlapMs,
      });
    },
    /** C4: one poll of Directory Insights, routed to the entity workflows. */
    async pollFeed(input: FeedPollInput): Promise<FeedPollResult> {
      return withPacedClients(deps, (paced) =>
        pollFeed(
          {
            jumpcloud: paced.jumpcloud,
            client: deps.temporal,
            appId: deps.config.jumpcloud.appId,
            taskQueue: deps.config.temporal.taskQueue,
            policy,
            groupSettings: groupRequestSettingsOf(deps.config),
            decideBatch: (request) =>
              askConnector(() =>
                connector(input.connectorId).executeUpdate(requestDeactivationUpdate, {
                  args: [{ ...request, forBatch: true, threshold: deps.config.deactivationThreshold }],
                }),
              ),
          },
          input,
        ),
      );
    },
    /** C5: creates (or updates and unpauses) the reconciliation Schedule. */
    async ensureReconcileSchedule(connectorId: string): Promise<ScheduleState> {
      return ensureReconcileSchedule(deps.temporal, {
        connectorId,
        taskQueue: deps.config.temporal.taskQueue,
        intervalMs: deps.config.reconcileIntervalMs,
      });
    },
    /** C2/C5: pauses the reconciliation Schedule. */
    async pauseReconcileSchedule(connectorId: string): Promise<ScheduleState | null> {
      return pauseReconcileSchedule(deps.temporal, connectorId);
    },
    /** What a scheduled reconciliation needs to know of its connector. */
    async connectorStatus(
      connectorId: string,
    ): Promise<{ activated: boolean; groupManagement: boolean; runningReconcile?: string }> {
      const handle = connector(connectorId);
      const status = await handle.query(statusQuery);
      let runningReconcile = status.runningReconcile;
      // C5: a reconciliation that was terminated (or timed out) never reports back; its record
      // must not make every scheduled run skip. The connector is told how it ended.
      if (runningReconcile) {
        const outcome = await gateway.status(runningReconcile);
        if (outcome !== 'RUNNING') {
          await handle.signal(reconcileFinishedSignal, {
            reconcileId: reconcileIdOf(runningReconcile),
            dryRun: false,
            error: reconcileEndedUnreported(outcome),
          });
          runningReconcile = undefined;
        }
      }
      return { activated: status.activated, groupManagement: status.groupManagement, runningReconcile };
    },
    /** C5: how a workflow stands in Temporal (`RUNNING`, `TERMINATED`…, `NOT_FOUND`). */
    async workflowStatus(workflowId: string): Promise<string> {
      return gateway.status(workflowId);
    },
    /** C6: asks the connector whether this user may be deactivated now (DEACTIVATION_THRESHOLD). */
    /** C6 (issue 14): may this group be created or deleted in Notion now? */
    async requestGroupChange(
      connectorId: string,
      request: { jumpcloudGroupId: string; change: 'create' | 'delete' },
    ): Promise<DeactivationDecision> {
      return askConnector(() =>
        connector(connectorId).executeUpdate(requestGroupChangeUpdate, {
          args: [{ ...request, threshold: deps.config.deactivationThreshold }],
        }),
      );
    },
    async requestDeactivation(
      connectorId: string,
      request: { jumpcloudUserId: string; batch?: DeactivationBatch },
    ): Promise<DeactivationDecision> {
      return askConnector(() =>
        connector(connectorId).executeUpdate(requestDeactivationUpdate, {
          args: [{ ...request, threshold: deps.config.deactivationThreshold }],
        }),
      );
    },
    /** C6: `approve` / `reject`: signals every held user (if as many as expected); answers how many. */
    async releaseHeldDeactivations(
      connectorId: string,
      decision: 'approve' | 'reject',
      expected?: number,
    ): Promise<number> {
      return releaseHeldDeactivations(deps.temporal, connectorId, decision, expected);
    },
    /** G2/G9 outside reconciliations: a user just provisioned joins its bound groups in Notion. */
    async nudgeGroups(
      connectorId: string,
      groupIds: string[],
      hint: { reason: string; provisioned: Record<string, string> },
    ): Promise<number> {
      const status = await connector(connectorId).query(statusQuery);
      if (!status.groupManagement || !status.activated) return 0;
      for (const id of new Set(groupIds))
        await gateway.syncGroup(connectorId, id, {
          reason: hint.reason,
          groupManagement: true,
          provisioned: hint.provisioned,
          ...groupRequestSettingsOf(deps.config),
        });
      return new Set(groupIds).size;
    },
    /** C5 for groups: hands every bound or linked group to its workflow (but those listings show in sync). */
    async dispatchGroups(input: GroupDispatchInput): Promise<number> {
      return dispatchGroups(
        {
          jumpcloud: deps.clients.jumpcloud,
          notion: deps.clients.notion,
          client: deps.temporal,
          appId: deps.config.jumpcloud.appId,
          taskQueue: deps.config.temporal.taskQueue,
          groupSettings: groupRequestSettingsOf(deps.config),
        },
        input,
      );
    },
    /** Issue 15: until `target` entities settled the reconciliation's request (activities/settle.ts). */
    async awaitReconciled(input: AwaitReconciledInput): Promise<{ settled: number; failed: number }> {
      return awaitReconciled(deps.temporal, input);
    },
    /** Progress of a reconciliation: entity workflows it has brought to a settled state. */
    async countReconciled(connectorId: string, reconcileId: string, kind: 'user' | 'group'): Promise<number> {
      return gateway.count({ connectorId, kind, reconcileId });
    },
    /** G9: the Notion ids of the provisioned users among these JumpCloud users. */
    async provisionedNotionIds(
      connectorId: string,
      jumpcloudUserIds: string[],
    ): Promise<Record<string, string>> {
      return provisionedNotionIds(deps.temporal, connectorId, jumpcloudUserIds);
    },
    /** Issue 14: the other users linked to this Notion member (one member, one JumpCloud user). */
    async notionIdOwners(
      connectorId: string,
      notionId: string,
      jumpcloudUserId: string,
    ): Promise<NotionIdOwner[]> {
      return notionIdOwners(deps.temporal, connectorId, notionId, jumpcloudUserId);
    },
    /** G6/G7: these users re-check their scope against JumpCloud now. */
    async nudgeUsers(
      connectorId: string,
      jumpcloudUserIds: string[],
      reason: string,
      batch?: DeactivationBatch,
    ): Promise<number> {
      return nudgeUsers(deps.temporal, connectorId, jumpcloudUserIds, reason, batch);
    },
    /** The worker's user policy (SPEC §2 settings that shape users), for requests made by workflows. */
    async userPolicy(): Promise<UserPolicy> {
      return Promise.resolve(policy);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { NotionActivities } from './notion';
export type { JumpCloudActivities } from './jumpcloud';
export type { WorkerHealth, ReconcileInput, ReconcileSummary };

/**
 * The activities of each task queue. An API queue's dispatch pays for one request; the main
 * queue's for none: every other request takes a permit (issue 15, RequestBudget), handing its
 * API queue's slot back meanwhile when `slots` are given (worker/slots.ts).
 */
export function createActivitiesByQueue(
  deps: ActivityDeps,
  slots: { notion?: SlotParking; jumpcloud?: SlotParking } = {},
) {
  return {
    main: withRequestBudget(deps.budget, 0, createActivities(deps)),
    notion: withRequestBudget(
      deps.budget,
      1,
      createNotionActivities(deps.clients.notion, deps.config.notion.protectedUsers),
      slots.notion,
    ),
    jumpcloud: withRequestBudget(
      deps.budget,
      1,
      createJumpCloudActivities(
        deps.clients.jumpcloud,
        deps.config.jumpcloud.appId,
        searchKeysFor(deps.config),
      ),
      slots.jumpcloud,
    ),
  };
}
export type { ActivityDeps } from './deps';
