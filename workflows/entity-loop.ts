/**
 * The loop every entity workflow (user, group) runs: wait for requests, converge once for all that
 * arrived together, one convergence at a time, and stop for continue-as-new when the history is
 * long, after every message handler has finished. The caller then continues-as-new with its state
 * and the requests still pending, so no signal is lost.
 */
import { allHandlersFinished, condition, workflowInfo } from '@temporalio/workflow';
import type { Mutex } from 'async-mutex';

export interface EntityLoop<R> {
  /** Requests received by the `sync` signal and not yet converged (carried over continue-as-new). */
  pending: R[];
  /** One convergence at a time: Update handlers that converge take the same lock. */
  lock: Mutex;
  /** Several requests at once converge once (pure: user-plan.ts, group-plan.ts). */
  merge: (batch: R[]) => R;
  converge: (request: R) => Promise<unknown>;
  /** Continue-as-new past this many events, even where the server does not suggest it. */
  maxHistoryEvents: number;
  /** While nothing is pending: a request to make by itself after a while (G7's retry). */
  idleRequest?: () => { afterMs: number; request: R } | undefined;
}

export async function runEntityLoop<R>(loop: EntityLoop<R>): Promise<void> {
  const { pending, lock } = loop;
  const shouldContinueAsNew = () =>
    workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > loop.maxHistoryEvents;
  const ready = () => (pending.length > 0 && !lock.isLocked()) || shouldContinueAsNew();
  for (;;) {
    const idle = loop.idleRequest?.();
    if (idle) {
      if (!(await condition(ready, idle.afterMs))) pending.push(idle.request);
    } else await condition(ready);
    if (shouldContinueAsNew()) break;
    const request = loop.merge(pending.splice(0));
    await lock.runExclusive(() => loop.converge(request));
  }
  await condition(allHandlersFinished);
}
