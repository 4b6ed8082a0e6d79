/**
 * Activities: every side effect of the product, thin and idempotent. Three groups, one per task
 * queue (temporal/task-queues.ts): workflows import only their types.
 */
import type { Client } from '@temporalio/client';
import type { WorkerConfig } from '../config/config';
import { activityInfo } from '@temporalio/activity';
import { requestPermitUpdate } from '../workflows/reconcile-messages';
import { createApiClients, type ApiClients } from './clients';
import { workerHealth, type WorkerHealth } from './health';
import { createJumpCloudActivities } from './jumpcloud';
import { countReconciled, dispatchGroups, type GroupDispatchInput } from './groups';
import { nudgeUsers, provisionedNotionIds } from './links';
import { createNotionActivities } from './notion';
import { reconcileUsers, type ReconcileInput, type ReconcileSummary } from './reconcile';
import type { UserPolicy } from '../workflows/user';

export interface ActivityDeps {
  config: WorkerConfig;
  /** The worker's identity, as Temporal shows it. */
  identity: string;
  clients: ApiClients;
  /** For visibility queries and starting/signalling entity workflows. */
  temporal: Client;
}

/** Activities of the main task queue: no single-request API calls. */
export function createActivities(deps: ActivityDeps) {
  const policy = {
    usernameSource: deps.config.usernameSource,
    protectedUsers: deps.config.notion.protectedUsers,
  };
  return {
    /** Reports this worker's identity and configuration (without secrets). */
    async workerHealth(): Promise<WorkerHealth> {
      return Promise.resolve(workerHealth(deps.config, deps.identity));
    },
    /** C5/C7: plans every user and hands the differences to their workflows (or only plans). */
    async reconcileUsers(input: ReconcileInput): Promise<ReconcileSummary> {
      // Bulk reads take a permit per request from the same cluster-wide budget as single requests.
      const execution = activityInfo().workflowExecution;
      if (!execution) throw new Error('reconcileUsers runs only inside a reconcile workflow');
      const reconcile = deps.temporal.workflow.getHandle(execution.workflowId);
      const paced = createApiClients(deps.config, {
        notion: () => reconcile.executeUpdate(requestPermitUpdate, { args: ['notion'] }),
        jumpcloud: () => reconcile.executeUpdate(requestPermitUpdate, { args: ['jumpcloud'] }),
      });
      try {
        return await reconcileUsers(
          {
            jumpcloud: paced.jumpcloud,
            notion: paced.notion,
            client: deps.temporal,
            appId: deps.config.jumpcloud.appId,
            taskQueue: deps.config.temporal.taskQueue,
            policy,
          },
          input,
        );
      } finally {
        await paced.close();
      }
    },
    /** C5 for groups: hands every bound or linked group to its workflow. */
    async dispatchGroups(input: GroupDispatchInput): Promise<number> {
      return dispatchGroups(
        {
          jumpcloud: deps.clients.jumpcloud,
          client: deps.temporal,
          appId: deps.config.jumpcloud.appId,
          taskQueue: deps.config.temporal.taskQueue,
        },
        input,
      );
    },
    /** Progress of a reconciliation: entity workflows it has brought to a settled state. */
    async countReconciled(connectorId: string, reconcileId: string, kind: 'user' | 'group'): Promise<number> {
      return countReconciled(deps.temporal, connectorId, reconcileId, kind);
    },
    /** G9: the Notion ids of the provisioned users among these JumpCloud users. */
    async provisionedNotionIds(
      connectorId: string,
      jumpcloudUserIds: string[],
    ): Promise<Record<string, string>> {
      return provisionedNotionIds(deps.temporal, connectorId, jumpcloudUserIds);
    },
    /** G6/G7: these users re-check their scope against JumpCloud now. */
    async nudgeUsers(connectorId: string, jumpcloudUserIds: string[], reason: string): Promise<number> {
      return nudgeUsers(deps.temporal, connectorId, jumpcloudUserIds, reason);
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

/** The activities of each task queue. */
export function createActivitiesByQueue(deps: ActivityDeps) {
  return {
    main: createActivities(deps),
    notion: createNotionActivities(deps.clients.notion),
    jumpcloud: createJumpCloudActivities(deps.clients.jumpcloud, deps.config.jumpcloud.appId),
  };
}
