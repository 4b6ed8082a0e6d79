/**
 * Permits for bulk reads (ADR 0012), the activity side: a pool that leases permits from the
 * connector's pacer workflow a few at a time and hands them out one per request, asking for the
 * next lease before the stock runs out so that the requests keep to the rate, not to the round
 * trip of a lease.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import type { WorkerConfig } from '../config/config';
import { leasePermitsUpdate, MAX_LEASE, type LeaseRequest } from '../contracts/pacer';
import { workflowIds } from '../temporal/ids';
import type { pacerWorkflow } from '../workflows/pacer';

/**
 * Permits per lease: half a second's worth of the rate (at least one, at most MAX_LEASE). A
 * lease's permits can be spent together, so this bounds the burst it adds to the server's own.
 */
export function leaseSize(maxRps: number): number {
  return Math.max(1, Math.min(MAX_LEASE, Math.floor(maxRps / 2)));
}

/** One lease from the pacer, starting it if it is not running (it ends when idle). */
export async function leasePermits(
  temporal: Client,
  config: Pick<WorkerConfig, 'connectorId' | 'temporal'>,
  request: LeaseRequest,
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await temporal.workflow.executeUpdateWithStart(leasePermitsUpdate, {
        args: [request],
        startWorkflowOperation: new WithStartWorkflowOperation<typeof pacerWorkflow>('pacerWorkflow', {
          workflowId: workflowIds.pacer(config.connectorId),
          taskQueue: config.temporal.taskQueue,
          workflowIdConflictPolicy: 'USE_EXISTING',
          args: [{ connectorId: config.connectorId }],
        }),
      });
    } catch (error) {
      // The pacer closing (continue-as-new, or idle) turns a lease away: the next run takes it.
      if (attempt >= 20) throw error;
      await sleep(Math.min(2000, 100 * attempt));
    }
  }
}

/** Hands out leased permits one at a time; at most two leases' worth is ever held. */
export class PermitPool {
  private stock = 0;
  private refill: Promise<void> | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly size: number,
    private readonly lease: (count: number) => Promise<number>,
  ) {}

  async take(): Promise<void> {
    while (this.stock === 0) {
      if (this.failure !== undefined) {
        const failure = this.failure;
        this.failure = undefined;
        throw failure;
      }
      await this.startRefill();
    }
    this.stock -= 1;
    // Ask for the next lease while half of this one is left: the requests need not wait for it.
    if (this.stock < Math.ceil(this.size / 2)) void this.startRefill();
  }

  private startRefill(): Promise<void> {
    this.refill ??= this.lease(this.size)
      .then(
        (granted) => {
          this.stock += granted;
        },
        (error: unknown) => {
          this.failure = error instanceof Error ? error : new Error(String(error));
        },
      )
      .finally(() => {
        this.refill = undefined;
      });
    return this.refill;
  }
}
