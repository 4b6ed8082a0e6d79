/**
 * Permits for bulk reads (ADR 0012), the activity side: a pool that leases permits from the
 * connector's pacer workflow a few at a time and hands them out one per request, asking for the
 * next lease before the stock runs out so that the requests keep to the rate, not to the round
 * trip of a lease.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { heartbeat } from '@temporalio/activity';
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import type { WorkerConfig } from '../config/config';
import {
  leasePermitsUpdate,
  MAX_LEASE,
  type LeaseRequest,
  type PacedService,
  type PacerInput,
} from '../contracts/pacer';
import { workflowIds } from '../temporal/ids';

/**
 * Permits per lease: half a second's worth of the rate (at least two, at most MAX_LEASE). A
 * lease's permits can be spent together, so this bounds the burst it adds to the server's own;
 * two at least, so that a slow rate keeps a lease in flight while one permit is spent
 * (measured at R = 3: one permit per lease sustained 70% of R).
 */
export function leaseSize(maxRps: number): number {
  return Math.max(2, Math.min(MAX_LEASE, Math.ceil(maxRps / 2)));
}

/** About 10 minutes of asking again (a pacer closing, a server restarting) before the activity fails. */
const MAX_LEASE_ATTEMPTS = 300;

/** One lease from the pacer, starting it if it is not running (it ends when idle). */
export async function leasePermits(
  temporal: Client,
  config: Pick<WorkerConfig, 'connectorId' | 'temporal'>,
  request: LeaseRequest,
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await whileAlive(
        temporal.workflow.executeUpdateWithStart(leasePermitsUpdate, {
          args: [request],
          startWorkflowOperation: new WithStartWorkflowOperation<(input: PacerInput) => Promise<void>>(
            'pacerWorkflow',
            {
              workflowId: workflowIds.pacer(config.connectorId),
              taskQueue: config.temporal.taskQueue,
              workflowIdConflictPolicy: 'USE_EXISTING',
              args: [{ connectorId: config.connectorId }],
            },
          ),
        }),
      );
    } catch (error) {
      // The pacer closing (continue-as-new, or idle) turns a lease away, or abandons it: the next
      // run takes it. The calling activity heartbeats meanwhile and its timeouts bound the wait.
      if (attempt >= MAX_LEASE_ATTEMPTS) throw error;
      await sleep(Math.min(2000, 100 * attempt));
    }
  }
}

/**
 * Hands out leased permits one per request. Without `prefetch` (an activity's few extra requests)
 * one lease is in flight at a time, for as many permits as requests wait (at most `size`). With
 * `prefetch` (a bulk read, which will need more) up to two leases are asked for ahead, so that the
 * requests keep to the rate rather than to a lease's round trip, and the rate-limited queue holds
 * a permit for each of its partitions even when one bulk read is all the work there is. Either
 * way at most two leases' worth is ever held or asked for.
 */
export class PermitPool {
  private stock = 0;
  /** Permits asked for and not granted yet. */
  private asked = 0;
  private failed = false;
  private readonly waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];

  constructor(
    private readonly size: number,
    private readonly lease: (count: number) => Promise<number>,
    private readonly options: { prefetch?: boolean } = {},
  ) {}

  take(): Promise<void> {
    if (this.stock > 0 && this.waiters.length === 0) {
      this.stock -= 1;
      this.pump();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.stock > 0 && this.waiters.length > 0) {
      this.stock -= 1;
      this.waiters.shift()!.resolve();
    }
    for (;;) {
      // After a failed lease, a bulk pool asks again only for a request that waits.
      const ahead = this.options.prefetch && (!this.failed || this.waiters.length > 0);
      const wanted = ahead
        ? this.stock + this.asked <= this.size
          ? this.size
          : 0
        : this.asked === 0 && this.waiters.length > 0
          ? Math.min(this.size, this.waiters.length)
          : 0;
      if (wanted === 0) return;
      this.ask(wanted);
    }
  }

  private ask(count: number): void {
    this.asked += count;
    this.lease(count)
      .then(
        (granted) => {
          this.stock += granted;
          this.failed = false;
        },
        (error: unknown) => {
          this.failed = true;
          // The requests waiting now fail (their activity retries); later ones ask again.
          const failure = error instanceof Error ? error : new Error(String(error));
          for (const waiter of this.waiters.splice(0)) waiter.reject(failure);
        },
      )
      .finally(() => {
        this.asked -= count;
        this.pump();
      });
  }
}

/**
 * Issue 15, for every activity of a worker process: the activity's dispatch from a rate-limited
 * queue pays for one request, and only one. Any further request it makes (the next pages of a
 * listing, a retried page) and every request of an activity on the main queue, which no rate
 * limit dispatches, takes a permit from the pacer first. So no activity can send more than the
 * cluster-wide rate allows, whatever it reads.
 */
export class RequestBudget {
  private readonly budget = new AsyncLocalStorage<{ free: number }>();
  private readonly pools: Record<PacedService, PermitPool>;

  constructor(lease: (request: LeaseRequest) => Promise<number>, rates: Record<PacedService, number>) {
    const pool = (service: PacedService) =>
      new PermitPool(leaseSize(rates[service]), (count) => lease({ service, count }));
    this.pools = { notion: pool('notion'), jumpcloud: pool('jumpcloud') };
  }

  /** Runs one activity whose dispatch paid for `free` requests (1 on an API queue, else 0). */
  run<T>(free: number, fn: () => Promise<T>): Promise<T> {
    return this.budget.run({ free }, fn);
  }

  /** The clients' hook before each request: free while the dispatch's request is unspent, else a permit. */
  beforeRequest(service: PacedService): () => Promise<void> {
    return async () => {
      const budget = this.budget.getStore();
      if (!budget) return; // not inside an activity (C1 checks from the command, tests)
      if (budget.free > 0) {
        budget.free -= 1;
        return;
      }
      await whileAlive(this.pools[service].take());
    };
  }
}

/** Awaits `promise`, heartbeating every 10 s: a permit may wait behind its queue's backlog. */
export async function whileAlive<T>(promise: Promise<T>): Promise<T> {
  heartbeat();
  const alive = setInterval(() => heartbeat(), 10_000);
  try {
    return await promise;
  } finally {
    clearInterval(alive);
  }
}

/** Every activity of `activities`, run inside the budget with `free` requests paid for. */
export function withRequestBudget<T extends Record<string, (...args: never[]) => Promise<unknown>>>(
  budget: RequestBudget | undefined,
  free: number,
  activities: T,
): T {
  if (!budget) return activities;
  return Object.fromEntries(
    Object.entries(activities).map(([name, activity]) => [
      name,
      (...args: never[]) => budget.run(free, () => activity(...args)),
    ]),
  ) as T;
}
