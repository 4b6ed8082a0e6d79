/**
 * `jc-notion sync [--dry-run]` (C5, C7): a full reconciliation now. With `--dry-run` it prints the
 * exact plan and writes nothing; otherwise it follows the users handed to their workflows until
 * each has converged, with a progress bar on a terminal.
 */
import { SingleBar } from 'cli-progress';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { reconcileProgressQuery, type ReconcileSummary } from '../../contracts/reconcile';
import { loadConfig, type Config } from '../../config/config';
import { connectClient } from '../../temporal/connection';
import { startSyncUpdate } from '../../contracts/connector';
import type { reconcileWorkflow } from '../../workflows/reconcile';
import { causeMessage, CliError } from '../errors';
import { printError, printJson, printLines, table } from '../output';
import { connectorStart, requireWorkers, withWorkerDeadline } from '../temporal';
import { EntityGateway } from '../../temporal/entities';

export interface SyncOptions {
  dryRun?: boolean;
  json?: boolean;
  /** Give up following the users after this many seconds (the sync itself goes on). */
  timeout?: number;
}

export async function syncCommand(options: SyncOptions): Promise<void> {
  const config = loadConfig('client');
  const client = await connectClient(config);
  try {
    await requireWorkers(client, config);
    const dryRun = Boolean(options.dryRun);
    const started = await withWorkerDeadline(client, config, () =>
      client.workflow.executeUpdateWithStart(startSyncUpdate, {
        args: [{ dryRun }],
        startWorkflowOperation: connectorStart(config),
      }),
    ).catch((error: unknown) => {
      throw new CliError(causeMessage(error));
    });
    const tty = process.stderr.isTTY && !options.json;
    if (!options.json)
      printError(
        `${dryRun ? 'Planning (dry run)' : 'Reconciling'}: ${started.workflowId}${
          // C5: one reconciliation at a time; this `sync` reports on the one under way.
          started.alreadyRunning ? ' (already running: following it, no second one started)' : ''
        }`,
      );
    const handle = client.workflow.getHandle<typeof reconcileWorkflow>(started.workflowId);
    const outcome = handle.result().then(
      (summary) => ({ summary }),
      (error: unknown) => ({ error }),
    );
    if (dryRun) {
      const done = await outcome;
      if ('error' in done) throw new CliError(`the reconciliation failed: ${causeMessage(done.error)}`);
      if (!done.summary) throw new CliError('the reconciliation was skipped');
      return printPlan(done.summary, options.json);
    }

    // Issue 15: the reconciliation itself says when what it handed over has settled (it ends
    // then); the counts shown meanwhile are those of the entities that settled its request.
    const followed = await follow(client, config, started.reconcileId, handle, outcome, {
      tty,
      timeoutMs: (options.timeout ?? 600) * 1000,
    });
    if (followed.error !== undefined)
      throw new CliError(`the reconciliation failed: ${causeMessage(followed.error)}`);
    const { summary, progress } = followed;
    if (summary === null) throw new CliError('the reconciliation was skipped');
    if (options.json) {
      const joined = started.alreadyRunning ? { alreadyRunning: true } : {};
      return printJson(
        summary
          ? { ...summary, progress, ...joined }
          : { reconcileId: started.reconcileId, progress, inProgress: true, ...joined },
      );
    }
    if (!summary) {
      printLines([
        `Reconciliation ${started.reconcileId}: still running after ${options.timeout ?? 600} s`,
        ...table([
          [
            'users planned',
            progress.dispatched === undefined ? 'not yet known' : String(progress.dispatched),
          ],
          ['done', String(progress.done)],
          ['failed', String(progress.failed)],
        ]),
        'It goes on: see `jc-notion status`',
      ]);
      return;
    }
    const groupsDispatched = summary.groupsDispatched;
    printLines([
      `Reconciliation ${summary.reconcileId}`,
      ...table([
        ['JumpCloud users in scope', String(summary.jumpcloudInScope)],
        ['Notion members', String(summary.notionMembers)],
        ['users planned', String(summary.dispatched)],
        ['done', String(progress.done)],
        ['failed', String(progress.failed)],
        ...(groupsDispatched !== undefined
          ? ([['groups synced', `${progress.groupsDone}/${groupsDispatched}`]] as [string, string][])
          : []),
      ]),
      ...(progress.done < summary.dispatched
        ? [`${summary.dispatched - progress.done} still in progress: see \`jc-notion status\``]
        : []),
      ...listingNotes(summary),
    ]);
    if (progress.failed > 0) {
      throw new CliError(`${progress.failed} user(s) could not be provisioned: see \`jc-notion status\``);
    }
  } finally {
    await client.connection.close();
  }
}

interface Progress {
  dispatched?: number;
  done: number;
  failed: number;
  groupsDone: number;
}

/**
 * Shows the reconciliation's progress until it ends (it ends once what it handed over settled)
 * or the timeout. `summary` is undefined when the timeout came first, null when it was skipped.
 */
