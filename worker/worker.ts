/**
 * The worker: what every cluster node runs. It polls the product's task queue and runs the
 * workflows and activities. Scale by running more of them.
 */
import os from 'node:os';
import {
  Worker,
  Runtime,
  bundleWorkflowCode,
  type NativeConnection,
  type WorkflowBundle,
} from '@temporalio/worker';
import { createActivities } from '../activities';
import { type WorkerConfig } from '../config/config';
import { temporalLogger, type Logger } from '../common/logger';
import { connect, connectWorker } from '../temporal/connection';
import { ensureSearchAttributes, searchAttributeCommands } from '../temporal/register-search-attributes';

export const WORKFLOWS_PATH = require.resolve('../workflows');

let runtimeInstalled = false;

/**
 * Routes the SDK's logs through ours. Must happen before the first connection; later calls are
 * no-ops. Signals are handled by the commands, which stop workers and then the rest in order.
 */
export function installRuntime(logger: Logger): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({
      logger: temporalLogger(logger, 'WARN'),
      shutdownSignals: [],
      telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } },
    });
  } catch {
    // Already installed by the embedding process (e.g. a test runner): keep that one.
  }
}

/** Bundles the workflow code once; pass the result to several workers to skip re-bundling. */
export function bundleWorkflows(logger?: Logger): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: logger ? temporalLogger(logger, 'WARN') : undefined,
  });
}

export interface CreateWorkerOptions {
  config: WorkerConfig;
  connection: NativeConnection;
  /** Defaults to the configured task queue. */
  taskQueue?: string;
  identity?: string;
  workflowBundle?: WorkflowBundle;
}

export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const { config, connection } = options;
  const identity = options.identity ?? `${process.pid}@${os.hostname()}`;
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: options.taskQueue ?? config.temporal.taskQueue,
    identity,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities({ config, identity }),
    // In-flight activities get this long to finish when the worker stops.
    shutdownGraceTime: '10 seconds',
  });
}

export interface RunningWorker {
  worker: Worker;
  /** Resolves when the worker has stopped. */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Connects, checks the search attributes and starts a worker; used by `worker` and `local`. */
export async function startWorker(config: WorkerConfig, logger: Logger): Promise<RunningWorker> {
  installRuntime(logger);
  const connection = await connectWorker(config);
  await checkSearchAttributes(config, logger);
  const worker = await createWorker({ config, connection });
  const done = worker.run().finally(() => connection.close());
  logger.info(
    {
      taskQueue: config.temporal.taskQueue,
      namespace: config.temporal.namespace,
      identity: worker.options.identity,
    },
    'worker started',
  );
  return {
    worker,
    done,
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

async function checkSearchAttributes(config: WorkerConfig, logger: Logger): Promise<void> {
  const { namespace } = config.temporal;
  const connection = await connect(config);
  try {
    const check = await ensureSearchAttributes(connection, namespace);
    if (check.added.length > 0) logger.info({ added: check.added }, 'registered search attributes');
    if (check.missing.length > 0) {
      logger.warn(
        { missing: check.missing, reason: check.error, commands: searchAttributeCommands(namespace) },
        'search attributes are missing and could not be registered: the Temporal UI cannot find users by JumpCloud id or email until an admin creates them',
      );
    }
  } finally {
    await connection.close();
  }
}
