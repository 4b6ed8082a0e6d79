/**
 * The client connection's `close()` (temporal/connection.ts): no retry of a call outlives it. A
 * worker stopping while one of its activities' calls waited to be retried (the server busy)
 * ended its process with "Channel has been shut down", thrown by the SDK's retry timer once the
 * connection was closed; so did the throughput benchmark giving up on a sync under load.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const FIXTURE = path.join(__dirname, 'fixtures', 'processes', 'close-during-retry.ts');

function runFixture(env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

test('a connection closed while a call waits to be retried ends the call with the error it got, and the process goes on', () => {
  const run = runFixture();
  expect(run.stderr).not.toContain('Channel has been shut down');
  expect(run.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^failed: /), 'survived']);
  expect(run.status).toBe(0);
});

test("the SDK's own connection, closed the same way, ends the process: what the test above guards against", () => {
  const run = runFixture({ CLOSE_DURING_RETRY: 'plain' });
  expect(run.stderr).toContain('Channel has been shut down');
  expect(run.stdout).not.toContain('survived');
  expect(run.status).not.toBe(0);
});
