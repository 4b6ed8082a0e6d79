/**
 * An activity's Temporal calls end with it. When an activity is cancelled (its timeout, its
 * workflow's cancellation, the worker shutting down), the calls it has in flight through the
 * product's client are aborted, with their retries: the client's `withAbortSignal` covers each call
 * made in the activity's async context, however deep. Without it, a call waiting (a long poll, a
 * retry's backoff) outlived its cancelled activity, and then its client: the client's retry timer
 * threw "Channel has been shut down" once the connection was closed. (The signal cancels calls in
 * flight only, not later ones: a loop in an activity watches its cancellation itself, as
 * activities/settle.ts does with `Context.sleep`.)
 */
import type { Client } from '@temporalio/client';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

export function abortClientCallsOnCancel(client: Client): ActivityInterceptorsFactory {
  return (context) => ({
    inbound: {
      execute: (input, next) => client.withAbortSignal(context.cancellationSignal, () => next(input)),
    },
  });
}
