/** Bulk reads' permits (ADR 0012): the pool that hands out leased permits one per request, pure. */
import { leaseSize, PermitPool } from '../../activities/permits';

test('ADR 0012: a lease is half a second of the rate, at least two permits and at most ten', () => {
  expect(leaseSize(3)).toBe(2);
  expect(leaseSize(0.5)).toBe(2);
  expect(leaseSize(10)).toBe(5);
  expect(leaseSize(20)).toBe(10);
  expect(leaseSize(300)).toBe(10);
});

test("ADR 0012: a bulk read's pool spends each leased permit once and asks for the next lease before running out", async () => {
  const leases: number[] = [];
  const pool = new PermitPool(
    4,
    (count) => {
      leases.push(count);
      return Promise.resolve(count);
    },
    { prefetch: true },
  );
  for (let i = 0; i < 10; i++) await pool.take();
  // 10 permits taken: never more leased than taken plus one lease ahead (two at most held).
  const leased = leases.reduce((a, b) => a + b, 0);
  expect(leased).toBeGreaterThanOrEqual(10);
  expect(leased).toBeLessThanOrEqual(10 + 4 + 4);
  expect(leases.every((count) => count === 4)).toBe(true);
});

test("ADR 0012: without prefetch (an activity's extra requests) a lease is for the requests waiting, at most the lease size", async () => {
  const leases: number[] = [];
  const pool = new PermitPool(4, async (count) => {
    leases.push(count);
    await new Promise((resolve) => setTimeout(resolve, 5));
    return count;
  });
  await pool.take();
  await Promise.all(Array.from({ length: 6 }, () => pool.take()));
  expect(leases[0]).toBe(1);
  expect(leases.slice(1).reduce((a, b) => a + b, 0)).toBe(6);
  expect(Math.max(...leases)).toBeLessThanOrEqual(4);
});

test('ADR 0012: requests waiting together share one lease; a failed lease fails the request that needs it, and the next asks again', async () => {
  let calls = 0;
  let fail = true;
  const pool = new PermitPool(2, async (count) => {
    calls += 1;
    await new Promise((resolve) => setTimeout(resolve, 10));
    if (fail) throw new Error('pacer unreachable');
    return count;
  });
  await expect(pool.take()).rejects.toThrow('pacer unreachable');
  fail = false;
  await Promise.all([pool.take(), pool.take()]);
  expect(calls).toBeGreaterThanOrEqual(2);
  expect(calls).toBeLessThanOrEqual(3);
});

test('issue 15: a request withdrawn (its activity cancelled) leaves the pool, and the next request gets the permit', async () => {
  let release!: (count: number) => void;
  const pool = new PermitPool(1, () => new Promise<number>((resolve) => (release = resolve)));
  const cancelled = new AbortController();
  const first = pool.take(cancelled.signal);
  const second = pool.take();
  cancelled.abort(new Error('activity cancelled'));
  await expect(first).rejects.toThrow('activity cancelled');
  release(1);
  await expect(second).resolves.toBeUndefined();
});

test('issue 15: a closed pool fails its waiters, stops its leases and refuses new requests', async () => {
  const signals: AbortSignal[] = [];
  const pool = new PermitPool(2, (_count, signal) => {
    signals.push(signal);
    return new Promise<number>(() => undefined);
  });
  const waiting = pool.take();
  pool.close(new Error('the worker is stopping'));
  await expect(waiting).rejects.toThrow('the worker is stopping');
  expect(signals.every((signal) => signal.aborted)).toBe(true);
  await expect(pool.take()).rejects.toThrow('the worker is stopping');
});

test('issue 15: without prefetch, many requests waiting keep two leases in flight', async () => {
  const inFlight: number[] = [];
  let current = 0;
  const pool = new PermitPool(2, async (count) => {
    current += 1;
    inFlight.push(current);
    await new Promise((resolve) => setTimeout(resolve, 5));
    current -= 1;
    return count;
  });
  await Promise.all(Array.from({ length: 10 }, () => pool.take()));
  expect(Math.max(...inFlight)).toBe(2);
});
