/**
 * The Temporal Web UI as a process of its own, for a cluster that has none (the dev server embeds
 * one; the multi-process cluster of `cluster.ts` does not). Obtained the way the CLI and the server
 * are (ADR 0001): `TEMPORAL_UI_SERVER_PATH`, else this project's cache outside the clone, else
 * `go install` of the pinned release of `github.com/temporalio/ui-server/v2` (its `cmd/server`)
 * through the Go module proxy. The module embeds the built UI (`ui/assets`, `//go:embed
 * all:assets`), so the one binary serves both the page and the API the page calls.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { defaultCacheDir } from './cli-binary';
import { freePort } from './dev-server';
import { acquireCacheLock, findGo, firstLine, goInstall, probeVersion } from './go-build';
import { killOnExit, once } from './processes';

/**
 * The release the pinned CLI (v1.5.1, `GO_INSTALL_MODULE`) requires in its go.mod, so that this UI
 * is the one its dev server embeds; its go.mod has no `replace` directive, so `go install` accepts it.
 */
export const TEMPORAL_UI_SERVER_VERSION = 'v2.42.1';
const MODULE = 'github.com/temporalio/ui-server/v2';

export interface TemporalUiServerBinary {
  path: string;
  /** What `--version` answered (`Temporal UI version 2.42.1`). */
  version: string;
  source: 'TEMPORAL_UI_SERVER_PATH' | 'cache' | 'go-install';
}

export interface ObtainTemporalUiServerOptions {
  /** Progress lines for a human (the first build takes minutes). */
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Overrides the cache folder (default `$JCN_CACHE_DIR` or `~/.cache/jumpcloud-notion-sync`). */
  cacheDir?: string;
  /** Give up waiting for another process's build after this long (default 30 minutes). */
  lockTimeoutMs?: number;
}

export class TemporalUiServerUnavailableError extends Error {
  constructor(reasons: string[]) {
    super(
      `could not obtain the Temporal UI server ${TEMPORAL_UI_SERVER_VERSION} (${reasons.join('; ')}): install Go 1.24+ with access to its module proxy, or set TEMPORAL_UI_SERVER_PATH to a built ${MODULE}/cmd/server`,
    );
    this.name = 'TemporalUiServerUnavailableError';
  }
}

let memo: Promise<TemporalUiServerBinary> | undefined;

/** Obtains the UI server once per process (later calls share the first answer). */
export function obtainTemporalUiServer(
  options: ObtainTemporalUiServerOptions = {},
): Promise<TemporalUiServerBinary> {
  if (!memo) {
    memo = resolveTemporalUiServer(options);
    memo.catch(() => (memo = undefined));
  }
  return memo;
}

export async function resolveTemporalUiServer(
  options: ObtainTemporalUiServerOptions = {},
): Promise<TemporalUiServerBinary> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  if (env.TEMPORAL_UI_SERVER_PATH) {
    const explicit = path.resolve(env.TEMPORAL_UI_SERVER_PATH);
    const version = await probeVersion(explicit);
    if (version) return { path: explicit, version, source: 'TEMPORAL_UI_SERVER_PATH' };
    // An explicit setting that does not work is an error, not something to silently route around.
    throw new TemporalUiServerUnavailableError([
      `TEMPORAL_UI_SERVER_PATH=${explicit} is not a working Temporal UI server`,
    ]);
  }

  const root = path.join(
    options.cacheDir ?? defaultCacheDir(env),
    `temporal-ui-server-${TEMPORAL_UI_SERVER_VERSION}`,
  );
  const cached = path.join(root, 'temporal-ui-server');
  const fromCache = async (): Promise<TemporalUiServerBinary | undefined> => {
    const version = await probeVersion(cached);
    return version ? { path: cached, version, source: 'cache' } : undefined;
  };
  const hit = await fromCache();
  if (hit) return hit;

  fs.mkdirSync(root, { recursive: true });
  const release = await acquireCacheLock({
    file: path.join(root, '.lock'),
    timeoutMs: options.lockTimeoutMs ?? 30 * 60_000,
    log,
    what: `the Temporal UI server ${TEMPORAL_UI_SERVER_VERSION}`,
    cachedNow: fromCache,
    timedOut: (owner) =>
      new TemporalUiServerUnavailableError([`timed out waiting for process ${owner} to build it`]),
  });
  if (typeof release !== 'function') return release.cached; // another process filled the cache meanwhile
  const staging = fs.mkdtempSync(path.join(root, 'build-'));
  try {
    const filled = await fromCache();
    if (filled) return filled;
    const go = findGo(env);
    if (!go) throw new TemporalUiServerUnavailableError(['Go is not installed (no `go` on PATH)']);
    const failed = await goInstall({
      go,
      packages: [`${MODULE}/cmd/server@${TEMPORAL_UI_SERVER_VERSION}`],
      gobin: staging,
      // Pure Go: no C toolchain needed.
      env: { ...env, CGO_ENABLED: '0' },
      log,
      what: `the Temporal UI server ${TEMPORAL_UI_SERVER_VERSION}`,
    });
    if (failed) throw new TemporalUiServerUnavailableError([`go install failed: ${failed}`]);
    const built = path.join(staging, 'server');
    if (!(await probeVersion(built))) throw new TemporalUiServerUnavailableError(['the build does not run']);
    // In place at once (same folder, so same file system): a reader never sees half a binary.
    fs.renameSync(built, cached);
    const version = await probeVersion(cached);
    if (!version) throw new TemporalUiServerUnavailableError(['the installed binary does not run']);
    return { path: cached, version, source: 'go-install' };
  } catch (error) {
    if (error instanceof TemporalUiServerUnavailableError) throw error;
    throw new TemporalUiServerUnavailableError([firstLine(error)]);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
    release();
  }
}

