/** `jc-notion provision <user>` (C8): converges one user now and prints each step with its outcome. */
import { WithStartWorkflowOperation } from '@temporalio/client';
import { loadConfig } from '../../config/config';
import { connectClient } from '../../temporal/connection';
import { workflowIds } from '../../temporal/ids';
import { entityTags } from '../../temporal/search-attributes';
import { userStartMetadata } from '../../temporal/entities';
import { resolveUserUpdate } from '../../contracts/connector';
import { userWorkflow } from '../../workflows/user';
import { provisionUserUpdate } from '../../contracts/user';
import { CliError } from '../errors';
import { printJson, printLines, type OutputOptions } from '../output';
import { connectorStart, requireWorkers, withWorkerDeadline } from '../temporal';

export async function provisionCommand(ref: string, options: OutputOptions): Promise<void> {
  const config = loadConfig('client');
  const client = await connectClient(config);
  try {
    await requireWorkers(client, config);
    const result = await withWorkerDeadline(client, config, async () => {
      const user = await client.workflow.executeUpdateWithStart(resolveUserUpdate, {
        args: [ref],
        startWorkflowOperation: connectorStart(config),
      });
      if (!user) throw new CliError(`no JumpCloud user with id, username or email "${ref}"`);
      const outcome = await client.workflow.executeUpdateWithStart(provisionUserUpdate, {
        startWorkflowOperation: new WithStartWorkflowOperation(userWorkflow, {
          workflowId: workflowIds.user(config.connectorId, user.jumpcloudUserId),
          taskQueue: config.temporal.taskQueue,
          typedSearchAttributes: entityTags('user', config.connectorId, user.jumpcloudUserId),
          ...userStartMetadata(config.connectorId, user.jumpcloudUserId, user.policy, {
            username: user.username,
          }),
          args: [
            { connectorId: config.connectorId, jumpcloudUserId: user.jumpcloudUserId, policy: user.policy },
          ],
          workflowIdConflictPolicy: 'USE_EXISTING',
        }),
      });
      return { user, ...outcome };
    });
    if (options.json) return printJson(result);
    printLines([
      `Provisioning ${result.user.username} (${result.user.jumpcloudUserId})`,
      ...result.steps.map((step, i) => `  ${i + 1}. ${step.step}: ${step.outcome}`),
      `Result: ${result.state.status}${result.state.notionId ? `, Notion id ${result.state.notionId}` : ''}`,
    ]);
    if (result.state.status === 'error') process.exitCode = 1;
  } finally {
    await client.connection.close();
  }
}
