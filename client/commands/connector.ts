/** `jc-notion activate` (C1) and `jc-notion deactivate` (C2). */
import { loadConfig } from '../../config/config';
import { connectClient } from '../../temporal/connection';
import { activateUpdate, deactivateUpdate, setGroupManagementUpdate } from '../../contracts/connector';
import { CliError } from '../errors';
import { printJson, printLines, type OutputOptions } from '../output';
import { connectorStart, requireWorkers, withWorkerDeadline } from '../temporal';

export async function activateCommand(options: OutputOptions): Promise<void> {
  const config = loadConfig('client');
  const client = await connectClient(config);
  try {
    await requireWorkers(client, config);
    const verification = await withWorkerDeadline(client, config, () =>
      client.workflow.executeUpdateWithStart(activateUpdate, {
        startWorkflowOperation: connectorStart(config),
      }),
    );
    if (options.json) printJson(verification);
    else if (verification.verified) printLines([`Connector ${config.connectorId}: verified and activated`]);
    if (!verification.verified) {
      if (options.json) process.exitCode = 1;
      else throw new CliError(`not activated: ${verification.reasons.join('; ')}`);
    }
  } finally {
    await client.connection.close();
  }
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
