/**
 * Issue 15: Temporal keeps only an activity's last heartbeat details, which its next attempt
 * resumes from; a liveness beat (a permit wait, a page retried) must repeat them, not erase them.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { keepAlive, reportProgress } from '../../activities/progress';

function beats(env: MockActivityEnvironment): unknown[] {
  const seen: unknown[] = [];
  env.on('heartbeat', (details: unknown) => seen.push(details));
  return seen;
}

test('issue 15: a liveness beat repeats the progress last reported, so the next attempt still finds its checkpoint', async () => {
  const env = new MockActivityEnvironment();
  const seen = beats(env);
  await env.run(() => {
    reportProgress({ phase: 'reading Notion', checkpoint: 'k1' });
    keepAlive();
    keepAlive();
    reportProgress({ phase: 'dispatching', checkpoint: 'k1' });
    keepAlive();
    return Promise.resolve();
  });
  expect(seen).toEqual([
    { phase: 'reading Notion', checkpoint: 'k1' },
    { phase: 'reading Notion', checkpoint: 'k1' },
    { phase: 'reading Notion', checkpoint: 'k1' },
    { phase: 'dispatching', checkpoint: 'k1' },
    { phase: 'dispatching', checkpoint: 'k1' },
  ]);
});

test('issue 15: before an attempt reports its own progress, a liveness beat keeps what the previous attempt left', async () => {
  const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { checkpoint: 'k0' } });
  const seen = beats(env);
  await env.run(() => {
    keepAlive();
    return Promise.resolve();
  });
  expect(seen).toEqual([{ checkpoint: 'k0' }]);
});
