/**
 * A reconciliation's hand-overs (activities/dispatch.ts): a few at a time, a bounded number
 * waiting to settle, none after its activity ended.
 */
import { handOverAll, settleWindow, type SettleWindowOptions } from '../../activities/dispatch';

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

/** Waits (up to 10 s) until `condition` holds: the window reads its count on a timer. */
async function eventually(condition: () => boolean): Promise<void> {
  const until = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** A window over a settled count the test moves; long stall and deadline unless given. */
function windowOf(size: number, counter: { settled: number }, options: Partial<SettleWindowOptions> = {}) {
  return settleWindow({
    size,
    settled: () => Promise.resolve(counter.settled),
    signal: new AbortController().signal,
    pollMs: 1,
    stallMs: 60_000,
    openAt: Number.MAX_SAFE_INTEGER,
    ...options,
  });
}

/** Hands items 0..count-1 over through `window`, recording each hand-over in `started`. */
function handOverRecorded(
  count: number,
  concurrency: number,
  window: ReturnType<typeof settleWindow>,
  signal = new AbortController().signal,
) {
  const started: number[] = [];
  const outcome = handOverAll(
    [...Array(count).keys()],
    concurrency,
    signal,
    (item) => {
      started.push(item);
      return Promise.resolve();
    },
    window,
  );
  return { started, outcome };
}

test('issue 18 (C5): the window hands an item over only while fewer than its size handed over before it have not settled', async () => {
  const counter = { settled: 0 };
  const { started, outcome: done } = handOverRecorded(10, 4, windowOf(3, counter));
  await eventually(() => started.length === 3);
  await new Promise((resolve) => setTimeout(resolve, 30));
  expect(started).toEqual([0, 1, 2]);
  counter.settled = 2;
  await eventually(() => started.length === 5);
  await new Promise((resolve) => setTimeout(resolve, 30));
  expect(started).toEqual([0, 1, 2, 3, 4]);
  counter.settled = 10;
  await done;
  expect(started).toEqual([...Array(10).keys()]);
});

test('issue 18 (C5): users that never settle (waiting on credentials or a hold) widen the window once nothing settled for a while; they never stop the others', async () => {
  const limits: number[] = [];
  let clock = 0;
  const { started, outcome } = handOverRecorded(
    9,
    2,
    windowOf(
      3,
      { settled: 0 },
      {
        // A clock that moves 10 ms per count read: nothing settles, and 25 ms is a stall.
        settled: () => {
          clock += 10;
          return Promise.resolve(0);
        },
        now: () => clock,
        stallMs: 25,
        onWait: ({ limit }) => limits.push(limit),
      },
    ),
  );
  await outcome;
  expect(started).toEqual([...Array(9).keys()]);
  // It widened by its size at a time: 3, then 6, then 9.
  expect([...new Set(limits)]).toEqual([3, 6, 9]);
});

test("issue 18 (C5): the window is open once its time is up (before the activity's own), and reads nothing then", async () => {
  const settled = jest.fn(() => Promise.resolve(0));
  const { started, outcome } = handOverRecorded(
    20,
    4,
    windowOf(2, { settled: 0 }, { settled, openAt: Date.now() }),
  );
  await outcome;
  expect(started).toHaveLength(20);
  expect(settled).not.toHaveBeenCalled();
});

test('issue 18 (C5): a cancelled activity stops waiting on its window at once, and hands nothing more over', async () => {
  const cancel = new AbortController();
  const { started, outcome } = handOverRecorded(
    10,
    4,
    windowOf(2, { settled: 0 }, { signal: cancel.signal, pollMs: 60_000 }),
    cancel.signal,
  );
  await eventually(() => started.length === 2);
  cancel.abort(new Error('activity cancelled'));
  await expect(outcome).rejects.toThrow('activity cancelled');
  expect(started).toEqual([0, 1]);
});

test('issue 18 (C5): a failed count read fails the hand-over like a failed hand-over, and nothing more is handed over', async () => {
  let reads = 0;
  const { started, outcome } = handOverRecorded(
    10,
    4,
    windowOf(
      2,
      { settled: 0 },
      {
        settled: () =>
          ++reads > 1 ? Promise.reject(new Error('visibility unavailable')) : Promise.resolve(0),
      },
    ),
  );
  await expect(outcome).rejects.toThrow('visibility unavailable');
  expect(started).toEqual([0, 1]);
});
