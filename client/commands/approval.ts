/** `jc-notion approve` / `jc-notion reject` (C6): the admin's decision on held deactivations. */
import { loadConfig } from '../../config/config';
import { connectClient } from '../../temporal/connection';
import { decideDeactivationsUpdate } from '../../contracts/connector';
import { printJson, printLines, type OutputOptions } from '../output';
import { BULK_COMMAND_TIMEOUT_MS, connectorStart, requireWorkers, withWorkerDeadline } from '../temporal';

export interface ApprovalOptions extends OutputOptions {
  /** How many held deactivations the admin saw (`status`); refused if that changed. */
  expect?: number;
}

export async function approvalCommand(
  decision: 'approve' | 'reject',
  options: ApprovalOptions,
): Promise<void> {
  const config = loadConfig('client');
  const client = await connectClient(config);
  try {
    await requireWorkers(client, config);
    const result = await withWorkerDeadline(
      client,
      config,
      () =>
        client.workflow.executeUpdateWithStart(decideDeactivationsUpdate, {
          args: [options.expect === undefined ? decision : { decision, expect: options.expect }],
          startWorkflowOperation: connectorStart(config),
        }),
      BULK_COMMAND_TIMEOUT_MS,
    );
    if (options.json) return printJson(result);
    if (result.users === 0) return printLines(['No change awaits approval']);
    printLines([
      decision === 'approve'
        ? `Approved: ${result.users} held change(s) released (deactivations, or a first reconciliation's creations); each user re-reads JumpCloud and is changed only if that is still due`
        : `Rejected: ${result.users} held change(s) dropped; Notion stays as it is (a later reconciliation proposes them again while they are still due)`,
    ]);
  } finally {
    await client.connection.close();
  }
}
