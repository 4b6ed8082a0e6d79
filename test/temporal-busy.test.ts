/** Issue 15: an Update turned away because the workflow is busy with others is asked again. */
import { isBusyWithUpdates, updateWhenFree } from '../temporal/busy';

const grpcError = (code: number, message: string) => Object.assign(new Error(message), { code });

test('issue 15 (C6): "too many in-flight updates" (RESOURCE_EXHAUSTED) and an aborted Update are asked again; other errors are not', async () => {
  expect(
    isBusyWithUpdates(grpcError(8, 'Limit on number of concurrent in-flight updates has been reached (10)')),
  ).toBe(true);
  expect(
    isBusyWithUpdates(new Error('wrapped', { cause: grpcError(14, 'workflow update was aborted') })),
  ).toBe(true);
  expect(isBusyWithUpdates(grpcError(5, 'not found'))).toBe(false);
  expect(isBusyWithUpdates(new Error('validator refused'))).toBe(false);

  let calls = 0;
  const answer = await updateWhenFree(() => {
    calls += 1;
    return calls < 4
      ? Promise.reject(grpcError(8, 'Limit on number of concurrent in-flight updates has been reached (10)'))
      : Promise.resolve('granted');
  });
  expect([answer, calls]).toEqual(['granted', 4]);
  await expect(updateWhenFree(() => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
});

test('issue 15: a cancelled activity stops asking, and stops waiting for an Update under way', async () => {
  const cancelled = new AbortController();
  let calls = 0;
  const asking = updateWhenFree(
    () => {
      calls += 1;
      return Promise.reject(
        grpcError(8, 'Limit on number of concurrent in-flight updates has been reached (10)'),
      );
    },
    { signal: cancelled.signal },
  );
  setTimeout(() => cancelled.abort(new Error('activity cancelled')), 50);
  await expect(asking).rejects.toThrow('activity cancelled');
  const asked = calls;
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(calls).toBe(asked);

  const stopped = new AbortController();
  const waiting = updateWhenFree(() => new Promise<string>(() => undefined), { signal: stopped.signal });
  stopped.abort(new Error('activity cancelled'));
  await expect(waiting).rejects.toThrow('activity cancelled');
});
