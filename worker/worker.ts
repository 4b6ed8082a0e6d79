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
import { createActivitiesByQueue } from '../activities';
import { leasePermits, RequestBudget } from '../activities/permits';
import {
  createApiClients,
  createCredentialGuards,
  type ApiClients,
  type CredentialGuards,
} from '../activities/clients';
import { workflowIds } from '../temporal/ids';
import { credentialsRejectedSignal, statusQuery, type ConnectorStatus } from '../contracts/connector';
import type { WorkerInterceptors } from '@temporalio/worker';
import { secretValues, type WorkerConfig } from '../config/config';
import { currentSecretValues } from '../config/secrets';
import { activityGuard, cachedFor } from './activity-guard';
import type { WriteGate } from '../api/http';
import { temporalLogger, type Logger } from '../common/logger';
import type { Client } from '@temporalio/client';
import { clientOn, connect, connectClient, connectWorker } from '../temporal/connection';
import { dataConverterFor, ENCRYPTED_FAILURE_CONVERTER_PATH, isEncrypted } from '../temporal/data-converter';
import { ensureSearchAttributes, searchAttributeCommands } from '../temporal/register-search-attributes';
import { taskQueues } from '../temporal/task-queues';
import { ParkingSlots, tunerWith } from './slots';
import { connectorGaugeReader, ProductMetrics } from './metrics';
import { freeLoopbackPort, startWorkerHttp } from './http';

export const WORKFLOWS_PATH = require.resolve('../workflows');
/** Shared by every workflow of a worker instead of evaluated per workflow (issue 18, ADR 0018). */
export const PRELOAD_MODULES = [require.resolve('../workflows/preload')];
/** The SDK's default number of concurrent activities per worker. */
const API_ACTIVITY_SLOTS = 100;

let runtimeInstalled = false;

/**
 * Routes the SDK's logs through ours. Must happen before the first connection; later calls are
 * no-ops. Signals are handled by the commands, which stop workers and then the rest in order.
 */
export function installRuntime(logger: Logger, options: { sdkMetricsAddress?: string } = {}): boolean {
  if (runtimeInstalled) return false;
  runtimeInstalled = true;
  try {
    Runtime.install({
      logger: temporalLogger(logger, 'WARN'),
      shutdownSignals: [],
      telemetryOptions: {
        logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
        // Issue 17: the SDK's own metrics, served by the worker's /metrics (worker/http.ts).
        ...(options.sdkMetricsAddress
          ? { metrics: { prometheus: { bindAddress: options.sdkMetricsAddress } } }
          : {}),
      },
    });
    return true;
  } catch {
    // Already installed by the embedding process (e.g. a test runner): keep that one.
    return false;
  }
}

/** Which failure converter each bundle made here was built with (issue 16). */
const bundleEncryption = new WeakMap<WorkflowBundle, boolean>();

/**
 * Bundles the workflow code once; pass the result to several workers to skip re-bundling. With
 * `encrypted`, the bundle encodes failure messages and stack traces (the codec then encrypts
 * them): a deployment with `PAYLOAD_ENCRYPTION_KEYS` needs that bundle, one without the other.
 */
export async function bundleWorkflows(
  logger?: Logger,
  /** `preload: false` evaluates every module per workflow (the benchmark's reference). */
  options: { encrypted?: boolean; preload?: boolean } = {},
): Promise<WorkflowBundle> {
  const encrypted = Boolean(options.encrypted);
  const bundle = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    preloadModules: options.preload === false ? [] : PRELOAD_MODULES,
    logger: logger ? temporalLogger(logger, 'WARN') : Runtime.instance().logger,
    failureConverterPath: encrypted ? ENCRYPTED_FAILURE_CONVERTER_PATH : undefined,
  });
  bundleEncryption.set(bundle, encrypted);
  return bundle;
}

/**
 * The dispatch rate for a service limited to `maxRps`. Temporal's limiter and the service's are
 * both token buckets; dispatching at exactly the service's rate, network jitter makes a request
 * arrive a few milliseconds before the service's next token now and then (a 429). A 5% headroom
 * absorbs that while keeping the sustained rate above SPEC §9's 90%.
 */
export const RATE_HEADROOM = 0.95;

export function dispatchRate(maxRps: number): number {
  return maxRps * RATE_HEADROOM;
}

/**
 * C3: the process's credential guards. When one opens, the connector is told (once per opening
 * and worker): it shows "credentials rejected", sends the alert and probes until they work.
 */
