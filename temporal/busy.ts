/**
 * Temporal turns an Update away while a workflow already has 10 in flight (the server's
 * `history.maxInFlightUpdates`, RESOURCE_EXHAUSTED), aborts one whose run closed under it
 * (UNAVAILABLE, "workflow update was aborted"), and rejects one that a workflow task completed
 * without answering (`UnprocessedUpdate`, seen under load). None of them was accepted, so the
 * workflow never ran it: each means "ask again shortly". Left to an activity's exponential backoff,
 * a burst of hundreds (a group of 300 unbound at once asking the connector about each deactivation)
 * took minutes to drain (issue 15); left to an admin command, it failed the command.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { untilAborted } from '../common/abort';
import { causeChain } from '../common/errors';

const RESOURCE_EXHAUSTED = 8;
const UNAVAILABLE = 14;

/** The server's failure type for an Update a completed workflow task did not answer. */
const UNPROCESSED_UPDATE = 'UnprocessedUpdate';

/**
 * True for the answers that mean the Update was not taken in (the workflow is busy with others,
 * or its task did not get to it), not that it failed.
 */
export function isBusyWithUpdates(error: unknown): boolean {
  // The outermost gRPC status is the answer; the SDK's wrappers carry no code of their own.
  let code: number | undefined;
  for (const cause of causeChain(error)) {
    if (code === undefined && typeof cause.code === 'number') code = cause.code;
    if (cause.type === UNPROCESSED_UPDATE) return true;
  }
  return code === RESOURCE_EXHAUSTED || code === UNAVAILABLE;
}

/**
 * Sends an Update, asking again (jittered, up to `maxWaitMs`) while the workflow is busy with
 * others. `signal` (the calling activity's cancellation) stops the waiting: an attempt that timed
 * out must not go on asking, holding its worker's slot.
 */
export async function updateWhenFree<T>(
  send: () => Promise<T>,
  options: { maxWaitMs?: number; onWait?: () => void; signal?: AbortSignal } = {},
): Promise<T> {
  const { signal } = options;
  const deadline = Date.now() + (options.maxWaitMs ?? 120_000);
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await untilAborted(send(), signal);
    } catch (error) {
      if (signal?.aborted || !isBusyWithUpdates(error) || Date.now() > deadline) throw error;
      options.onWait?.();
      // Cut short by the signal, whose reason the next turn throws.
      await sleep(Math.min(1000, 50 * attempt) * (0.5 + Math.random()), undefined, { signal }).catch(
        () => undefined,
      );
    }
  }
}
