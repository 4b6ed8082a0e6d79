/**
 * One Temporal call of an activity, aborted (with its retries) when the activity is cancelled: its
 * timeout, its workflow's cancellation, the worker stopping. A call left running outlives its
 * activity and then its client (the client's retry timer then throws "Channel has been shut down").
 *
 * Per call, not around a whole activity: the client's `withAbortSignal` adds a listener to the
 * signal it is given for each call and never removes it, so an activity making thousands of calls
 * under its own signal would hold thousands of listeners (and their calls) until it ends. Here
 * each call gets a signal of its own, and the one listener on the activity's signal goes with it.
 */
import type { Client } from '@temporalio/client';

export async function abortOnCancel<T>(
  client: Client,
  cancelled: AbortSignal,
  call: () => Promise<T>,
): Promise<T> {
  if (cancelled.aborted) throw cancelled.reason;
  const own = new AbortController();
  const abort = () => own.abort(cancelled.reason);
  cancelled.addEventListener('abort', abort, { once: true });
  try {
    return await client.withAbortSignal(own.signal, call);
  } finally {
    cancelled.removeEventListener('abort', abort);
  }
}
