/** `jc-notion status`: the connector's state and the health of the workers. */
import type { WorkerHealth } from '../../activities';
import { loadConfig } from '../../config/config';
import { connectClient } from '../../temporal/connection';
import { checkWorkersUpdate, statusQuery, type ConnectorStatus } from '../../workflows/connector';
import { printJson, printLines, table, type OutputOptions } from '../output';
import { connectorStart, requireWorkers, withWorkerDeadline } from '../temporal';

export interface StatusReport {
  connector: ConnectorStatus;
  workers: { polling: number; answeredBy: WorkerHealth };
}

export async function statusCommand(options: OutputOptions): Promise<void> {
  const config = loadConfig('client');
  const client = await connectClient(config);
  try {
    const polling = await requireWorkers(client, config);
    const report = await withWorkerDeadline(client, config, async () => {
      const start = connectorStart(config);
      const health = await client.workflow.executeUpdateWithStart(checkWorkersUpdate, {
        startWorkflowOperation: start,
      });
      const connector = await (await start.workflowHandle()).query(statusQuery);
      return { connector, workers: { polling, answeredBy: health } } satisfies StatusReport;
    });
    if (options.json) return printJson(report);
    const { connector, workers } = report;
    printLines([
      `Connector ${connector.connectorId}: ${connector.activated ? 'activated' : 'not activated'}`,
      `  group management: ${connector.groupManagement ? 'enabled' : 'disabled'}`,
      `Workers: ${workers.polling} polling task queue ${config.temporal.taskQueue}; answered by ${workers.answeredBy.worker} (node ${workers.answeredBy.node}, up ${workers.answeredBy.uptimeSeconds} s)`,
      '  configuration (secrets hidden):',
      ...table(
        Object.entries(workers.answeredBy.configuration).map(([key, value]) => [
          key,
          Array.isArray(value) ? value.join(', ') || '(none)' : String(value),
        ]),
        '    ',
      ),
    ]);
  } finally {
    await client.connection.close();
  }
}
