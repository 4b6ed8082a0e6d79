/**
 * SPEC §7: recorded histories of the workflows (test/fixtures/histories, captured from the
 * end-to-end stories by `RECORD_HISTORIES=test/fixtures/histories npx jest test/users.e2e.test.ts
 * test/groups.e2e.test.ts test/feed.e2e.test.ts`)
 * replay against today's workflow code. A change that breaks determinism fails here: guard it with
 * `patched()` instead.
 */
import fs from 'node:fs';
import path from 'node:path';
import { temporal as proto } from '@temporalio/proto';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { bundleWorkflows } from '../worker/worker';

const DIR = path.join(__dirname, 'fixtures', 'histories');
const files = fs.existsSync(DIR) ? fs.readdirSync(DIR).filter((f) => f.endsWith('.json')) : [];
let bundle: WorkflowBundle;

beforeAll(async () => {
  bundle = await bundleWorkflows();
});

test('recorded histories exist for the user, group, connector, feed and reconcile workflows', () => {
  for (const kind of ['user-', 'group-', 'connector-', 'feed-', 'reconcile-'])
    expect(files.some((f) => f.startsWith(kind))).toBe(true);
});

test.each(files)('replays %s', async (file) => {
  const { workflowId, history } = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8')) as {
    workflowId: string;
    history: string;
  };
  const decoded = proto.api.history.v1.History.decode(Buffer.from(history, 'base64'));
  await Worker.runReplayHistory({ workflowBundle: bundle }, decoded, workflowId);
});
