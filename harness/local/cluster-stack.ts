/**
 * Issue 17: the production topology on one machine — a Temporal cluster on PostgreSQL (frontend,
 * history, matching and internal worker as four processes, `harness/temporal/cluster.ts`), the
 * Temporal Web UI pointed at it, the JumpCloud and Notion emulators, a mail sink, and N
 * `jc-notion worker` processes, each with its health and metrics endpoint. Used by
 * `jc-notion local --cluster` and by the cluster fault test, which kills and restarts its parts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startCluster, type TemporalCluster } from '../temporal/cluster';
import { killOnExit } from '../temporal/processes';
import { freePort } from '../temporal/dev-server';
import { obtainTemporalUiServer, startTemporalUi, type TemporalUi } from '../temporal/ui-server';
import type { JumpCloudEmulator } from '../emulators/jumpcloud';
import { createMailSink, type MailSink } from '../emulators/mail';
import type { NotionEmulator } from '../emulators/notion';
import { createLocalEmulators, LOCAL_CREDENTIALS, withoutSecretFiles } from './stack';

export interface ClusterStackOptions {
  /** Config, logs and state of the cluster, the UI and the workers (created). */
  dir: string;
  /** Database name prefix in PostgreSQL (`<database>`, `<database>_visibility`). */
  database: string;
  /** `jc-notion worker` processes to start. */
  workers: number;
  /** How to run one `jc-notion` command (the arguments follow): the running CLI by default. */
  command?: { file: string; args: string[] };
  /** Settings for the workers and admin commands (POLL_INTERVAL, …); the stack's addresses and credentials win. */
  env?: Record<string, string | undefined>;
  /** The environment under those (default: this process's). */
  baseEnv?: NodeJS.ProcessEnv;
  /** The UI's port (free one when absent); the emulators' and the mail sink's ports likewise. */
  ports?: { ui?: number; jumpcloud?: number; notion?: number; smtp?: number };
  progress?: (line: string) => void;
}

export interface ClusterWorker {
  /** The worker's `/healthz`, `/readyz` and `/metrics` port. */
  port: number;
  child: ChildProcess;
  log: string;
  /** Stopped on purpose (`stopWorker`): an exit then is not a crash. */
  stopping: boolean;
}

export interface ClusterStack {
  cluster: TemporalCluster;
  ui: TemporalUi;
  jumpcloud: JumpCloudEmulator;
  notion: NotionEmulator;
  mail: MailSink;
  /** Where each part answers, for people (`local --cluster` prints them). */
  endpoints: { name: string; url: string; detail?: string }[];
  /** The emulators' origins (`/_emulator/` controls). */
  origins: { jumpcloud: string; notion: string };
  /** The environment a `jc-notion` command (worker or admin) needs to work on this stack. */
  env: NodeJS.ProcessEnv;
  workers: ClusterWorker[];
  /** Workers that exited without being told to, one line each. */
  crashes: string[];
  /** Stops worker `i` with `signal` (SIGTERM: graceful) and waits for its exit. */
  stopWorker(i: number, signal: NodeJS.Signals): Promise<void>;
  /** Starts worker `i` again on its port. */
  startWorker(i: number): ClusterWorker;
  stop(): Promise<void>;
}

/**
 * The workers' and admin commands' environment: the stack's own settings over the caller's, and
 * (issue 16, as `local`) no `<NAME>_FILE` of the caller's, which would replace the stack's
 * credentials with a real secret read from a file.
 */
export function clusterStackEnv(
  base: NodeJS.ProcessEnv,
  extra: Record<string, string | undefined>,
  own: Record<string, string>,
): NodeJS.ProcessEnv {
  return { ...withoutSecretFiles(base), ...withoutSecretFiles(extra), ...own };
}

/** The running CLI: `node [--import tsx] <entry>` as this process was started. */
function currentCommand(): { file: string; args: string[] } {
  return { file: process.execPath, args: [...process.execArgv, process.argv[1]!] };
}

