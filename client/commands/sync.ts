/**
 * `jc-notion sync [--dry-run]` (C5, C7): a full reconciliation now. With `--dry-run` it prints the
 * exact plan and writes nothing; otherwise it follows the users handed to their workflows until
 * each has converged, with a progress bar on a terminal.
 */
import { SingleBar } from 'cli-progress';
import type { Client } from '@temporalio/client';
import type { ReconcileSummary } from '../../contracts/reconcile';
import { loadConfig, type Config } from '../../config/config';
import { connectClient } from '../../temporal/connection';
import { startSyncUpdate } from '../../contracts/connector';
import type { reconcileWorkflow } from '../../workflows/reconcile';
import { causeMessage, CliError } from '../errors';
import { printJson, printLines, table } from '../output';
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
      process.stderr.write(`${dryRun ? 'Planning (dry run)' : 'Reconciling'}: ${started.workflowId}\n`);
    const summary = await client.workflow
      .getHandle<typeof reconcileWorkflow>(started.workflowId)
      .result()
      .catch((error: unknown) => {
        throw new CliError(`the reconciliation failed: ${causeMessage(error)}`);
      });
    // Only scheduled runs skip (deactivated, or another one running); `sync` starts its own.
    if (!summary) throw new CliError('the reconciliation was skipped');
    if (dryRun) return printPlan(summary, options.json);

    const progress = await follow(client, config, summary, tty, (options.timeout ?? 600) * 1000);
    if (options.json) return printJson({ ...summary, progress });
    printLines([
      `Reconciliation ${summary.reconcileId}`,
      ...table([
        ['JumpCloud users in scope', String(summary.jumpcloudInScope)],
        ['Notion members', String(summary.notionMembers)],
        ['users planned', String(summary.dispatched)],
        ['done', String(progress.done)],
        ['failed', String(progress.failed)],
        ...(summary.groupsDispatched !== undefined
          ? ([['groups synced', `${progress.groupsDone}/${summary.groupsDispatched}`]] as [string, string][])
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

async function follow(
  client: Client,
  config: Config,
  summary: ReconcileSummary,
  tty: boolean,
  timeoutMs: number,
): Promise<{ done: number; failed: number; groupsDone: number }> {
  const entities = new EntityGateway(client);
  const scope = { connectorId: config.connectorId, reconcileId: summary.reconcileId };
  const groups = summary.groupsDispatched ?? 0;
  const total = summary.dispatched + groups;
  const bar = tty
    ? new SingleBar({ format: 'users and groups {bar} {value}/{total}  failed: {failed}', hideCursor: true })
    : undefined;
  bar?.start(total, 0, { failed: 0 });
  const deadline = Date.now() + timeoutMs;
  let done = 0;
  let failed = 0;
  let groupsDone = 0;
  let lastPrinted = -1;
  let lastPrintedAt = 0;
  while (total > 0) {
    done = await entities.count({ ...scope, kind: 'user' });
    failed = await entities.count({ ...scope, kind: 'user', syncState: 'error' });
    groupsDone = groups > 0 ? await entities.count({ ...scope, kind: 'group' }) : 0;
    bar?.update(done + groupsDone, { failed });
    // Without a terminal (logs, CI): a line every 5 s at most, and the last one.
    const finished = done >= summary.dispatched && groupsDone >= groups;
    if (!tty && done + groupsDone !== lastPrinted && (finished || Date.now() - lastPrintedAt >= 5000)) {
      const groupPart = groups > 0 ? `; groups: ${groupsDone}/${groups}` : '';
      process.stderr.write(`users: ${done}/${summary.dispatched} done, ${failed} failed${groupPart}\n`);
      lastPrinted = done + groupsDone;
      lastPrintedAt = Date.now();
    }
    if (finished || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  bar?.stop();
  return { done, failed, groupsDone };
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
