/**
 * Activities: every side effect of the product. Thin and idempotent; workflows import only
 * their types (`import type { Activities }`).
 */
import type { WorkerConfig } from '../config/config';
import { workerHealth, type WorkerHealth } from './health';

export interface ActivityDeps {
  config: WorkerConfig;
  /** The worker's identity, as Temporal shows it. */
  identity: string;
}

export function createActivities(deps: ActivityDeps) {
  return {
    /** Reports this worker's identity and configuration (without secrets). */
    async workerHealth(): Promise<WorkerHealth> {
      return Promise.resolve(workerHealth(deps.config, deps.identity));
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { WorkerHealth };
