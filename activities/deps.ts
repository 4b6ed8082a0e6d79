/** What every activity factory is given by the worker (worker/worker.ts). */
import type { Client } from '@temporalio/client';
import type { WorkerConfig } from '../config/config';
import type { ApiClients } from './clients';
import type { RequestBudget } from './permits';

export interface ActivityDeps {
  config: WorkerConfig;
  /** The worker's identity, as Temporal shows it. */
  identity: string;
  clients: ApiClients;
  /** For visibility queries and starting/signalling entity workflows. */
  temporal: Client;
  /** Issue 15: paces every request beyond the one an activity's dispatch paid for (the clients' hook). */
  budget?: RequestBudget;
  /** Issue 18: a reconciliation's users handed over and not yet settled, at most. */
  dispatchWindow?: number;
}
