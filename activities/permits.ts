/**
 * Permits for bulk reads (ADR 0012), the activity side: a pool that leases permits from the
 * connector's pacer workflow a few at a time and hands them out one per request, asking for the
 * next lease before the stock runs out so that the requests keep to the rate, not to the round
 * trip of a lease.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { keepAlive } from './progress';
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import type { WorkerConfig } from '../config/config';
import {
  leasePermitsUpdate,
  MAX_LEASE,
  type LeaseRequest,
  type PacedService,
  type PacerInput,
} from '../contracts/pacer';
import { abortableCall, abortReason } from '../common/abort';
import { workflowIds } from '../temporal/ids';
import { taskQueues } from '../temporal/task-queues';

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
  signal?: AbortSignal,
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      const send = () =>
        temporal.workflow.executeUpdateWithStart(leasePermitsUpdate, {
          args: [request],
          startWorkflowOperation: new WithStartWorkflowOperation<(input: PacerInput) => Promise<void>>(
            'pacerWorkflow',
            {
              workflowId: workflowIds.pacer(config.connectorId),
              taskQueue: taskQueues(config.temporal.taskQueue).control,
              workflowIdConflictPolicy: 'USE_EXISTING',
              args: [{ connectorId: config.connectorId }],
            },
          ),
        });
      // Aborting cancels the call itself, whose retries would otherwise outlive the connection.
      return await (signal ? abortableCall(temporal, signal, send) : send());
    } catch (error) {
      // The pacer closing (continue-as-new, or idle) turns a lease away, or abandons it: the next
      // run takes it. The activities waiting for it heartbeat meanwhile; their timeouts and
      // cancellation bound the wait, and the pool's end (`signal`) stops the asking.
      if (attempt >= MAX_LEASE_ATTEMPTS || signal?.aborted) throw error;
      await sleep(Math.min(2000, 100 * attempt), undefined, { signal }).catch(() => undefined);
    }
  }
}

/**
 * Hands out leased permits one per request. Without `prefetch` (activities' few extra requests)
 * permits are asked for the requests that wait, a lease at most `size`, two leases in flight at
 * most. With `prefetch` (a bulk read, which will need more) up to two leases are asked for ahead,
 * so that the requests keep to the rate rather than to a lease's round trip, and the rate-limited
 * queue holds a permit for each of its partitions even when one bulk read is all the work there
 * is. Either way at most two leases' worth is ever held or asked for.
 */
export class PermitPool {
  private stock = 0;
  /** Permits asked for and not granted yet, and the leases that ask for them. */
  private asked = 0;
  private leases = 0;
  private failed = false;
  private readonly waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  /** Aborted by `close`: the leases under way stop asking (each listens to it while it asks). */
  private readonly closed = withoutListenerCap(new AbortController());

  constructor(
    private readonly size: number,
    private readonly lease: (count: number, signal: AbortSignal) => Promise<number>,
    private readonly options: { prefetch?: boolean } = {},
  ) {}

