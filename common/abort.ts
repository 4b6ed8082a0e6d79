/** Waiting that an AbortSignal can cut short (an activity's cancellation, a worker stopping). */
import type { Client } from '@temporalio/client';

/** `promise`, or the abort's reason as soon as `signal` aborts (what was asked goes on unheard). */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(abortReason(signal));
    signal.addEventListener('abort', abort, { once: true });
    void promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

/** The abort's reason as an Error. */
export function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

/**
 * One Temporal client call that `signal` aborts, retries included, and that is not made at all
 * once `signal` has aborted: a call left running would outlive its activity and hold its worker's
 * shutdown (until `close()` of a `connectClosable` connection, which no retry outlives).
 *
 * The call gets a signal of its own, tied to `signal` for as long as the call runs: the client's
 * `withAbortSignal` adds a listener to the signal it is given for every request and never removes
 * it, so calls made under a long-lived signal (an activity's, a permit pool's) would pile up one
 * listener, and the request it holds, per call.
 */
export async function abortableCall<T>(
  client: Client,
  signal: AbortSignal,
  call: () => Promise<T>,
): Promise<T> {
  if (signal.aborted) throw abortReason(signal);
  const own = new AbortController();
  const abort = () => own.abort(abortReason(signal));
  signal.addEventListener('abort', abort, { once: true });
  try {
    // Rejects at the abort even if the call does not (an Update waiting on its workflow).
    return await untilAborted(client.withAbortSignal(own.signal, call), own.signal);
  } finally {
    signal.removeEventListener('abort', abort);
  }
}
