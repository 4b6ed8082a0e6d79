/** `jc-notion approve` / `jc-notion reject` (C6): the admin's decision on held deactivations. */
import { loadConfig } from '../../config/config';
import { connectClient } from '../../temporal/connection';
import { decideDeactivationsUpdate } from '../../contracts/connector';
import { printJson, printLines, type OutputOptions } from '../output';
import { connectorStart, requireWorkers, withWorkerDeadline } from '../temporal';

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
    const result = await withWorkerDeadline(client, config, () =>
      client.workflow.executeUpdateWithStart(decideDeactivationsUpdate, {
        args: [options.expect === undefined ? decision : { decision, expect: options.expect }],
        startWorkflowOperation: connectorStart(config),
      }),
    );
    if (options.json) return printJson(result);
    if (result.users === 0) return printLines(['No deactivation awaits approval']);
    printLines([
      decision === 'approve'
        ? `Approved: ${result.users} held deactivation(s) released; each user is deactivated unless back in scope`
        : `Rejected: ${result.users} held deactivation(s) dropped; the users stay in Notion (a later reconciliation proposes them again while they are out of scope)`,
    ]);
  } finally {
    await client.connection.close();
  }
}
