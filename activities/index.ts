/**
 * Activities: every side effect of the product, thin and idempotent. Three groups, one per task
 * queue (temporal/task-queues.ts): workflows import only their types.
 */
import type { WorkerConfig } from '../config/config';
import type { ApiClients } from './clients';
import { workerHealth, type WorkerHealth } from './health';
import { createJumpCloudActivities } from './jumpcloud';
import { createNotionActivities } from './notion';

export interface ActivityDeps {
  config: WorkerConfig;
  /** The worker's identity, as Temporal shows it. */
  identity: string;
  clients: ApiClients;
}

/** Activities that call no external API (main task queue). */
export function createActivities(deps: Pick<ActivityDeps, 'config' | 'identity'>) {
  return {
    /** Reports this worker's identity and configuration (without secrets). */
    async workerHealth(): Promise<WorkerHealth> {
      return Promise.resolve(workerHealth(deps.config, deps.identity));
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { NotionActivities } from './notion';
export type { JumpCloudActivities } from './jumpcloud';
export type { WorkerHealth };

/** The activities of each task queue. */
export function createActivitiesByQueue(deps: ActivityDeps) {
  return {
    main: createActivities(deps),
    notion: createNotionActivities(deps.clients.notion),
    jumpcloud: createJumpCloudActivities(deps.clients.jumpcloud, deps.config.jumpcloud.appId),
  };
}
