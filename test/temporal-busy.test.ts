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