async function follow(
  client: Client,
  config: Config,
  reconcileId: string,
  handle: WorkflowHandle<typeof reconcileWorkflow>,
  outcome: Promise<{ summary: ReconcileSummary | null } | { error: unknown }>,
  options: { tty: boolean; timeoutMs: number },
): Promise<{ summary?: ReconcileSummary | null; progress: Progress; error?: unknown }> {
  const entities = new EntityGateway(client);
  const scope = { connectorId: config.connectorId, reconcileId };
  let ended: { summary: ReconcileSummary | null } | { error: unknown } | undefined;
  void outcome.then((value) => {
    ended = value;
  });
  const bar = options.tty
    ? new SingleBar({ format: 'users and groups {bar} {value}/{total}  failed: {failed}', hideCursor: true })
    : undefined;
  const deadline = Date.now() + options.timeoutMs;
  const progress: Progress = { done: 0, failed: 0, groupsDone: 0 };
  let total: number | undefined;
  let lastLine = '';
  let lastPrintedAt = 0;
  for (;;) {
    if (ended) break;
    const state = await handle.query(reconcileProgressQuery).catch(() => undefined);
    if (state?.dispatched !== undefined) {
      progress.dispatched = state.dispatched;
      progress.done = await entities.count({ ...scope, kind: 'user' });
      progress.failed = await entities.count({ ...scope, kind: 'user', syncState: 'error' });
      const groups = state.groupsDispatched ?? 0;
      progress.groupsDone = groups > 0 ? await entities.count({ ...scope, kind: 'group' }) : 0;
      const wanted = state.dispatched + groups;
      if (bar && total === undefined) bar.start(wanted, 0, { failed: 0 });
      else if (bar && total !== wanted) bar.setTotal(wanted);
      total = wanted;
      bar?.update(progress.done + progress.groupsDone, { failed: progress.failed });
    }
    // Without a terminal (logs, CI): a line every 5 s at most, when something changed.
    const line = describe(state?.phase, progress, state?.groupsDispatched);
    if (!options.tty && line !== lastLine && Date.now() - lastPrintedAt >= 5000) {
      printError(line);
      lastLine = line;
      lastPrintedAt = Date.now();
    }
    if (Date.now() > deadline) break;
    await Promise.race([outcome, new Promise((resolve) => setTimeout(resolve, 500))]);
  }
  bar?.stop();
  if (!ended) return { progress };
  if ('error' in ended) return { progress, error: ended.error };
  const { summary } = ended;
  if (summary?.settled) {
    // The reconciliation's own count, at the moment it reported.
    progress.dispatched = summary.dispatched;
    progress.done = summary.settled.users;
    progress.failed = summary.settled.failed;
    progress.groupsDone = summary.settled.groups ?? 0;
  }
  if (!options.tty && summary) {
    const line = describe('done', progress, summary.groupsDispatched);
    if (line !== lastLine) printError(line);
  }
  return { summary, progress };
}

function describe(phase: string | undefined, progress: Progress, groups: number | undefined): string {
  if (progress.dispatched === undefined) return `reading JumpCloud and Notion (${phase ?? 'starting'})`;
  const groupPart = groups ? `; groups: ${progress.groupsDone}/${groups}` : '';
  return `users: ${progress.done}/${progress.dispatched} done, ${progress.failed} failed${groupPart}`;
}

/** Listings that did not add up: what this run therefore left alone (issue 14). */
function listingNotes(summary: ReconcileSummary): string[] {
  return [
    ...(summary.unreadable
      ? [`${summary.unreadable} user(s) with an unreadable record: see \`jc-notion status\``]
      : []),
    ...(summary.notionListingComplete
      ? []
      : ["Notion's listing was incomplete: absences are not acted on in this run"]),
    ...(summary.jumpcloudListingProblems
      ? [
          `JumpCloud's listings did not add up (${summary.jumpcloudListingProblems.join('; ')}): ${summary.unconfirmed ?? 0} user(s) missing from them are left as they are`,
        ]
      : []),
  ];
}

function printPlan(summary: ReconcileSummary, json?: boolean): void {
  if (json) return printJson(summary);
  const { planned } = summary;
  printLines([
    `Dry run ${summary.reconcileId}: nothing was written`,
    ...table([
      ['JumpCloud users in scope', String(summary.jumpcloudInScope)],
      ['Notion members', String(summary.notionMembers)],
      ['create', String(planned.create)],
      ['update', String(planned.update)],
      ['reactivate', String(planned.reactivate)],
      ['deactivate', String(planned.deactivate)],
      ['kept (protected)', String(planned.protected)],
      ['cannot be provisioned', String(planned.invalid)],
    ]),
    ...listingNotes(summary),
    ...(summary.plan ?? []).map(
      (entry) => `  ${entry.username ?? entry.jumpcloudId}: ${entry.operations.join('; ')}`,
    ),
    ...(summary.truncated ? [`  … and ${summary.truncated} more users`] : []),
    ...(summary.groupPlan
      ? [
          `Groups: ${summary.groupPlan.length} to change`,
          ...summary.groupPlan.map(
            (entry) => `  ${entry.name ?? entry.jumpcloudId}: ${entry.operations.join('; ')}`,
          ),
        ]
      : []),
  ]);
}
