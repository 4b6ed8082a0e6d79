/** `jc-notion activate` (C1) and `jc-notion deactivate` (C2). */
import { connectClient } from '../../temporal/connection';
import type { Client } from '@temporalio/client';
import { loadConfig, type Config } from '../../config/config';
import {
  activateUpdate,
  deactivateUpdate,
  setGroupManagementUpdate,
  startSyncUpdate,
} from '../../contracts/connector';
import type { ReconcileSummary } from '../../contracts/reconcile';
import type { reconcileWorkflow } from '../../workflows/reconcile';
import { causeMessage, CliError } from '../errors';
import { printJson, printLines, type OutputOptions } from '../output';
import { BULK_COMMAND_TIMEOUT_MS, connectorStart, requireWorkers, withWorkerDeadline } from '../temporal';

export async function activateCommand(
  options: OutputOptions & { approveCreations?: boolean },
): Promise<void> {
  const config = loadConfig('client');
  const client = await connectClient(config);
  try {
    await requireWorkers(client, config);
    const verification = await withWorkerDeadline(client, config, () =>
      client.workflow.executeUpdateWithStart(activateUpdate, {
        args: [{ approveCreations: Boolean(options.approveCreations) }],
        startWorkflowOperation: connectorStart(config),
      }),
    );
    if (!verification.verified) {
      if (options.json) {
        printJson(verification);
        process.exitCode = 1;
        return;
      }
      throw new CliError(`not activated: ${verification.reasons.join('; ')}`);
    }
    // Issue 14: what the connector will act on, before its first reconciliation runs (the Schedule's
    // first run is RECONCILE_INTERVAL away; the change feed only follows new events).
    const preview = await withWorkerDeadline(
      client,
      config,
      () => previewFirstReconciliation(client, config),
      BULK_COMMAND_TIMEOUT_MS,
    ).catch((error: unknown) => ({ error: causeMessage(error) }));
    if (options.json) return printJson({ ...verification, preview });
    const app = verification.application;
    printLines([
      `Connector ${config.connectorId}: verified and activated`,
      ...(app
        ? [
            `  JumpCloud application: ${app.displayName ?? app.name ?? '(unnamed)'} (${app.id})${app.ssoUrl ? `, SSO URL ${app.ssoUrl}` : ''}`,
          ]
        : []),
      ...('error' in preview
        ? [
            `  the first reconciliation could not be previewed: ${preview.error} (try \`jc-notion sync --dry-run\`)`,
          ]
        : describePreview(preview, Boolean(options.approveCreations))),
    ]);
  } finally {
    await client.connection.close();
  }
}

/** A dry run of the reconciliation the connector would run now (C7): counts only. */
async function previewFirstReconciliation(client: Client, config: Config): Promise<ReconcileSummary> {
  const started = await client.workflow.executeUpdateWithStart(startSyncUpdate, {
    args: [{ dryRun: true }],
    startWorkflowOperation: connectorStart(config),
  });
  const summary = await client.workflow.getHandle<typeof reconcileWorkflow>(started.workflowId).result();
  if (!summary) throw new Error('the preview was skipped');
  return summary;
}

function describePreview(summary: ReconcileSummary, approved: boolean): string[] {
  const { planned } = summary;
  return [
    `  in scope: ${summary.jumpcloudInScope} user(s)${summary.jumpcloudGroupsInScope !== undefined ? ` through the application and ${summary.jumpcloudGroupsInScope} bound group(s)` : ''}; Notion has ${summary.notionMembers} member(s)`,
    `  the first reconciliation would create ${planned.create}, reactivate ${planned.reactivate}, update ${planned.update} and deactivate ${planned.deactivate} member(s)${planned.protected > 0 ? ` (${planned.protected} protected kept)` : ''}${planned.invalid > 0 ? `; ${planned.invalid} cannot be provisioned` : ''}`,
    '  it runs at the next scheduled reconciliation, or now with `jc-notion sync`; `jc-notion sync --dry-run` lists each user',
    ...(planned.create > 0
      ? [
          approved
            ? '  its creations are approved (--approve-creations)'
            : '  if its creations are more than DEACTIVATION_THRESHOLD they are held until `jc-notion approve` (a wrong JUMPCLOUD_APP_ID would otherwise add everyone bound to that application); `activate --approve-creations` approves them now',
        ]
      : []),
  ];
}

export async function deactivateCommand(options: OutputOptions): Promise<void> {
  const config = loadConfig('client');
  const client = await connectClient(config);
  try {
    await requireWorkers(client, config);
    const status = await withWorkerDeadline(client, config, () =>
      client.workflow.executeUpdateWithStart(deactivateUpdate, {
        startWorkflowOperation: connectorStart(config),
      }),
    );
    if (options.json) printJson(status);
    else
      printLines([`Connector ${config.connectorId}: deactivated (every sync stopped; Notion left as it is)`]);
  } finally {
    await client.connection.close();
  }
}

/** `jc-notion groups enable|disable` (G8). */
export async function groupsCommand(action: 'enable' | 'disable', options: OutputOptions): Promise<void> {
  const config = loadConfig('client');
  const client = await connectClient(config);
  try {
    await requireWorkers(client, config);
    const status = await withWorkerDeadline(client, config, () =>
      client.workflow.executeUpdateWithStart(setGroupManagementUpdate, {
        args: [action === 'enable'],
        startWorkflowOperation: connectorStart(config),
      }),
    );
    if (options.json) return printJson(status);
    printLines([
      action === 'enable'
        ? `Group management enabled for connector ${config.connectorId}: bound groups are kept in Notion (taking over groups with the same name)`
        : `Group management disabled for connector ${config.connectorId}: Notion groups are left as they are; users are still managed`,
    ]);
  } finally {
    await client.connection.close();
  }
}
