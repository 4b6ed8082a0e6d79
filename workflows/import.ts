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
import {
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { apiActivities, failureMessage, parseInput } from './entity';
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
  type ImportCandidate,
  type ImportCounts,
  type ImportListing,
  type ImportProgress,
  type ImportResult,
} from '../contracts/import';
import { usernameFor } from './import-plan';
import { handlePermitRequests } from './permits';

/** Users imported at once by one workflow: a few, so that results come steadily. */
const CONCURRENCY = 4;
/** Usernames tried for one user before giving up. */
export const MAX_USERNAME_ATTEMPTS = 50;
/** Failures a background import keeps for its mail (the rest are counted). */
const MAX_KEPT_FAILURES = 500;

const { importPrepare, importListUsers } = proxyActivities<Activities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '10 seconds', maximumAttempts: 3 },
});

const { importHandOver } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', maximumAttempts: 5 },
});

const { sendNotification } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', maximumAttempts: 5 },
});

function tag(connectorId: string): void {
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.connectorId, value: connectorId },
    { key: SEARCH_ATTRIBUTES.kind, value: 'import' },
  ]);
}

function zeroCounts(): ImportCounts {
  return { created: 0, existing: 0, failed: 0, unmanaged: 0 };
}

function count(counts: ImportCounts, result: ImportResult): void {
  if (result.outcome === 'failed') counts.failed += 1;
  else {
    counts[result.outcome] += 1;
    if (result.managed === false) counts.unmanaged += 1;
  }
}

/** A failed result, or one whose requested group membership failed. */
function isFailure(result: ImportResult): boolean {
  return result.outcome === 'failed' || result.group === 'failed';
}

/** Runs `fn` over `items`, `limit` at a time (deterministic: workflow code). */
async function forEachConcurrently<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/**
 * I2/I3 for one user: look the email up (idempotence), create with the first free username, join
 * the group. Failures are this user's only; nobody else is held up.
 */
async function importUser(candidate: ImportCandidate, groupId: string | undefined): Promise<ImportResult> {
  const { jumpcloud } = apiActivities();
  let result: ImportResult;
  try {
    result = candidate.existing
      ? {
          email: candidate.email,
          outcome: 'existing',
          username: candidate.existing.username,
          jumpcloudId: candidate.existing.id,
          state: candidate.existing.state,
          managed: candidate.existing.managed,
        }
      : await findOrCreate(candidate);
  } catch (error) {
    return { email: candidate.email, outcome: 'failed', error: failureMessage(error) };
  }
  if (groupId && result.jumpcloudId) {
    try {
      await jumpcloud.jumpcloudAddUserToGroup(groupId, result.jumpcloudId);
      result.group = 'added';
      result.managed = result.state === 'ACTIVATED';
    } catch (error) {
      result.group = 'failed';
      result.error = `not added to the group: ${failureMessage(error)}`;
    }
  }
  return result;
}

async function findOrCreate(candidate: ImportCandidate): Promise<ImportResult> {
  const { jumpcloud } = apiActivities();
  const { email } = candidate;
  const found = await jumpcloud.jumpcloudFindUserByEmail(email);
  if (found) {
    return {
      email,
      outcome: 'existing',
      username: found.username,
      jumpcloudId: found.id,
      state: found.state,
    };
  }
  const tried = new Set<string>();
  for (let n = 0; n < MAX_USERNAME_ATTEMPTS; n++) {
    const username = usernameFor(email, n);
    tried.add(username);
    const outcome = await jumpcloud.jumpcloudCreateUser({
      username,
      email,
      ...(candidate.firstname ? { firstname: candidate.firstname } : {}),
      ...(candidate.lastname ? { lastname: candidate.lastname } : {}),
    });
    if (outcome.status === 'username-taken') continue;
    const { user } = outcome;
    return {
      email,
      // `exists` with one of our usernames: an earlier attempt of this very create succeeded.
      outcome: outcome.status === 'created' || tried.has(user.username) ? 'created' : 'existing',
      username: user.username,
      jumpcloudId: user.id,
      state: user.state,
      // Just created, in no group: not managed until it joins a bound group (I3).
      managed: outcome.status === 'created' || tried.has(user.username) ? false : undefined,
    };
  }
  throw ApplicationFailure.nonRetryable(
    `no free JumpCloud username: ${usernameFor(email, 0)} to ${usernameFor(email, MAX_USERNAME_ATTEMPTS - 1)} are all taken`,
    'NoFreeUsername',
  );
}

