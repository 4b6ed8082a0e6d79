/**
 * Importing Notion members into JumpCloud (SPEC I1–I3). Three workflows, ids under
 * `jcn/<connector>/import/`:
 *
 * - `importListWorkflow` (`…/import/list-<time>`): one activity lists the members with their
 *   status (I1) and returns them compressed; the CLI prints them.
 * - `importWorkflow` (`…/import/<import id>`): one activity checks what must hold before anything
 *   is created (activation, `--group` bound to the application: I3) and selects the users. Under
 *   100 it imports them itself, a few at a time, and its `importProgress` query lets the CLI print
 *   each result as it comes. At 100 or more the activity has handed them to batch workflows; this
 *   one waits for their reports and mails the counts and the failures (`NOTIFY_*`).
 * - `importBatchWorkflow` (`…/import/<import id>/batch-<n>`): up to 100 users of a background
 *   import; reports to its import workflow when done.
 *
 * Each user is one short log of activities on the rate-limited JumpCloud queue: look the email up,
 * create with the first free username (a taken one: the next candidate), add to the group.
 * Re-running is harmless: users JumpCloud already has are reported, never created twice.
 */
import { condition, getExternalWorkflowHandle, log, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { failureMessage, parseInput } from './entity';
import {
  importBatchDoneSignal,
  importBatchInputSchema,
  importInputSchema,
  importListInputSchema,
  type ImportBatchInput,
  type ImportListWorkflowInput,
  type ImportWorkflowInput,
  importProgressQuery,
  type ImportBatchReport,
  type ImportCounts,
  type ImportListing,
  type ImportProgress,
  type ImportResult,
} from '../contracts/import';
import {
  CONCURRENCY,
  count,
  forEachConcurrently,
  handOver,
  importUser,
  isFailure,
  MAX_KEPT_FAILURES,
  tagImport,
  zeroCounts,
} from './import-user';
import { mailCompletion, unmanagedWarning } from './import-report';
import { handlePermitRequests } from './permits';

const { importPrepare, importListUsers } = proxyActivities<Activities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '10 seconds', maximumAttempts: 3 },
});

/** I1: the Notion members with their status, compressed. */
export async function importListWorkflow(raw: ImportListWorkflowInput): Promise<ImportListing> {
  const input = parseInput(importListInputSchema, raw, 'import list');
  tagImport(input.connectorId);
  handlePermitRequests();
  return importListUsers({ connectorId: input.connectorId });
}

/** I2/I3: one import run. Returns its final progress (the foreground results, or the failures). */
export async function importWorkflow(raw: ImportWorkflowInput): Promise<ImportProgress> {
  const input = parseInput(importInputSchema, raw, 'import');
  tagImport(input.connectorId);
  handlePermitRequests();
  const state: ImportProgress = {
    importId: input.importId,
    phase: 'preparing',
    total: 0,
    background: false,
    counts: zeroCounts(),
    results: [],
    failuresNotListed: 0,
  };
  setHandler(importProgressQuery, () => state);

  const record = (result: ImportResult) => {
    count(state.counts, result);
    if (!state.background || isFailure(result)) {
      if (state.background && state.results.length >= MAX_KEPT_FAILURES) state.failuresNotListed += 1;
      else state.results.push(result);
    }
  };

  const reported = new Set<number>();
  setHandler(importBatchDoneSignal, (report: ImportBatchReport) => {
    if (reported.has(report.batch)) return;
    reported.add(report.batch);
    for (const key of Object.keys(state.counts) as (keyof ImportCounts)[])
      state.counts[key] += report.counts[key];
    for (const failure of report.failures) {
      if (state.results.length < MAX_KEPT_FAILURES) state.results.push(failure);
      else state.failuresNotListed += 1;
    }
    if (state.batches) state.batches.done = reported.size;
  });

  const prepared = await importPrepare({
    connectorId: input.connectorId,
    importId: input.importId,
    emails: input.emails,
    allNew: input.allNew,
    groupId: input.groupId,
  });
  if (prepared.refused !== undefined) {
    state.phase = 'refused';
    state.reason = prepared.refused;
    return state;
  }
  state.total = prepared.total;
  state.background = prepared.background;
  state.group = prepared.group;
  state.phase = 'importing';
  for (const failure of prepared.failures) record(failure);

  if (!prepared.background) {
    const results: ImportResult[] = [];
    await forEachConcurrently(prepared.users, CONCURRENCY, async (user) => {
      const result = await importUser(user, input.groupId);
      results.push(result);
      record(result);
    });
    await handOver(input.connectorId, results);
  } else {
    state.batches = { total: prepared.batches, done: reported.size };
    await condition(() => reported.size >= prepared.batches);
  }
  state.warning = unmanagedWarning(state.counts.unmanaged, state.group);
  if (state.background) state.mail = await mailCompletion(state);
  state.phase = 'done';
  return state;
}

/** I2: up to 100 users of a background import. */
export async function importBatchWorkflow(raw: ImportBatchInput): Promise<ImportBatchReport> {
  const input = parseInput(importBatchInputSchema, raw, 'import batch');
  tagImport(input.connectorId);
  const counts = zeroCounts();
  const failures: ImportResult[] = [];
  const results: ImportResult[] = [];
  await forEachConcurrently(input.users, CONCURRENCY, async (user) => {
    const result = await importUser(user, input.groupId);
    results.push(result);
    count(counts, result);
    if (isFailure(result)) failures.push(result);
  });
  await handOver(input.connectorId, results);
  const report: ImportBatchReport = { batch: input.batch, counts, failures };
  try {
    await getExternalWorkflowHandle(input.parentWorkflowId).signal(importBatchDoneSignal, report);
  } catch (error) {
    // The import workflow is gone (terminated): this batch's result stays in its own history.
    log.warn('import workflow not told of this batch', { error: failureMessage(error) });
  }
  return report;
}
