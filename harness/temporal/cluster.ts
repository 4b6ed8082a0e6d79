/**
 * Issue 17: a Temporal cluster as users run one, on one machine: the server's frontend, history,
 * matching and internal worker services as four processes of the pinned release, on PostgreSQL
 * with SQL (advanced) visibility; the namespace and the product's search attributes registered
 * through the operator API. The cluster test kills and restarts its processes one by one; a service
 * that exits by itself is started again, as a supervisor would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { ensureSearchAttributes } from '../../temporal/register-search-attributes';
import net from 'node:net';
import { DEV_SERVER_DYNAMIC_CONFIG } from './dev-server';
import { dropDatabases, ensurePostgres, type PostgresAddress } from './postgres';
import { killOnExit } from './processes';
import { obtainTemporalServer, type TemporalServerBinaries } from './server-binary';

const run = promisify(execFile);

export const CLUSTER_SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;
export type ClusterService = (typeof CLUSTER_SERVICES)[number];

export interface ClusterOptions {
  /** Config, logs and state of this cluster (created). */
  dir: string;
  /** Database name prefix: `<prefix>` and `<prefix>_visibility` (created; dropped by `destroy`). */
  database: string;
  namespace?: string;
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export interface TemporalCluster {
  address: string;
  namespace: string;
  binaries: TemporalServerBinaries;
  postgres: PostgresAddress;
  /** The process of a service (undefined while it is down). */
  pid(service: ClusterService): number | undefined;
  /** Sends `signal` to a service's process and waits for it to exit; it stays down until `start`. */
  kill(service: ClusterService, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a service that is down. */
  start(service: ClusterService): void;
  /** Waits until the frontend answers for the namespace. */
  ready(timeoutMs?: number): Promise<void>;
  /** Stops every service (SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
  /** Stops, then drops the databases. */
  destroy(): Promise<void>;
}

/**
 * What the product needs of any self-hosted cluster: the dev server's settings (one partition per
 * task queue, ADR 0012) and Update-With-Start. `deploy/temporal/dynamicconfig.yaml` holds them too.
 */
export const CLUSTER_DYNAMIC_CONFIG: Record<string, unknown> = {
  ...DEV_SERVER_DYNAMIC_CONFIG,
  'frontend.enableUpdateWorkflowExecution': true,
  'frontend.enableUpdateWorkflowExecutionAsyncAccepted': true,
  'frontend.enableExecuteMultiOperation': true,
  'limit.maxIDLength': 1000,
};

/** The test cluster's own: search attributes usable as soon as they are registered. */
const DYNAMIC_CONFIG: Record<string, unknown> = {
  ...CLUSTER_DYNAMIC_CONFIG,
  'system.forceSearchAttributesCacheRefreshOnRead': true,
};

function configYaml(o: {
  postgres: PostgresAddress;
  database: string;
  ports: Record<ClusterService, { grpc: number; membership: number }> & { http: number };
  dynamicConfigFile: string;
}): string {
  const store = (db: string, conns: number) => `      sql:
        pluginName: "postgres12"
        databaseName: "${db}"
        connectAddr: "${o.postgres.host}:${o.postgres.port}"
        connectProtocol: "tcp"
        user: ${JSON.stringify(o.postgres.user)}
        password: ${JSON.stringify(o.postgres.password)}
        maxConns: ${conns}
        maxIdleConns: ${conns}
        maxConnLifetime: "1h"`;
  const service = (name: ClusterService) => `  ${name}:
    rpc:
      grpcPort: ${o.ports[name].grpc}
      membershipPort: ${o.ports[name].membership}
      bindOnLocalHost: true${name === 'frontend' ? `\n      httpPort: ${o.ports.http}` : ''}`;
  return `log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: 4
  datastores:
    default:
${store(o.database, 20)}
    visibility:
${store(`${o.database}_visibility`, 10)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
services:
${CLUSTER_SERVICES.map(service).join('\n')}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:${o.ports.frontend.grpc}"
dcRedirectionPolicy:
  policy: "noop"
dynamicConfigClient:
  filepath: ${JSON.stringify(o.dynamicConfigFile)}
  pollInterval: "10s"
`;
}

function dynamicConfigYaml(values: Record<string, unknown>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key}:\n  - value: ${JSON.stringify(value)}\n    constraints: {}\n`)
    .join('');
}

async function sqlTool(
  binaries: TemporalServerBinaries,
  pg: PostgresAddress,
  database: string,
  args: string[],
) {
  await run(
    binaries.sqlTool,
    [
      '--plugin',
      'postgres12',
      '--endpoint',
      pg.host,
      '--port',
      String(pg.port),
      '--user',
      pg.user,
      '--password',
      pg.password,
      '--database',
      database,
      ...args,
    ],
    { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 },
  );
}

export async function startCluster(options: ClusterOptions): Promise<TemporalCluster> {
  const log = options.log ?? (() => undefined);
  const namespace = options.namespace ?? 'default';
  const binaries = await obtainTemporalServer({ log, env: options.env });
  const postgres = await ensurePostgres({ log, env: options.env });
  const db = options.database;
  fs.mkdirSync(path.join(options.dir, 'config'), { recursive: true });

  // The two databases, their schemas at the release's latest versions.
  for (const [name, schema] of [
    [db, 'temporal'],
    [`${db}_visibility`, 'visibility'],
  ] as const) {
    await sqlTool(binaries, postgres, name, ['create-database']).catch((error: unknown) => {
      if (!/already exists/i.test(String((error as { stderr?: string }).stderr ?? error))) throw error;
    });
    await sqlTool(binaries, postgres, name, ['setup-schema', '-v', '0.0']);
    await sqlTool(binaries, postgres, name, [
      'update-schema',
      '-d',
      path.join(binaries.schemaDir, schema, 'versioned'),
    ]);
  }
  log(`Databases ${db} and ${db}_visibility ready on ${postgres.host}:${postgres.port}`);

  // Below 32768: the SQL schema keeps membership ports in a smallint (ephemeral ports are above).
  const port = () => freeLowPort();
  const ports = {
    frontend: { grpc: await port(), membership: await port() },
    history: { grpc: await port(), membership: await port() },
    matching: { grpc: await port(), membership: await port() },
    worker: { grpc: await port(), membership: await port() },
    http: await port(),
  };
  const dynamicConfigFile = path.join(options.dir, 'config', 'dynamicconfig.yaml');
  fs.writeFileSync(dynamicConfigFile, dynamicConfigYaml(DYNAMIC_CONFIG));
  fs.writeFileSync(
    path.join(options.dir, 'config', 'cluster.yaml'),
    configYaml({ postgres, database: db, ports, dynamicConfigFile }),
  );
  const address = `127.0.0.1:${ports.frontend.grpc}`;

  const processes = new Map<ClusterService, { child: ChildProcess; exited: Promise<void> }>();
  const start = (service: ClusterService) => {
    stopping.delete(service);
    if (processes.has(service)) return;
    const out = fs.openSync(path.join(options.dir, `${service}.log`), 'a');
    const child = spawn(
      binaries.server,
      [
        '--root',
        options.dir,
        '--config',
        'config',
        '--env',
        'cluster',
        '--allow-no-auth',
        'start',
        '--service',
        service,
      ],
      { stdio: ['ignore', out, out] },
    );
    fs.closeSync(out);
    killOnExit(child);
    const exited = new Promise<void>((resolve) =>
      child.once('exit', (code, signal) => {
        processes.delete(service);
        resolve();
        // A supervisor's `restart: unless-stopped`: a service that exits by itself (a server
        // gives up when its database goes away for too long, say) is started again.
        if (!stopping.has(service) && !stopped) {
          log(`the Temporal ${service} service exited (${signal ?? `code ${code}`}); starting it again`);
          setTimeout(() => {
            if (!stopping.has(service) && !stopped) start(service);
          }, 2_000).unref();
        }
      }),
    );
    processes.set(service, { child, exited });
  };
  /** Services stopped on purpose (`kill`, until `start`), which the supervisor leaves down. */
  const stopping = new Set<ClusterService>();
  let stopped = false;
  const kill = async (service: ClusterService, signal: NodeJS.Signals = 'SIGKILL') => {
    const entry = processes.get(service);
    if (!entry) return;
    stopping.add(service);
    entry.child.kill(signal);
    const timer = setTimeout(() => entry.child.kill('SIGKILL'), 15_000);
    await entry.exited;
    clearTimeout(timer);
  };
  const stop = async () => {
    stopped = true;
    for (const service of [...CLUSTER_SERVICES].reverse()) await kill(service, 'SIGTERM');
  };
  const ready = async (timeoutMs = 120_000) => {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      for (const service of CLUSTER_SERVICES)
        if (!processes.has(service) && stopping.has(service))
          throw new Error(`the Temporal ${service} service is stopped: start it first`);
      try {
        const connection = await Connection.connect({ address, connectTimeout: '2s' });
        try {
          await connection.workflowService.describeNamespace({ namespace });
          return;
        } finally {
          await connection.close();
        }
      } catch (error) {
        last = error instanceof Error ? error.message.split('\n')[0]! : String(error);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    throw new Error(`the Temporal cluster did not answer at ${address}: ${last}`);
  };

  try {
    // One after another: each initialises the cluster's metadata on its first start, and two
    // doing it at once fail on a version mismatch.
    for (const service of ['history', 'matching', 'frontend', 'worker'] as const) {
      start(service);
      await listening(ports[service].membership, () => processes.has(service), service, options.dir);
    }
    await registerNamespace(address, namespace);
    await ready();
    const connection = await Connection.connect({ address });
    try {
      const check = await ensureSearchAttributes(connection, namespace);
      if (check.missing.length > 0)
        throw new Error(`search attributes not registered: ${check.missing.join(', ')} (${check.error})`);
    } finally {
      await connection.close();
    }
  } catch (error) {
    await stop();
    throw error;
  }
  log(`Temporal cluster ${binaries.version} ready at ${address} (namespace ${namespace})`);
  return {
    address,
    namespace,
    binaries,
    postgres,
    pid: (service) => processes.get(service)?.child.pid,
    kill,
    start,
    ready,
    stop,
    destroy: async () => {
      await stop();
      await dropDatabases(postgres, [db, `${db}_visibility`]);
    },
  };
}

/** Registers the namespace once the frontend answers (the operator API of a fresh cluster). */
async function registerNamespace(address: string, namespace: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: '2s' });
      try {
        await connection.workflowService.registerNamespace({
          namespace,
          workflowExecutionRetentionPeriod: msToTs('3 days'),
        });
        return;
      } catch (error) {
        if (/already exists|AlreadyExists/i.test(String(error))) return;
        throw error;
      } finally {
        await connection.close();
      }
    } catch (error) {
      last = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  throw new Error(`could not register namespace ${namespace} at ${address}: ${last}`);
}

const taken = new Set<number>();

/** A port in 20000–32767 free a moment ago (and not handed out here before). */
async function freeLowPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) {
      taken.add(port);
      return port;
    }
  }
}

/** Waits until the service accepts connections on its membership port (it has joined). */
async function listening(
  port: number,
  alive: () => boolean,
  service: ClusterService,
  dir: string,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive())
      throw new Error(`the Temporal ${service} service exited: see ${path.join(dir, `${service}.log`)}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the Temporal ${service} service does not listen on port ${port}`);
}
