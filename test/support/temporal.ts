/**
 * A real Temporal dev server for one test file: free ports, headless, the product's search
 * attributes registered. Start it in `beforeAll`, stop it in `afterAll`; run independent
 * scenarios on separate task queues (`uniqueTaskQueue`).
 */
import { Client, type Connection } from '@temporalio/client';
import { NativeConnection, type WorkflowBundle } from '@temporalio/worker';
import { createLogger } from '../../common/logger';
import { obtainTemporalCli } from '../../harness/temporal/cli-binary';
import { startDevServer, type DevServer } from '../../harness/temporal/dev-server';
import { bundleWorkflows, installRuntime } from '../../worker/worker';
import { connectClosable } from '../../temporal/connection';

export interface TestTemporal {
  server: DevServer;
  address: string;
  namespace: string;
  connection: Connection;
  client: Client;
  nativeConnection: NativeConnection;
  /**
   * The workflow code, bundled once per test file (and once more with encrypted failures, for
   * workers with PAYLOAD_ENCRYPTION_KEYS: issue 16).
   */
  workflowBundle(options?: { encrypted?: boolean }): Promise<WorkflowBundle>;
  stop(): Promise<void>;
}

let queueCounter = 0;

/** A task queue no other scenario of this run uses. */
export function uniqueTaskQueue(prefix = 'test'): string {
  queueCounter += 1;
  return `${prefix}-${process.pid}-${queueCounter}-${Date.now().toString(36)}`;
}

export async function startTestTemporal(
  options: { dynamicConfig?: Record<string, unknown> } = {},
): Promise<TestTemporal> {
  const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'warn' });
  installRuntime(logger);
  const cli = await obtainTemporalCli();
  const server = await startDevServer({
    executable: cli.path,
    uiPort: false,
    dynamicConfig: options.dynamicConfig,
  });
  try {
    const connection = await connectClosable({ address: server.address });
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    const bundles = new Map<boolean, Promise<WorkflowBundle>>();
    const bundleFor = (encrypted: boolean) => {
      let bundle = bundles.get(encrypted);
      if (!bundle) bundles.set(encrypted, (bundle = bundleWorkflows(logger, { encrypted })));
      return bundle;
    };
    return {
      server,
      address: server.address,
      namespace: server.namespace,
      connection,
      client: new Client({ connection, namespace: server.namespace }),
      nativeConnection,
      workflowBundle: (bundleOptions) => bundleFor(Boolean(bundleOptions?.encrypted)),
      stop: async () => {
        await nativeConnection.close().catch(() => undefined);
        await connection.close().catch(() => undefined);
        await server.stop();
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
