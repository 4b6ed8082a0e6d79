/** A reconciliation's hand-overs (activities/dispatch.ts): a few at a time, none after its activity ended. */
import { handOverAll } from '../../activities/dispatch';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

test('C5: every item is handed over once, in order, at most `concurrency` at a time', async () => {
  const started: number[] = [];
  let running = 0;
  let most = 0;
  await handOverAll([...Array(50).keys()], 4, new AbortController().signal, async (item) => {
    started.push(item);
    running += 1;
    most = Math.max(most, running);
    await tick();
    running -= 1;
  });
  expect(started).toEqual([...Array(50).keys()]);
  expect(most).toBe(4);
});

test('C5: once the activity is cancelled (its reconciliation terminated), no further item is handed over', async () => {
  const cancel = new AbortController();
  const started: number[] = [];
  const outcome = handOverAll([...Array(100).keys()], 4, cancel.signal, async (item) => {
    started.push(item);
    if (item === 9) cancel.abort(new Error('activity cancelled'));
    await tick();
  });
  await expect(outcome).rejects.toThrow('activity cancelled');
  const count = started.length;
  // At most the hand-overs already under way when it was cancelled.
  expect(count).toBeLessThanOrEqual(10 + 3);
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(started).toHaveLength(count);
});

test('C5: a failed hand-over stops the other lanes and fails the activity once those under way have ended', async () => {
  const started: number[] = [];
  let running = 0;
  const outcome = handOverAll([...Array(100).keys()], 8, new AbortController().signal, async (item) => {
    started.push(item);
    running += 1;
    await tick();
    running -= 1;
    if (item === 5) throw new Error('Temporal unavailable');
  });
  await expect(outcome).rejects.toThrow('Temporal unavailable');
  expect(running).toBe(0);
  const count = started.length;
  expect(count).toBeLessThan(30);
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(started).toHaveLength(count);
});

test('C5: an empty list hands nothing over; a cancelled one starts nothing', async () => {
  await expect(
    handOverAll([], 16, new AbortController().signal, () => Promise.resolve()),
  ).resolves.toBeUndefined();
  const cancelled = new AbortController();
  cancelled.abort(new Error('cancelled before'));
  const started: number[] = [];
  await expect(
    handOverAll([1, 2], 2, cancelled.signal, (item) => {
      started.push(item);
      return Promise.resolve();
    }),
  ).rejects.toThrow('cancelled before');
  expect(started).toEqual([]);
});
