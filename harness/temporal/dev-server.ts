/**
 * Runs `temporal server start-dev` as a child process: on given or free ports, with the
 * product's search attributes registered, ready when it answers, and always stopped (also when
 * this process exits unexpectedly).
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { Connection } from '@temporalio/client';
import { request } from 'undici';
import { devServerSearchAttributeFlags } from '../../temporal/search-attributes';
import { killOnExit, once } from './processes';

/**
 * One partition per task queue (issue 15, ADR 0012). The server splits an API queue's rate limit
 * among the queue's partitions, and a partition holding no task when its turn comes wastes its
 * share: at NOTION_MAX_RPS=3, the default four partitions sustained 2.4 requests/s, one 2.8/s.
 * The dev server takes no per-queue setting, so every queue has one (docker-compose.yml too).
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Record<string, unknown> = {
  'matching.numTaskqueueReadPartitions': 1,
  'matching.numTaskqueueWritePartitions': 1,
};

export interface DevServerOptions {
  /** The temporal CLI binary (see `obtainTemporalCli`). */
  executable: string;
  ip?: string;
  /** gRPC port; 0 or absent picks a free one. */
  port?: number;
  /** Web UI port; `false` runs headless. */
  uiPort?: number | false;
  /** Issue 16: the codec server the UI decodes payloads with (`--ui-codec-endpoint`). */
  uiCodecEndpoint?: string;
  namespace?: string;
  /** SQLite file for persistent state; in memory when absent. */
  dbFilename?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** How long to wait for the server to answer (default 60 s: slow, shared machines). */
  startTimeoutMs?: number;
  /** Extra `--dynamic-config-value KEY=JSON` entries. */
  dynamicConfig?: Record<string, unknown>;
  /** The server's own output lines. */
  onOutput?: (line: string) => void;
}

export interface DevServer {
  address: string;
  namespace: string;
  uiUrl?: string;
  pid: number;
  /** Stops the server (SIGTERM, then SIGKILL after a grace period); safe to call twice. */
  stop(): Promise<void>;
}

export class DevServerError extends Error {
  override name = 'DevServerError';
  constructor(
    message: string,
    /** It crashed (a Go panic) before it ever answered: nothing was started, so it may start again. */
    readonly crashedAtStart = false,
  ) {
    super(message);
  }
}

/** A port that was free a moment ago on `ip`. */
export function freePort(ip = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, ip, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  // Ports picked here may be taken by someone else before the server binds them: try again.
  const autoPorts = !options.port || (options.uiPort !== false && !options.uiPort);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      // The CLI (1.5.1) can also panic while it reports a start-up error (temporalio/cli#605,
      // #667: a port of its own services taken in between), which hides the error: the same case.
      if (!(
        autoPorts &&
        attempt < 3 &&
        error instanceof DevServerError &&
        (/address already in use/i.test(error.message) || error.crashedAtStart)
      )) {
        throw error;
      }
    }
  }
}

async function startOnce(options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port || (await freePort(ip));
  const uiPort = options.uiPort === false ? undefined : options.uiPort || (await freePort(ip));
  const namespace = options.namespace ?? 'default';
  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(port),
    '--namespace',
    namespace,
    '--log-format',
    'json',
    '--log-level',
    options.logLevel ?? 'warn',
    ...(uiPort ? ['--ui-port', String(uiPort), '--ui-ip', ip] : ['--headless']),
    ...(uiPort && options.uiCodecEndpoint ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : []),
    ...(options.dbFilename ? ['--db-filename', options.dbFilename] : []),
    ...devServerSearchAttributeFlags().flatMap((flag) => ['--search-attribute', flag]),
    ...Object.entries({ ...DEV_SERVER_DYNAMIC_CONFIG, ...options.dynamicConfig }).flatMap(([key, value]) => [
      '--dynamic-config-value',
      `${key}=${JSON.stringify(value)}`,
    ]),
  ];
  const child = spawn(options.executable, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  const tail: string[] = [];
  // A Go panic's stack fills the tail; its first lines say what went wrong and where.
  let crash: string | undefined;
  const crashLines: string[] = [];
  const onLine = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      if (!crash && /^(panic|fatal error)\b/.test(line)) crash = line;
      else if (crash && crashLines.length < 8) crashLines.push(line.trim());
      tail.push(line);
      if (tail.length > 20) tail.shift();
      options.onOutput?.(line);
    }
  };
  child.stdout?.on('data', onLine);
  child.stderr?.on('data', onLine);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const address = `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
  const uiUrl = uiPort ? `http://${ip.includes(':') ? `[${ip}]` : ip}:${uiPort}` : undefined;
  const stop = once(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  });

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  let lastError = 'no answer yet';
  let gone = false;
  void exited.then(() => (gone = true));
  while (Date.now() < deadline) {
    if (gone) {
      throw new DevServerError(
        `the Temporal dev server exited with code ${child.exitCode}: ${(crash ? [crash, ...crashLines] : tail.slice(-5)).join(' | ')}`,
        crash !== undefined,
      );
    }
    try {
      await ready(address, namespace, uiUrl);
      return { address, namespace, uiUrl, pid: child.pid!, stop };
    } catch (error) {
      lastError = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  await stop();
  throw new DevServerError(`the Temporal dev server did not become ready at ${address}: ${lastError}`);
}

/** Ready = the namespace answers and, if enabled, the UI serves its page. */
async function ready(address: string, namespace: string, uiUrl: string | undefined): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: '2s' });
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } finally {
    await connection.close();
  }
  if (uiUrl) {
    const response = await request(uiUrl, { headersTimeout: 2000, bodyTimeout: 2000 });
    await response.body.dump();
    if (response.statusCode >= 500) throw new Error(`UI answered ${response.statusCode}`);
  }
}
