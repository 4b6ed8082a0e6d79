/**
 * How a reconciliation hands its work to the entity workflows: a few hand-overs at a time, and
 * none after the activity has ended. A hand-over left running after its activity failed or was
 * cancelled (its reconciliation terminated, its timeout, the worker stopping) would go on waking
 * workflows nobody waits for, beside the retried attempt's own.
 */
import { abortReason } from '../common/abort';

/**
 * Hands `items` to `handOver` in order, `concurrency` at a time. Once one hand-over fails or
 * `signal` aborts, no further item is started; the promise then rejects with that failure (or
 * the abort's reason) after the hand-overs under way have ended.
 */
export async function handOverAll<T>(
  items: readonly T[],
  concurrency: number,
  signal: AbortSignal,
  handOver: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (!failure && next < items.length) {
      if (signal.aborted) {
        failure = { error: abortReason(signal) };
        return;
      }
      const item = items[next++]!;
      try {
        await handOver(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane));
  if (failure) throw failure.error;
}
