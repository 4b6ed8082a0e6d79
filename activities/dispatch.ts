/**
 * How a reconciliation hands its work to the entity workflows: a few hand-overs at a time, a
 * bounded number waiting to settle, and none after the activity has ended. A hand-over left
 * running after its activity failed or was cancelled (its reconciliation terminated, its timeout,
 * the worker stopping) would go on waking workflows nobody waits for, beside the retried
 * attempt's own.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { abortReason } from '../common/abort';

/** Before the item at `index` (0-based) is handed over: resolves when it may be. */
export type Admission = (index: number) => Promise<void>;

/**
 * Hands `items` to `handOver` in order, `concurrency` at a time, each once `admit` lets it
 * through. Once one hand-over fails or `signal` aborts, no further item is started; the promise
 * then rejects with that failure (or the abort's reason) after the hand-overs under way have ended.
 */
export async function handOverAll<T>(
  items: readonly T[],
  concurrency: number,
  signal: AbortSignal,
  handOver: (item: T) => Promise<void>,
  admit?: Admission,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (!failure && next < items.length) {
      if (signal.aborted) {
        failure = { error: abortReason(signal) };
        return;
      }
      const index = next++;
      try {
        if (admit) await admit(index);
        // Admission may have waited: the activity may have ended, or another lane failed, since.
        if (signal.aborted) throw abortReason(signal);
        if (failure) return;
        await handOver(items[index]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane));
  if (failure) throw failure.error;
}

export interface SettleWindowOptions {
  /** At most this many handed over and not yet settled. */
  size: number;
  /** How many of those handed over have settled so far (visibility: it may lag behind). */
  settled: () => Promise<number>;
  signal: AbortSignal;
  /** How often the count is read again while the window is full. */
  pollMs: number;
  /** While the window is full and nothing settles for this long, it widens by `size`. */
  stallMs: number;
  /** After this time (epoch ms) nothing waits: the window is open. */
  openAt: number;
  /** Called after each count read while the window is full (the activity's heartbeat). */
  onWait?: (state: { handedOver: number; settled: number; limit: number }) => void;
  now?: () => number;
}

/**
 * Issue 18: a reconciliation's window. Handing every user over at once puts thousands of
 * workflows in flight: more than the worker's cache holds (an evicted workflow is replayed from
 * its whole history for its next task) and a backlog of visibility tasks the server's queue
 * bookkeeping grows with. The window lets the item at `index` through once fewer than `size`
 * handed over before it have not settled.
 *
 * An entity that does not settle (it waits on rejected credentials or a held decision) holds its
 * place only until nothing has settled for `stallMs`; then the window widens by `size`, so a
 * stuck part never stops the others. The window opens entirely at `openAt` (before the activity's
 * own time is up), and a wait ends with the abort's reason once `signal` aborts.
 */
export function settleWindow(options: SettleWindowOptions): Admission {
  const now = options.now ?? Date.now;
  let settled = 0;
  let limit = options.size;
  let progressAt = now();
  let reading: Promise<void> | undefined;
  // One count read at a time, shared by the lanes that wait.
  const readAgain = () =>
    (reading ??= (async () => {
      try {
        await delay(options.pollMs, undefined, { signal: options.signal });
      } catch {
        throw abortReason(options.signal);
      }
      const count = await options.settled();
      if (count > settled) {
        settled = count;
        progressAt = now();
      } else if (now() - progressAt >= options.stallMs) {
        limit += options.size;
        progressAt = now();
      }
    })().finally(() => {
      reading = undefined;
    }));
  return async (index) => {
    while (index - settled >= limit && now() < options.openAt) {
      await readAgain();
      options.onWait?.({ handedOver: index, settled, limit });
    }
  };
}
