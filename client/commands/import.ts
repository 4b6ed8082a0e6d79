/**
 * `jc-notion import list` (I1) and `jc-notion import run` (I2, I3): importing Notion members into
 * JumpCloud. The command talks to Temporal only: the import workflows do the reads and writes with
 * the workers' credentials.
 */
import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { decodeImportList, sortImportList } from '../../common/import-list';
import { isJumpCloudId } from '../../contracts/shared';
import { loadConfig, type Config } from '../../config/config';
import { connectClient } from '../../temporal/connection';
import { workflowIds } from '../../temporal/ids';
import { importListWorkflow, importWorkflow } from '../../workflows/import';
import { STARTS } from '../../workflows/summaries';
import { importProgressQuery, type ImportProgress, type ImportResult } from '../../contracts/import';
import { causeMessage, CliError } from '../errors';
import { printError, printJson, printLines, table } from '../output';
import { requireWorkers } from '../temporal';

export interface ImportListOptions {
  newFirst?: boolean;
  json?: boolean;
}

export interface ImportRunOptions {
  allNew?: boolean;
  group?: string;
  json?: boolean;
  /** Stop following a foreground import after this many seconds (it goes on). */
  timeout?: number;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const POLL_MS = 250;

/** `<time>-<random>`: sortable, unique, valid in a workflow id. */
function newId(prefix = ''): string {
  return `${prefix}${new Date().toISOString().replace(/[:.]/g, '')}-${randomUUID().slice(0, 8)}`;
}

async function withClient<T>(fn: (client: Client, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig('client');
  const client = await connectClient(config);
  try {
    await requireWorkers(client, config);
    return await fn(client, config);
  } finally {
    await client.connection.close();
  }
}

/** I1: every Notion member, `New` (no JumpCloud user with that email) or `Imported`. */
export async function importListCommand(options: ImportListOptions): Promise<void> {
  await withClient(async (client, config) => {
    const listing = await client.workflow
      .execute(importListWorkflow, {
        workflowId: workflowIds.import(config.connectorId, newId('list-')),
        taskQueue: config.temporal.taskQueue,
        args: [{ connectorId: config.connectorId }],
      })
      .catch((error: unknown) => {
        throw new CliError(`could not list the Notion members: ${causeMessage(error)}`);
      });
    const users = sortImportList(decodeImportList(listing.encoded), Boolean(options.newFirst));
    if (options.json) {
      printJson({
        total: listing.total,
        new: listing.newCount,
        imported: listing.importedCount,
        complete: listing.complete,
        users,
      });
      return;
    }
    const width = Math.max(5, ...users.map((u) => u.email.length));
    printLines([
      `${'STATUS'.padEnd(9)} ${'EMAIL'.padEnd(width)}  NAME`,
      ...users.map(
        (u) =>
          `${u.status.padEnd(9)} ${u.email.padEnd(width)}  ${u.name}${u.jumpcloudUsername ? `  (JumpCloud: ${u.jumpcloudUsername})` : ''}`,
      ),
      `${listing.total} Notion member(s): ${listing.newCount} New, ${listing.importedCount} Imported`,
      ...(listing.complete
        ? []
        : ["Notion's listing was unreliable (ids repeated across pages): run it again to be sure"]),
    ]);
  });
}

/** One result as a line: what happened to the user, in JumpCloud's terms. */
export function describeResult(result: ImportResult): string {
  const who = `${result.username ?? '?'}${result.jumpcloudId ? ` (${result.jumpcloudId})` : ''}`;
  const group = result.group === 'added' ? ', added to the group' : '';
  const staged = result.state === 'STAGED' ? ', STAGED in JumpCloud' : '';
  const groupError = result.group === 'failed' && result.error ? `; ${result.error}` : '';
  switch (result.outcome) {
    case 'created':
      return `created   ${result.email} → ${who}${staged}${group}${groupError}`;
    case 'existing':
      return `exists    ${result.email}: already imported as ${who}${staged}${group}${groupError}`;
    case 'failed':
      return `failed    ${result.email}: ${result.error ?? 'unknown error'}`;
  }
}

/**
 * I2/I3: creates the JumpCloud users. Under 100 it follows the import workflow and prints each
 * result as it comes; at 100 or more it prints the workflow id and returns (a mail reports the end).
 */
export async function importRunCommand(emails: string[], options: ImportRunOptions): Promise<void> {
  const given = [...new Set(emails.map((e) => e.trim().toLowerCase()).filter(Boolean))];
  if (options.allNew && given.length > 0) throw new CliError('give emails or --all-new, not both');
  if (!options.allNew && given.length === 0) throw new CliError('give the emails to import, or --all-new');
  const invalid = given.filter((e) => !EMAIL.test(e));
  if (invalid.length > 0) throw new CliError(`not an email address: ${invalid.slice(0, 3).join(', ')}`);
  if (options.group !== undefined && !isJumpCloudId(options.group))
    throw new CliError(
      `--group takes a JumpCloud user group id (24 hexadecimal characters), not "${options.group}"`,
    );

  await withClient(async (client, config) => {
    const importId = newId();
    const workflowId = workflowIds.import(config.connectorId, importId);
    const handle = await client.workflow.start(importWorkflow, {
      workflowId,
      taskQueue: config.temporal.taskQueue,
      staticSummary: STARTS.import.summary(importId, config.connectorId),
      args: [
        {
          connectorId: config.connectorId,
          importId,
          ...(options.allNew ? { allNew: true } : { emails: given }),
          ...(options.group ? { groupId: options.group } : {}),
        },
      ],
    });
    await follow(handle, workflowId, options, (options.timeout ?? 600) * 1000);
  });
}

async function follow(
  handle: WorkflowHandle<typeof importWorkflow>,
  workflowId: string,
  options: ImportRunOptions,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let printed = 0;
  let announced = false;
  for (;;) {
    // A workflow that failed (e.g. Notion unreachable for good) answers no further progress.
    const { status } = await handle.describe();
    if (status.name !== 'RUNNING' && status.name !== 'COMPLETED') {
      const error = await handle.result().then(
        () => new Error(`the workflow ended ${status.name}`),
        (failure: unknown) => failure,
      );
      throw new CliError(`the import failed: ${causeMessage(error)}`);
    }
    const progress = await handle.query(importProgressQuery);
    if (progress.phase === 'refused')
      throw new CliError(`import refused: ${progress.reason ?? 'no reason given'}`);
    if (progress.phase !== 'preparing' && progress.background) {
      if (options.json) {
        printJson({ workflowId, importId: progress.importId, background: true, total: progress.total });
      } else {
        printLines([
          `Importing ${progress.total} users in the background: workflow ${workflowId}`,
          'A mail with the counts and the failures goes to NOTIFY_EMAIL when it finishes; the Temporal UI shows its progress.',
        ]);
      }
      return;
    }
    if (progress.phase !== 'preparing' && !options.json) {
      if (!announced) {
        const group = progress.group ? `, joining group "${progress.group.name}"` : '';
        printLines([`Importing ${progress.total} user(s) (workflow ${workflowId})${group}`]);
        announced = true;
      }
      for (; printed < progress.results.length; printed++)
        printLines([`  ${describeResult(progress.results[printed]!)}`]);
    }
    if (progress.phase === 'done') return report(progress, workflowId, options);
    if (Date.now() > deadline) {
      throw new CliError(
        `still importing after ${Math.round(timeoutMs / 1000)} s: follow workflow ${workflowId}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function report(progress: ImportProgress, workflowId: string, options: ImportRunOptions): void {
  const { counts } = progress;
  const failures = progress.results.filter((r) => r.outcome === 'failed' || r.group === 'failed');
  if (options.json) {
    printJson({
      workflowId,
      importId: progress.importId,
      background: false,
      total: progress.total,
      created: counts.created,
      existing: counts.existing,
      failed: counts.failed,
      group: progress.group,
      warning: progress.warning,
      results: progress.results,
    });
  } else {
    printLines(
      table([
        ['created', String(counts.created)],
        ['already imported', String(counts.existing)],
        ['failed', String(counts.failed)],
      ]),
    );
    if (progress.warning) printError(`warning: ${progress.warning}`);
  }
  if (failures.length > 0) {
    const first = failures[0]!;
    throw new CliError(
      `${failures.length} of ${progress.total} user(s) could not be imported${failures.length > 1 ? ', first' : ''}: ${first.email}: ${first.error ?? 'failed'}`,
    );
  }
}