export interface TemporalUiOptions {
  /** The `temporal-ui-server` binary (see `obtainTemporalUiServer`). */
  binary: string;
  /** The cluster's frontend gRPC address, `host:port`. */
  temporalAddress: string;
  /** HTTP port; 0 or absent picks a free one. */
  port?: number;
  host?: string;
  /** Where the configuration (`ui-config/`) and the server's output (`ui.log`) go. */
  dir: string;
  /** Issue 16: the codec server the UI decodes payloads with. */
  codecEndpoint?: string;
  /** Origins (besides the UI's own) allowed to call its API from a browser. */
  corsOrigins?: string[];
  /** The namespace the UI opens (default `default`). */
  defaultNamespace?: string;
  /** How long to wait for the UI to answer (default 60 s). */
  startTimeoutMs?: number;
  /** Progress lines for a human. */
  log?: (line: string) => void;
}

export interface TemporalUi {
  /** `http://host:port`, no trailing slash. */
  url: string;
  /** The YAML file the server reads. */
  configFile: string;
  /** The server's own output. */
  logFile: string;
  child: ChildProcess;
  /** Stops the server (SIGTERM, then SIGKILL after a grace period); safe to call twice. */
  stop(): Promise<void>;
}

export class TemporalUiError extends Error {
  override name = 'TemporalUiError';
}

/** The settings of the ui-server's `server/config.Config`, as its YAML keys. */
export function temporalUiConfig(options: {
  temporalAddress: string;
  host: string;
  port: number;
  codecEndpoint?: string;
  corsOrigins?: string[];
  defaultNamespace?: string;
}): Record<string, unknown> {
  return {
    temporalGrpcAddress: options.temporalAddress,
    host: options.host,
    port: options.port,
    enableUi: true,
    defaultNamespace: options.defaultNamespace ?? 'default',
    showTemporalSystemNamespace: false,
    notifyOnNewVersion: false,
    // Plain HTTP on a development machine: the CSRF cookie must not be `Secure` (as the dev server's UI).
    cors: { allowOrigins: options.corsOrigins ?? [], unsafeAllowAllOrigins: false, cookieInsecure: true },
    codec: { endpoint: options.codecEndpoint ?? '', passAccessToken: false, includeCredentials: false },
    auth: { enabled: false },
  };
}

/**
 * Starts the UI server on `temporalAddress`'s cluster: writes its configuration into `dir`, runs
 * `temporal-ui-server --root dir --config ui-config --env ui start`, and resolves once
 * `GET /api/v1/settings` answers 200.
 */
export async function startTemporalUi(options: TemporalUiOptions): Promise<TemporalUi> {
  // A port picked here may be taken by someone else before the server binds it: try again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      if (!(
        !options.port &&
        attempt < 3 &&
        error instanceof TemporalUiError &&
        /address already in use/i.test(error.message)
      )) {
        throw error;
      }
    }
  }
}

async function startOnce(options: TemporalUiOptions): Promise<TemporalUi> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port || (await freePort(host));
  const log = options.log ?? (() => undefined);
  const configDir = path.join(options.dir, 'ui-config');
  fs.mkdirSync(configDir, { recursive: true });
  const configFile = path.join(configDir, 'ui.yaml');
  // JSON is YAML: no YAML library needed, and nothing in it can turn on the loader's templating.
  fs.writeFileSync(
    configFile,
    `# The Temporal UI server's settings, written by harness/temporal/ui-server.ts.\n${JSON.stringify(
      temporalUiConfig({ ...options, host, port }),
      null,
      2,
    )}\n`,
  );
  const logFile = path.join(options.dir, 'ui.log');
  const out = fs.openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      options.binary,
      ['--root', options.dir, '--config', 'ui-config', '--env', 'ui', 'start'],
      // No TEMPORAL_ROOT/TEMPORAL_CONFIG_DIR/TEMPORAL_ENVIRONMENT of the caller's: the flags decide.
      { stdio: ['ignore', out, out], env: withoutUiVariables(process.env) },
    );
  } finally {
    fs.closeSync(out);
  }
  killOnExit(child);
  let spawnError: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    // It did not start at all (a missing binary): no 'exit' may follow.
    child.once('error', (error) => {
      spawnError = firstLine(error);
      resolve();
    });
  });
  let gone = false;
  void exited.then(() => (gone = true));

  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
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
  while (Date.now() < deadline) {
    if (gone) {
      throw new TemporalUiError(
        spawnError
          ? `the Temporal UI server did not start: ${spawnError}`
          : `the Temporal UI server exited with code ${child.exitCode}: ${tail(logFile, 5).join(' | ') || 'no output'} (see ${logFile})`,
      );
    }
    try {
      const response = await request(`${url}/api/v1/settings`, { headersTimeout: 2000, bodyTimeout: 2000 });
      await response.body.dump();
      if (response.statusCode === 200) {
        log(`Temporal UI at ${url} (cluster ${options.temporalAddress}; log ${logFile})`);
        return { url, configFile, logFile, child, stop };
      }
      lastError = `settings answered ${response.statusCode}`;
    } catch (error) {
      lastError = firstLine(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await stop();
  throw new TemporalUiError(
    `the Temporal UI server did not answer at ${url}: ${lastError} (${tail(logFile, 3).join(' | ')})`,
  );
}

function withoutUiVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  delete copy.TEMPORAL_ROOT;
  delete copy.TEMPORAL_CONFIG_DIR;
  delete copy.TEMPORAL_ENVIRONMENT;
  return copy;
}

function tail(file: string, lines: number): string[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(-lines);
  } catch {
    return [];
  }
}