/**
 * I3: the users now in a bound group and ACTIVATED go to their user workflows at once, which link
 * them to their Notion user. Best effort: the change feed and the reconciliation get there too.
 */
async function handOver(connectorId: string, results: ImportResult[]): Promise<void> {
  const ids = results
    .filter((r) => r.group === 'added' && r.managed && r.jumpcloudId)
    .map((r) => r.jumpcloudId!);
  if (ids.length === 0) return;
  try {
    await importHandOver({ connectorId, jumpcloudUserIds: ids });
  } catch (error) {
    log.warn('imported users not handed over to their user workflows', { error: failureMessage(error) });
  }
}

/** I3: what the command says about imported users the sync does not manage. */
export function unmanagedWarning(
  unmanaged: number,
  group?: { id: string; name: string },
): string | undefined {
  if (unmanaged === 0) return undefined;
  const advice = group
    ? 'check their state in JumpCloud (a STAGED user is provisioned once activated)'
    : 'add them to a group bound to the application, e.g. run the import again with `--group <group id>`';
  return `${unmanaged} imported user(s) are not managed by the sync: a user is provisioned to Notion only once it is ACTIVATED in JumpCloud and a member of a group bound to the Notion application (I3); ${advice}`;
}

/** I1: the Notion members with their status, compressed. */
export async function importListWorkflow(raw: ImportListWorkflowInput): Promise<ImportListing> {
  const input = parseInput(importListInputSchema, raw, 'import list');
  tag(input.connectorId);
  handlePermitRequests();
  return importListUsers({ connectorId: input.connectorId });
}

/** I2/I3: one import run. Returns its final progress (the foreground results, or the failures). */
export async function importWorkflow(raw: ImportWorkflowInput): Promise<ImportProgress> {
  const input = parseInput(importInputSchema, raw, 'import');
  tag(input.connectorId);
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
  tag(input.connectorId);
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

/** The completion mail of a background import: counts, the warning, the failures. */
async function mailCompletion(state: ImportProgress): Promise<string> {
  const { counts } = state;
  const failures = state.results.filter(isFailure);
  const rows: [string, string][] = [
    ['Users selected', String(state.total)],
    ['Created in JumpCloud', String(counts.created)],
    ['Already imported', String(counts.existing)],
    ['Failed', String(counts.failed)],
    ...(state.group ? [['Group', `${state.group.name} (${state.group.id})`] as [string, string]] : []),
  ];
  const width = Math.max(...rows.map(([label]) => label.length)) + 1;
  const lines = [
    `Import ${state.importId} (workflow ${workflowInfo().workflowId}) has finished.`,
    '',
    ...rows.map(([label, value]) => `${`${label}:`.padEnd(width)} ${value}`),
    ...(state.warning ? ['', `Warning: ${state.warning}`] : []),
    ...(failures.length > 0 || state.failuresNotListed > 0
      ? [
          '',
          'Failures:',
          ...failures.map((f) => `  ${f.email}: ${f.error ?? 'failed'}`),
          ...(state.failuresNotListed > 0
            ? [`  … and ${state.failuresNotListed} more (see the batch workflows in the Temporal UI)`]
            : []),
        ]
      : []),
  ];
  try {
    const outcome = await sendNotification({
      subject: `import ${state.importId} finished: ${counts.created} created, ${counts.existing} already imported, ${counts.failed} failed`,
      text: `${lines.join('\n')}\n`,
    });
    return outcome.sent ? `sent to ${outcome.to.join(', ')}` : `not sent: ${outcome.reason}`;
  } catch (error) {
    return `could not be sent: ${failureMessage(error)}`;
  }
}