  /** One permit; `signal` (the calling activity's cancellation) withdraws the request. */
  take(signal?: AbortSignal): Promise<void> {
    if (this.closed.signal.aborted) return Promise.reject(abortReason(this.closed.signal));
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.stock > 0 && this.waiters.length === 0) {
      this.stock -= 1;
      this.pump();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const withdraw = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(abortReason(signal!));
      };
      const waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', withdraw);
          resolve();
        },
        reject: (error: Error) => {
          signal?.removeEventListener('abort', withdraw);
          reject(error);
        },
      };
      signal?.addEventListener('abort', withdraw, { once: true });
      this.waiters.push(waiter);
      this.pump();
    });
  }

  /** Ends the pool (its activity, or the worker, stopped): waiters fail, leases stop asking. */
  close(reason = new Error('the permit pool is closed')): void {
    if (this.closed.signal.aborted) return;
    this.closed.abort(reason);
    for (const waiter of this.waiters.splice(0)) waiter.reject(reason);
  }

  private pump(): void {
    while (this.stock > 0 && this.waiters.length > 0) {
      this.stock -= 1;
      this.waiters.shift()!.resolve();
    }
    while (!this.closed.signal.aborted) {
      // After a failed lease, a bulk pool asks again only for a request that waits.
      const ahead = this.options.prefetch && (!this.failed || this.waiters.length > 0);
      const unasked = this.waiters.length - this.asked;
      const wanted = ahead
        ? this.stock + this.asked <= this.size
          ? this.size
          : 0
        : unasked > 0 && this.leases < 2
          ? Math.min(this.size, unasked)
          : 0;
      if (wanted === 0) return;
      this.ask(wanted);
    }
  }

  private ask(count: number): void {
    this.asked += count;
    this.leases += 1;
    this.lease(count, this.closed.signal)
      .then(
        (granted) => {
          this.stock += granted;
          this.failed = false;
        },
        (error: unknown) => {
          if (this.closed.signal.aborted) return;
          this.failed = true;
          // The requests waiting now fail (their activity retries); later ones ask again.
          const failure = error instanceof Error ? error : new Error(String(error));
          for (const waiter of this.waiters.splice(0)) waiter.reject(failure);
        },
      )
      .finally(() => {
        this.asked -= count;
        this.leases -= 1;
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
  private readonly budget = new AsyncLocalStorage<{ free: number; slots?: SlotParking }>();
  private readonly pools: Record<PacedService, PermitPool>;

  constructor(
    lease: (request: LeaseRequest, signal: AbortSignal) => Promise<number>,
    rates: Record<PacedService, number>,
  ) {
    const pool = (service: PacedService) =>
      new PermitPool(leaseSize(rates[service]), (count, signal) => lease({ service, count }, signal));
    this.pools = { notion: pool('notion'), jumpcloud: pool('jumpcloud') };
  }

  /**
   * Runs one activity whose dispatch paid for `free` requests (1 on an API queue, else 0).
   * `slots`: its worker's slots, handed back while it waits for a permit (worker/slots.ts).
   */
  run<T>(free: number, fn: () => Promise<T>, slots?: SlotParking): Promise<T> {
    return this.budget.run({ free, slots }, fn);
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
      await takePermit(this.pools[service], budget.slots);
    };
  }

  /** The workers stopped: whatever still waits for a permit fails, and no lease is asked again. */
  close(): void {
    for (const pool of Object.values(this.pools)) pool.close(new Error('the worker is stopping'));
  }
}

/** A worker's activity slots, which an activity can hand back while it waits (worker/slots.ts). */
export interface SlotParking {
  park<T>(waiting: Promise<T>): Promise<T>;
}

/**
 * One permit for the calling activity: it heartbeats while it waits (a permit may wait behind
 * its queue's backlog), withdraws its request when the activity is cancelled (a timed-out attempt
 * must not wait on, holding its slot), and hands its slot back meanwhile when `slots` is given.
 */
export function takePermit(pool: PermitPool, slots?: SlotParking): Promise<void> {
  const waiting = whileAlive(pool.take(Context.current().cancellationSignal));
  return slots ? slots.park(waiting) : waiting;
}

/** Awaits `promise`, heartbeating every 10 s. */
async function whileAlive<T>(promise: Promise<T>): Promise<T> {
  keepAlive();
  const alive = setInterval(() => keepAlive(), 10_000);
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
  slots?: SlotParking,
): T {
  if (!budget) return activities;
  return Object.fromEntries(
    Object.entries(activities).map(([name, activity]) => [
      name,
      (...args: never[]) => budget.run(free, () => activity(...args), slots),
    ]),
  ) as T;
}

function withoutListenerCap(controller: AbortController): AbortController {
  setMaxListeners(0, controller.signal);
  return controller;
}
