/**
 * C1/C2: the workers' check before a Notion write (worker/worker.ts, `activationGate`): how often
 * it asks the connector, and that it never refuses on what was true before an `activate`.
 */
import { activationGate } from '../../worker/worker';

/** A connector whose state the test sets, counting the reads (each answered when released). */
function connector() {
  let activated = true;
  let deactivatedAt: string | undefined;
  let failing = false;
  const reads: (() => void)[] = [];
  return {
    reads,
    deactivate: () => {
      activated = false;
      deactivatedAt = '2026-12-07T03:00:00.000Z';
    },
    activate: () => {
      activated = true;
      deactivatedAt = undefined;
    },
    neverActivated: () => {
      activated = false;
      deactivatedAt = undefined;
    },
    fail: (value: boolean) => (failing = value),
    /** Answers every read under way, with the state as it is now. */
    answer: async () => {
      for (const release of reads.splice(0)) release();
      await new Promise((resolve) => setImmediate(resolve));
    },
    readStatus: () =>
      new Promise<{ activated: boolean; deactivatedAt?: string }>((resolve, reject) => {
        reads.push(() =>
          failing ? reject(new Error('unreachable')) : resolve({ activated, deactivatedAt }),
        );
      }),
  };
}

test('C2: while the connector is active, writes go on without waiting; its state is read again at most every 2 s, in the background', async () => {
  const state = connector();
  let clock = 0;
  let readsMade = 0;
  const gate = activationGate(
    () => {
      readsMade += 1;
      return state.readStatus();
    },
    2_000,
    () => clock,
  );
  // The first write waits for the first read.
  const first = gate();
  await state.answer();
  expect(await first).toBeUndefined();
  expect(readsMade).toBe(1);
  clock = 1_500;
  expect(await gate()).toBeUndefined(); // no read: fresh enough
  expect(readsMade).toBe(1);
  clock = 2_500;
  // Stale: the write goes on now, and one read starts for all the writes meanwhile.
  expect(await gate()).toBeUndefined();
  expect(await gate()).toBeUndefined();
  expect(readsMade).toBe(2);
  state.deactivate();
  await state.answer();
  // Deactivated: refused, on a read made for this write.
  clock = 3_000;
  const refused = gate();
  await state.answer();
  expect(await refused).toMatch(/deactivated at 2026-12-07T03:00:00.000Z \(C2\).*`jc-notion activate`/);
  expect(readsMade).toBe(3);
});

test('C2: a write is refused only on a read that started after it asked: the first write after `activate` goes through', async () => {
  const state = connector();
  let clock = 0;
  const gate = activationGate(state.readStatus, 2_000, () => clock);
  state.deactivate();
  const refused = gate();
  await state.answer();
  expect(await refused).toBeDefined();
  // Activated 100 ms later: the refusal known then is not reused, however fresh.
  state.activate();
  clock = 100;
  const allowed = gate();
  await state.answer();
  expect(await allowed).toBeUndefined();
});

test('C2: a read that fails keeps what was known: refused stays refused, and knowing nothing holds no write up', async () => {
  const state = connector();
  let clock = 0;
  const gate = activationGate(state.readStatus, 2_000, () => clock);
  state.fail(true);
  const unknown = gate();
  await state.answer();
  expect(await unknown).toBeUndefined(); // no connector to ask (yet): writes are not held up
  clock = 1_000;
  expect(await gate()).toBeUndefined(); // and not asked again before 2 s
  expect(state.reads).toHaveLength(0);

  state.fail(false);
  state.deactivate();
  clock = 5_000;
  void gate(); // stale: read in the background
  await state.answer();
  state.fail(true);
  clock = 5_100;
  const stillRefused = gate();
  await state.answer();
  expect(await stillRefused).toBeDefined();
});

test('C1: a connector never activated refuses every Notion write until `activate`, then writes go on', async () => {
  const state = connector();
  let clock = 0;
  const gate = activationGate(state.readStatus, 2_000, () => clock);
  state.neverActivated();
  const refused = gate();
  await state.answer();
  expect(await refused).toMatch(
    /not activated \(C1\): nothing is written to Notion before `jc-notion activate`/,
  );
  state.activate();
  clock = 50;
  const allowed = gate();
  await state.answer();
  expect(await allowed).toBeUndefined();
});