export function credentialGuards(config: WorkerConfig, client: Client): CredentialGuards {
  return createCredentialGuards(config, {
    onReject: (rejection) => {
      client.workflow
        .getHandle(workflowIds.connector(config.connectorId))
        .signal(credentialsRejectedSignal, {
          ...rejection,
          probeIntervalMs: config.credentialsProbeIntervalMs,
        })
        .catch((error: unknown) => {
          Runtime.instance().logger.warn('could not tell the connector that credentials were rejected', {
            service: rejection.service,
            error: error instanceof Error ? error.message : String(error),
          });
        });
    },
  });
}

/** C1/C2: how stale a worker's knowledge that the connector is active may be, at most. */
export const ACTIVATION_CHECK_MS = 2_000;

/** Why a Notion write is refused, from the connector's state; undefined while it is activated. */
function writeRefusal({ activated, deactivatedAt }: Pick<ConnectorStatus, 'activated' | 'deactivatedAt'>) {
  if (activated) return undefined;
  return deactivatedAt === undefined
    ? 'the connector is not activated (C1): nothing is written to Notion before `jc-notion activate`'
    : `the connector was deactivated at ${deactivatedAt} (C2): nothing is written to Notion until \`jc-notion activate\`, then the next reconciliation (or \`jc-notion sync\`) takes this up again`;
}

/**
 * C1/C2: a Notion write is refused while the connector is not activated: before its first
 * `activate`, and once deactivated, also for the users a reconciliation or the change feed had
 * handed over before (up to a reconciliation's window of them, which would otherwise go on
 * writing for minutes). `readStatus` asks the connector.
 *
 * - Allowed: writes go on while the state is read again in the background, at most every `ttlMs`.
 * - Refused: only on a read that started after the write asked, so that the writes just after
 *   `activate` are never refused on what was true before it.
 * - A read that fails keeps what was known: a Temporal hiccup never becomes an error on every user.
 *   With no connector to ask (a worker started before anyone ran `jc-notion`), writes go on.
 */
export function activationGate(
  readStatus: () => Promise<Pick<ConnectorStatus, 'activated' | 'deactivatedAt'>>,
  ttlMs = ACTIVATION_CHECK_MS,
  now: () => number = Date.now,
): WriteGate {
  let known: { refusal?: string; at: number } | undefined;
  let reading: { startedAt: number; done: Promise<void> } | undefined;
  /** A read that started at `since` or later: the one under way if it did, else a new one. */
  const read = (since: number): Promise<void> => {
    if (reading && reading.startedAt >= since) return reading.done;
    const startedAt = now();
    const done = readStatus().then(
      (status) => {
        if (known && known.at > startedAt) return; // a later read answered first
        const refusal = writeRefusal(status);
        known = { at: startedAt, ...(refusal === undefined ? {} : { refusal }) };
      },
      () => {
        // What was known stands; knowing nothing yet (no connector), writes are not held up.
        known ??= { at: startedAt };
      },
    );
    reading = { startedAt, done };
    void done.then(() => {
      if (reading?.done === done) reading = undefined;
    });
    return done;
  };
  return async () => {
    const asked = now();
    if (!known || known.refusal !== undefined) await read(asked);
    else if (asked - known.at > ttlMs) void read(asked - ttlMs);
    return known?.refusal;
  };
}

export interface CreateWorkersOptions {
  config: WorkerConfig;
  connection: NativeConnection;
  /**
   * A client of the same namespace, for activities that query or signal workflows. Its connection
   * is used with this configuration's data converter (issue 16).
   */
  client: Client;
  identity?: string;
  workflowBundle?: WorkflowBundle;
  /** API clients to share (default: new ones, closed when the workers stop). */
  clients?: ApiClients;
  /** Activity slots of each API queue's worker (default 100, the SDK's; tests use fewer). */
  apiActivitySlots?: number;
  /** Issue 17: the process's metrics (requests and activities are counted into them). */
  metrics?: ProductMetrics;
  /** Issue 18: a reconciliation's users handed over and not yet settled, at most (tests use fewer). */
  dispatchWindow?: number;
}

/** The workers of one process: one per task queue (temporal/task-queues.ts). */
export interface WorkerSet {
  workers: Worker[];
  identity: string;
  /** Runs every worker until `shutdown`; resolves once all have stopped and the clients are closed. */
  run(): Promise<void>;
  shutdown(): void;
  /** Runs the workers while `fn` runs, then stops them (tests, scripts). */
  runUntil<T>(fn: () => Promise<T>): Promise<T>;
}

