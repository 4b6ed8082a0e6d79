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
import { parseConfig } from '../config/config';
import { dataConverterFor } from '../temporal/data-converter';
import { TEST_PRIVACY } from './support/config';
import { patchMarkers, upsertedAttributes } from './support/history';
import { keyIdsOf } from './support/payloads';
import { GROUP_BASELINE_PATCH } from '../workflows/group';
import { USER_BASELINE_PATCH } from '../workflows/user-context';

const DIR = path.join(__dirname, 'fixtures', 'histories');
const files = fs.existsSync(DIR) ? fs.readdirSync(DIR).filter((f) => f.endsWith('.json')) : [];
/**
 * Issue 16: histories recorded with encryption on (test/privacy.e2e.test.ts, under the test keys
 * k1 then k2,k1), replayed by a worker holding both keys.
 */
const ENCRYPTED_DIR = path.join(__dirname, 'fixtures', 'histories-encrypted');
const encryptedFiles = fs.existsSync(ENCRYPTED_DIR)
  ? fs.readdirSync(ENCRYPTED_DIR).filter((f) => f.endsWith('.json'))
  : [];
const privacy = parseConfig(
  { PAYLOAD_ENCRYPTION_KEYS: `${TEST_PRIVACY.K2},${TEST_PRIVACY.K1}` },
  'client',
).privacy;
let bundle: WorkflowBundle;
let encryptedBundle: WorkflowBundle;

beforeAll(async () => {
  bundle = await bundleWorkflows();
  encryptedBundle = await bundleWorkflows(undefined, { encrypted: true });
});

function readFixture(file: string) {
  const { workflowId, history } = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    workflowId: string;
    history: string;
  };
  return { workflowId, history: proto.api.history.v1.History.decode(Buffer.from(history, 'base64')) };
}

test('recorded histories exist for the user, group, connector, feed and reconcile workflows', () => {
  for (const kind of ['user-', 'group-', 'connector-', 'feed-', 'reconcile-'])
    expect(files.some((f) => f.startsWith(kind))).toBe(true);
});

test.each(files)('replays %s', async (file) => {
  const { workflowId, history } = readFixture(path.join(DIR, file));
  await Worker.runReplayHistory({ workflowBundle: bundle }, history, workflowId);
});

/**
 * Issue 18 (rolling upgrade): a newer worker's gateway starts a user's workflow with its tags, and
 * an older worker (which always upserts them) runs its first task. Such a history, made here from a
 * recorded one by giving its start the tags its first task upserted, replays against today's code.
 */
test('issue 18 (rolling upgrade): a workflow started with its tags whose first task an older worker ran (upserting them) replays', async () => {
  // A history whose first task upserted the tags (not one of today's code, which skips it).
  const user = files.find((file) => file.startsWith('user-') && !/-baseline-/.test(file))!;
  const { workflowId, history } = readFixture(path.join(DIR, user));
  const tags = history.events?.find((event) => event.upsertWorkflowSearchAttributesEventAttributes)
    ?.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
  expect(Object.keys(tags ?? {})).toEqual(
    expect.arrayContaining(['JcnKind', 'JcnJumpCloudId', 'JcnConnectorId']),
  );
  history.events[0]!.workflowExecutionStartedEventAttributes!.searchAttributes = {
    indexedFields: { ...tags },
  };
  await Worker.runReplayHistory({ workflowBundle: bundle }, history, workflowId);
});

/**
 * Issue 18: histories whose first task ran the code before the baseline patches (recorded at
 * 3039800: the tags upserted, one marker per patch) replay against today's code, which asks each
 * patch on its own when the baseline's marker is not there; histories of today's code (the
 * `-baseline-` fixtures) record the baseline's marker alone.
 */
test('issue 18 (rolling upgrade): histories recorded before the baseline patches (tags upserted, a marker per patch) replay', async () => {
  const before = files.filter((file) => file.includes('-pre-baseline-'));
  expect(before.map((file) => file.split('-')[0])).toEqual(expect.arrayContaining(['user', 'group']));
  for (const file of before) {
    const { workflowId, history } = readFixture(path.join(DIR, file));
    expect(patchMarkers(history).length).toBeGreaterThan(0);
    expect(patchMarkers(history)).not.toContain(USER_BASELINE_PATCH);
    expect(patchMarkers(history)).not.toContain(GROUP_BASELINE_PATCH);
    expect(upsertedAttributes(history)[0]).toContain('JcnKind');
    await Worker.runReplayHistory({ workflowBundle: bundle }, history, workflowId);
  }
  const current = files.filter((file) => file.includes('-baseline-') && !file.includes('-pre-baseline-'));
  expect(current.map((file) => file.split('-')[0])).toEqual(expect.arrayContaining(['user', 'group']));
  for (const file of current) {
    const { history } = readFixture(path.join(DIR, file));
    expect(patchMarkers(history)).toEqual([
      file.startsWith('user-') ? USER_BASELINE_PATCH : GROUP_BASELINE_PATCH,
    ]);
  }
});

test('issue 16: encrypted recorded histories exist, under both test keys', () => {
  for (const kind of ['user-', 'group-', 'connector-', 'feed-', 'reconcile-', 'import-'])
    expect(encryptedFiles.some((f) => f.startsWith(kind))).toBe(true);
  const histories = encryptedFiles.map((file) => readFixture(path.join(ENCRYPTED_DIR, file)).history);
  expect(keyIdsOf(histories).ids).toEqual(['k1', 'k2']);
});

test.each(encryptedFiles)('issue 16: replays the encrypted %s', async (file) => {
  const { workflowId, history } = readFixture(path.join(ENCRYPTED_DIR, file));
  await Worker.runReplayHistory(
    { workflowBundle: encryptedBundle, dataConverter: dataConverterFor({ privacy }) },
    history,
    workflowId,
  );
});