export async function startClusterStack(options: ClusterStackOptions): Promise<ClusterStack> {
  const progress = options.progress ?? (() => undefined);
  const command = options.command ?? currentCommand();
  const ip = '127.0.0.1';
  fs.mkdirSync(options.dir, { recursive: true });
  const stoppers: (() => Promise<void>)[] = [];
  const workers: ClusterWorker[] = [];
  const crashes: string[] = [];
  const stop = async () => {
    for (const worker of workers) worker.stopping = true;
    await Promise.all(workers.map((worker) => exit(worker.child, 'SIGTERM', 30_000)));
    // Each part is stopped whatever the others do; a part that fails to stop is said, not hidden.
    for (const stopOne of stoppers.splice(0).reverse())
      await stopOne().catch((error: unknown) =>
        progress(`could not stop cleanly: ${error instanceof Error ? error.message : String(error)}`),
      );
  };
  try {
    progress('Starting the Temporal cluster (PostgreSQL, frontend, history, matching, worker)…');
    const cluster = await startCluster({ dir: options.dir, database: options.database, log: progress });
    stoppers.push(() => cluster.destroy());
    const uiBinary = await obtainTemporalUiServer({ log: progress });
    const ui = await startTemporalUi({
      binary: uiBinary.path,
      temporalAddress: cluster.address,
      port: options.ports?.ui,
      host: ip,
      dir: options.dir,
      defaultNamespace: cluster.namespace,
      log: progress,
    });
    stoppers.push(() => ui.stop());

    const { jumpcloud, notion } = createLocalEmulators();
    const jumpcloudUrl = await jumpcloud.listen({ port: options.ports?.jumpcloud ?? 0, host: ip });
    stoppers.push(() => jumpcloud.close());
    const notionUrl = `${await notion.listen({ port: options.ports?.notion ?? 0, host: ip })}/scim/v2`;
    stoppers.push(() => notion.close());
    const mail = createMailSink();
    const smtpPort = options.ports?.smtp;
    const mailUrls = await mail.listen({ smtpPort, httpPort: smtpPort && smtpPort + 1, host: ip });
    stoppers.push(() => mail.close());

    const env = clusterStackEnv(options.baseEnv ?? process.env, options.env ?? {}, {
      TEMPORAL_ADDRESS: cluster.address,
      TEMPORAL_NAMESPACE: cluster.namespace,
      TEMPORAL_UI_URL: ui.url,
      JUMPCLOUD_BASE_URL: jumpcloudUrl,
      JUMPCLOUD_INSIGHTS_URL: `${jumpcloudUrl}/insights/directory/v1`,
      JUMPCLOUD_API_KEY: LOCAL_CREDENTIALS.jumpcloudApiKey,
      JUMPCLOUD_APP_ID: LOCAL_CREDENTIALS.notionAppId,
      NOTION_SCIM_BASE_URL: notionUrl,
      NOTION_SCIM_TOKEN: LOCAL_CREDENTIALS.notionToken,
      NOTION_PROTECTED_USERS: options.env?.NOTION_PROTECTED_USERS ?? LOCAL_CREDENTIALS.notionTokenOwner,
      NOTIFY_SMTP_URL: mailUrls.smtpUrl,
      NOTIFY_EMAIL: options.env?.NOTIFY_EMAIL ?? 'identity-admins@example.com',
      WORKER_HTTP_HOST: ip,
    });

    const spawnWorker = (port: number): ClusterWorker => {
      const log = path.join(options.dir, `jc-notion-worker-${port}.log`);
      // Into a file, never an unread pipe: a worker whose pipe fills up blocks on its next log line.
      const out = fs.openSync(log, 'a');
      const child = spawn(command.file, [...command.args, 'worker'], {
        env: { ...env, WORKER_HTTP_PORT: String(port) },
        stdio: ['ignore', out, out],
      });
      fs.closeSync(out);
      killOnExit(child);
      const worker: ClusterWorker = { port, child, log, stopping: false };
      child.once('exit', (code, signal) => {
        if (!worker.stopping) crashes.push(`worker on port ${port}: ${signal ?? `exit code ${code}`}`);
      });
      return worker;
    };
    for (let i = 0; i < options.workers; i++) workers.push(spawnWorker(await freePort()));
    await Promise.all(workers.map((worker) => untilReady(worker)));
    progress(`${options.workers} jc-notion worker process(es) ready`);

    const endpoints = [
      {
        name: 'Temporal',
        url: cluster.address,
        detail: `namespace ${cluster.namespace}, database ${options.database} on PostgreSQL ${cluster.postgres.host}:${cluster.postgres.port}`,
      },
      { name: 'Temporal UI', url: ui.url },
      {
        name: 'JumpCloud API',
        url: `${jumpcloudUrl}/api`,
        detail: 'v2 at /api/v2, Directory Insights at /insights/directory/v1',
      },
      { name: 'Notion SCIM', url: notionUrl, detail: `token owner ${LOCAL_CREDENTIALS.notionTokenOwner}` },
      { name: 'Mail sink', url: mailUrls.smtpUrl, detail: `inbox ${mailUrls.httpUrl}/messages` },
      ...workers.map((worker, i) => ({
        name: `Worker ${i + 1}`,
        url: `http://${ip}:${worker.port}/metrics`,
        detail: `pid ${worker.child.pid}, log ${worker.log}`,
      })),
    ];
    return {
      cluster,
      ui,
      jumpcloud,
      notion,
      mail,
      endpoints,
      origins: { jumpcloud: jumpcloudUrl, notion: notionUrl.replace(/\/scim\/v2$/, '') },
      env,
      workers,
      crashes,
      stopWorker: async (i, signal) => {
        const worker = workers[i]!;
        worker.stopping = true;
        await exit(worker.child, signal, signal === 'SIGKILL' ? 10_000 : 60_000);
      },
      startWorker: (i) => {
        const worker = spawnWorker(workers[i]!.port);
        workers[i] = worker;
        return worker;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Sends `signal` and waits for the exit (SIGKILL after `graceMs`). */
async function exit(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Until the worker's `/readyz` answers 200 (every task queue polled, Temporal answering). */
export async function untilReady(worker: ClusterWorker, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (worker.child.exitCode !== null || worker.child.signalCode !== null)
      throw new Error(
        `the worker on port ${worker.port} exited (${worker.child.signalCode ?? `exit code ${worker.child.exitCode}`}): see ${worker.log}; its last lines:\n${logTail(worker.log)}`,
      );
    try {
      const response = await fetch(`http://127.0.0.1:${worker.port}/readyz`, {
        signal: AbortSignal.timeout(5_000),
      });
      if (response.ok) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the worker on port ${worker.port} is not ready (${last}): see ${worker.log}`);
}

/**
 * The last lines of a worker's log, for an error that outlives the log (a test's directory is
 * removed after it, unless CLUSTER_KEEP_LOGS=1): why a worker exited is otherwise lost.
 */
function logTail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch (error) {
    return `(unreadable: ${error instanceof Error ? error.message : String(error)})`;
  }
}