/**
 * The longest a long activity (a reconciliation's hand-over, an import, the feed's poll) goes
 * without telling Temporal it is alive, while it reports. A cancellation (`deactivate`, C2) or the
 * end of its workflow (terminated) reaches an activity only in a heartbeat's answer, and the SDK's
 * default (60 s, or 0.8 of the heartbeat timeout) let a stopped reconciliation hand users over for
 * up to a minute. One heartbeat every few seconds per running activity costs nothing.
 */
const HEARTBEAT_THROTTLE = '3 seconds';

export async function createWorkers(options: CreateWorkersOptions): Promise<WorkerSet> {
  const { config, connection } = options;
  const encrypted = isEncrypted(config);
  const given = options.workflowBundle;
  if (given && bundleEncryption.has(given) && bundleEncryption.get(given) !== encrypted)
    throw new Error(
      `the workflow bundle was built ${encrypted ? 'without' : 'with'} encrypted failures, but PAYLOAD_ENCRYPTION_KEYS is ${encrypted ? 'set' : 'unset'}`,
    );
  // Activities start, signal and query workflows: with the payloads encoded as the workers' own.
  const client = clientOn(options.client.connection, config);
  const identity = options.identity ?? `${process.pid}@${os.hostname()}`;
  const queues = taskQueues(config.temporal.taskQueue);
  const ownClients = !options.clients;
  // Issue 15: a request beyond the one an activity's dispatch paid for takes a permit first.
  const budget = new RequestBudget((request, signal) => leasePermits(client, config, request, signal), {
    notion: config.notion.maxRps,
    jumpcloud: config.jumpcloud.maxRps,
  });
  const clients =
    options.clients ??
    createApiClients(
      config,
      {
        notion: budget.beforeRequest('notion'),
        jumpcloud: budget.beforeRequest('jumpcloud'),
        onResponse: options.metrics?.observeResponse,
      },
      credentialGuards(config, client),
      activationGate(() =>
        client.workflow.getHandle(workflowIds.connector(config.connectorId)).query(statusQuery),
      ),
    );
  // An API queue's activity waiting for a permit hands its slot back: the permit is an activity
  // of the same queue, which needs a slot to run (worker/slots.ts).
  const slots = {
    notion: new ParkingSlots(options.apiActivitySlots ?? API_ACTIVITY_SLOTS),
    jumpcloud: new ParkingSlots(options.apiActivitySlots ?? API_ACTIVITY_SLOTS),
  };
  const activities = createActivitiesByQueue(
    { config, identity, clients, temporal: client, budget, dispatchWindow: options.dispatchWindow },
    slots,
  );
  // Issue 16: every activity is this connector's, for this worker's application, and no
  // failure leaves with a secret in it.
  const guard = activityGuard({
    connectorId: config.connectorId,
    appId: config.jumpcloud.appId,
    connectorAppId: cachedFor(60_000, () =>
      client.workflow
        .getHandle(workflowIds.connector(config.connectorId))
        .query(statusQuery)
        .then(
          (status) => status.lastVerification?.application?.id,
          () => undefined,
        ),
    ),
    secrets: () => currentSecretValues(secretValues(config), config.secretFiles),
  });
  // The metrics see each activity's outcome as it leaves the guard (scrubbed, classified).
  const interceptors: WorkerInterceptors = {
    activity: [...(options.metrics ? [options.metrics.interceptor()] : []), guard],
  };
  const common = {
    connection,
    namespace: config.temporal.namespace,
    dataConverter: dataConverterFor(config),
    identity,
    interceptors,
    // In-flight activities get this long to finish when the worker stops.
    shutdownGraceTime: '10 seconds',
    maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
  } as const;
  // Bundled once for the two workers that run workflows.
  const workflowCode = {
    workflowBundle: given ?? (await bundleWorkflows(undefined, { encrypted })),
  };
  const workers = await Promise.all([
    Worker.create({
      ...common,
      taskQueue: queues.main,
      ...workflowCode,
      activities: activities.main,
    }),
    // The connector, its feed and reconciliations, and the pacer: same code, a queue of their own.
    Worker.create({
      ...common,
      taskQueue: queues.control,
      ...workflowCode,
      activities: activities.main,
    }),
    // The server enforces these rates for the whole queue, across every worker of the cluster.
    Worker.create({
      ...common,
      taskQueue: queues.notion,
      activities: activities.notion,
      tuner: tunerWith(slots.notion),
      maxTaskQueueActivitiesPerSecond: dispatchRate(config.notion.maxRps),
    }),
    Worker.create({
      ...common,
      taskQueue: queues.jumpcloud,
      activities: activities.jumpcloud,
      tuner: tunerWith(slots.jumpcloud),
      maxTaskQueueActivitiesPerSecond: dispatchRate(config.jumpcloud.maxRps),
    }),
  ]);
  const shutdown = () => {
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  const run = async () => {
    try {
      const results = await Promise.allSettled(workers.map((worker) => worker.run()));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    } finally {
      shutdown();
      budget.close();
      if (ownClients) await clients.close();
    }
  };
  return {
    workers,
    identity,
    run,
    shutdown,
    async runUntil(fn) {
      const running = run();
      try {
        return await fn();
      } finally {
        shutdown();
        await running;
      }
    },
  };
}

export interface RunningWorker {
  identity: string;
  /** Resolves when the workers have stopped. */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Connects, checks the search attributes and starts the workers; used by `worker` and `local`. */
export async function startWorker(config: WorkerConfig, logger: Logger): Promise<RunningWorker> {
  const sdkMetricsAddress = config.workerHttp ? `127.0.0.1:${await freeLoopbackPort()}` : undefined;
  const sdkMetrics = installRuntime(logger, { sdkMetricsAddress });
  const connection = await connectWorker(config);
  await checkSearchAttributes(config, logger);
  const client = await connectClient(config);
  const metrics = config.workerHttp
    ? new ProductMetrics(connectorGaugeReader(client, config.connectorId))
    : undefined;
  const set = await createWorkers({ config, connection, client, metrics });
  const probes = config.workerHttp
    ? await startProbes(config.workerHttp, set, client, metrics!, sdkMetrics ? sdkMetricsAddress : undefined)
    : undefined;
  if (probes) logger.info({ url: probes.url }, 'health and metrics endpoint: /healthz, /readyz, /metrics');
  const done = set.run().finally(async () => {
    await probes?.close();
    await connection.close();
    await client.connection.close();
  });
  const queues = taskQueues(config.temporal.taskQueue);
  logger.info(
    {
      namespace: config.temporal.namespace,
      taskQueues: queues,
      notionMaxRps: config.notion.maxRps,
      jumpcloudMaxRps: config.jumpcloud.maxRps,
      identity: set.identity,
    },
    'worker started',
  );
  return {
    identity: set.identity,
    done,
    stop: async () => {
      set.shutdown();
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

/** How long a Temporal answer keeps a worker ready (checked every 5 s). */
const TEMPORAL_CHECK_MS = 5_000;
const TEMPORAL_STALE_MS = 15_000;

/** Issue 17: the health, readiness and metrics endpoint of one worker process. */
async function startProbes(
  address: { host: string; port: number },
  set: WorkerSet,
  client: Client,
  metrics: ProductMetrics,
  sdkMetricsAddress: string | undefined,
) {
  let temporal: { at: number; error?: string } = { at: 0, error: 'not checked yet' };
  const check = async () => {
    try {
      await client.connection.withDeadline(Date.now() + 3_000, () =>
        client.workflowService.getSystemInfo({}),
      );
      temporal = { at: Date.now() };
    } catch (error) {
      temporal = {
        at: Date.now(),
        error: error instanceof Error ? error.message.split('\n')[0] : String(error),
      };
    }
  };
  await check();
  const timer = setInterval(() => void check(), TEMPORAL_CHECK_MS);
  timer.unref();
  const failed = () =>
    set.workers
      .filter((worker) => worker.getState() === 'FAILED')
      .map((worker) => `the worker of task queue ${worker.options.taskQueue} failed`);
  const http = await startWorkerHttp({
    ...address,
    metrics,
    sdkMetricsAddress,
    live: () => ({ ready: failed().length === 0, reasons: failed() }),
    ready: () => {
      const reasons = set.workers
        .filter((worker) => worker.getState() !== 'RUNNING')
        .map((worker) => `the worker of task queue ${worker.options.taskQueue} is ${worker.getState()}`);
      if (temporal.error) reasons.push(`Temporal does not answer: ${temporal.error}`);
      else if (Date.now() - temporal.at > TEMPORAL_STALE_MS) reasons.push('Temporal has not answered lately');
      return { ready: reasons.length === 0, reasons };
    },
  });
  return {
    url: http.url,
    close: async () => {
      clearInterval(timer);
      await http.close();
    },
  };
}
