/**
 * The connector workflow end to end on a real Temporal dev server: started by the client through
 * Update-With-Start, run by a real worker, its activity reporting the worker's configuration
 * without secrets — and no secret anywhere in the workflow's history.
 */
import { WithStartWorkflowOperation } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { workflowIds } from '../temporal/ids';
import { connectorTaskQueue } from '../temporal/task-queues';
import { createWorkers } from '../worker/worker';
import { connectorWorkflow } from '../workflows';
import { checkWorkersUpdate, statusQuery } from '../contracts/connector';
import { TEST_SECRETS, testWorkerConfig } from './support/config';
import { startTestTemporal, uniqueTaskQueue, type TestTemporal } from './support/temporal';

let temporal: TestTemporal;

beforeAll(async () => {
  temporal = await startTestTemporal();
});

afterAll(async () => {
  await temporal?.stop();
});

async function withWorker<T>(taskQueue: string, fn: () => Promise<T>, connectorId = 'default'): Promise<T> {
  const config = testWorkerConfig({
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    CONNECTOR_ID: connectorId,
  });
  const worker = await createWorkers({
    config,
    connection: temporal.nativeConnection,
    client: temporal.client,
    workflowBundle: await temporal.workflowBundle(),
    identity: 'test-worker',
  });
  return worker.runUntil(fn);
}

test('the connector workflow runs its health activity on a worker and reports its configuration without secrets', async () => {
  const configured = uniqueTaskQueue('connector');
  const connectorId = `c${Date.now().toString(36)}`;
  // The connector's own queue (issue 16): its workers poll nothing else.
  const taskQueue = connectorTaskQueue(configured, connectorId);
  await withWorker(
    configured,
    async () => {
      const start = new WithStartWorkflowOperation(connectorWorkflow, {
        workflowId: workflowIds.connector(connectorId),
        taskQueue,
        args: [{ connectorId }],
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      const health = await temporal.client.workflow.executeUpdateWithStart(checkWorkersUpdate, {
        startWorkflowOperation: start,
      });
      expect(health.worker).toBe('test-worker');
      expect(health.configuration).toMatchObject({
        TEMPORAL_TASK_QUEUE: `${taskQueue} (from ${configured})`,
        JUMPCLOUD_API_KEY: 'set',
        NOTION_SCIM_TOKEN: 'set',
      });

      const handle = await start.workflowHandle();
      const status = await handle.query(statusQuery);
      expect(status).toMatchObject({ connectorId, activated: false, groupManagement: false });
      expect(status.lastWorkerCheck?.worker).toBe('test-worker');

      // Found in the UI by connector id and kind.
      const description = await handle.describe();
      expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.connectorId)).toBe(connectorId);
      expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.kind)).toBe('connector');

      // A second start of the same connector reuses the running workflow.
      const again = await temporal.client.workflow.executeUpdateWithStart(checkWorkersUpdate, {
        startWorkflowOperation: new WithStartWorkflowOperation(connectorWorkflow, {
          workflowId: workflowIds.connector(connectorId),
          taskQueue,
          args: [{ connectorId }],
          workflowIdConflictPolicy: 'USE_EXISTING',
        }),
      });
      expect(again.worker).toBe('test-worker');
      expect((await handle.describe()).runId).toBe(description.runId);

      const history = JSON.stringify(await handle.fetchHistory());
      for (const secret of Object.values(TEST_SECRETS)) expect(history).not.toContain(secret);
    },
    connectorId,
  );
});

test('the connector workflow refuses invalid input instead of retrying it', async () => {
  const taskQueue = uniqueTaskQueue('connector-invalid');
  await withWorker(taskQueue, async () => {
    const handle = await temporal.client.workflow.start(connectorWorkflow, {
      workflowId: `invalid-${Date.now()}`,
      taskQueue,
      args: [{ connectorId: 'Not Valid!' }],
    });
    await expect(handle.result()).rejects.toThrow(/Workflow execution failed/);
    const description = await handle.describe();
    expect(description.status.name).toBe('FAILED');
  });
});
