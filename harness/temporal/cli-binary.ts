/**
 * Obtains the Temporal CLI (which embeds the dev server, its Web UI and SQLite), in this order:
 * `TEMPORAL_CLI_PATH`, `temporal` on PATH, this project's cache outside the clone, the Temporal
 * SDK's download (needs the internet), and `go install` of a pinned release (needs Go and its
 * module proxy). The cache is filled under a lock file and by an atomic rename, so concurrent
 * callers (parallel test workers, CI jobs) never see or leave a partial binary.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { acquireCacheLock, findGo, findOnPath, firstLine, goInstall, probeVersion } from './go-build';

/** The newest CLI release whose go.mod has no `replace` directive, so `go install` accepts it. */
export const GO_INSTALL_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

export type TemporalCliSource = 'TEMPORAL_CLI_PATH' | 'PATH' | 'cache' | 'sdk-download' | 'go-install';

export interface TemporalCli {
  path: string;
  source: TemporalCliSource;
  version: string;
}

export interface ObtainTemporalCliOptions {
  /** Progress lines for a human (the build can take minutes). */
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Overrides the cache folder (default `$JCN_CACHE_DIR` or `~/.cache/jumpcloud-notion-sync`). */
  cacheDir?: string;
  /** Give up waiting for another process's build after this long (default 20 minutes). */
  lockTimeoutMs?: number;
  /** Try the SDK's download (default true; tests of the other steps turn it off). */
  sdkDownload?: boolean;
}

export class TemporalCliUnavailableError extends Error {
  constructor(readonly attempts: string[]) {
    super(
      `could not obtain the Temporal CLI (${attempts.join('; ')}). ` +
        'Install it (https://docs.temporal.io/cli#install) and put `temporal` on PATH or set TEMPORAL_CLI_PATH, ' +
        `or install Go 1.22+ so that \`go install ${GO_INSTALL_MODULE}\` can build it`,
    );
    this.name = 'TemporalCliUnavailableError';
  }
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.JCN_CACHE_DIR) return path.resolve(env.JCN_CACHE_DIR);
  const base = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache');
  return path.join(base, 'jumpcloud-notion-sync');
}

let memo: Promise<TemporalCli> | undefined;

/** Obtains the CLI once per process (later calls share the first answer). */
export function obtainTemporalCli(options: ObtainTemporalCliOptions = {}): Promise<TemporalCli> {
  if (!memo) {
    memo = resolveTemporalCli(options);
    memo.catch(() => (memo = undefined));
  }
  return memo;
}

export async function resolveTemporalCli(options: ObtainTemporalCliOptions = {}): Promise<TemporalCli> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  const attempts: string[] = [];

  if (env.TEMPORAL_CLI_PATH) {
    const explicit = path.resolve(env.TEMPORAL_CLI_PATH);
    const version = await probeVersion(explicit);
    if (version) return { path: explicit, source: 'TEMPORAL_CLI_PATH', version };
    // An explicit setting that does not work is an error, not something to silently route around.
    throw new TemporalCliUnavailableError([
      `TEMPORAL_CLI_PATH=${explicit} is not a working temporal executable`,
    ]);
  }
  attempts.push('TEMPORAL_CLI_PATH is unset');

  const onPath = findOnPath('temporal', env.PATH ?? '');
  if (onPath) {
    const version = await probeVersion(onPath);
    if (version) return { path: onPath, source: 'PATH', version };
    attempts.push(`${onPath} does not run`);
  } else attempts.push('no `temporal` on PATH');

  const dir = path.join(options.cacheDir ?? defaultCacheDir(env), 'temporal-cli');
  const cached = path.join(dir, 'temporal');
  const fromCache = async (): Promise<TemporalCli | undefined> => {
    const version = await probeVersion(cached);
    return version ? { path: cached, source: 'cache', version } : undefined;
  };
  const hit = await fromCache();
  if (hit) return hit;
  attempts.push(`not cached in ${dir}`);

  fs.mkdirSync(dir, { recursive: true });
  const release = await acquireCacheLock({
    file: path.join(dir, '.lock'),
    timeoutMs: options.lockTimeoutMs ?? 20 * 60_000,
    log,
    what: 'the Temporal CLI',
    cachedNow: fromCache,
    timedOut: (owner) =>
      new TemporalCliUnavailableError([`timed out waiting for process ${owner} to obtain it`]),
  });
  if (typeof release !== 'function') return release.cached; // another process filled the cache meanwhile
  try {
    const filled = await fromCache();
    if (filled) return filled;

    const sdk = options.sdkDownload === false ? { error: 'skipped' } : await trySdkDownload(dir, log);
    if (typeof sdk === 'string') {
      const version = await install(sdk, cached);
      if (version) return { path: cached, source: 'sdk-download', version };
      attempts.push('the SDK download produced no working binary');
    } else attempts.push(`SDK download failed: ${sdk.error}`);

    const built = await tryGoInstall(dir, env, log);
    if (typeof built === 'string') {
      const version = await install(built, cached);
      if (version) return { path: cached, source: 'go-install', version };
      attempts.push('go install produced no working binary');
    } else attempts.push(`go install failed: ${built.error}`);
  } finally {
    release();
  }
  throw new TemporalCliUnavailableError(attempts);
}

/** Moves a fresh binary (already inside the cache folder) into place: `rename` cannot tear. */
async function install(source: string, target: string): Promise<string | undefined> {
  fs.chmodSync(source, 0o755);
  if (!(await probeVersion(source))) {
    fs.rmSync(source, { force: true });
    return undefined;
  }
  fs.renameSync(source, target);
  return probeVersion(target);
}

/**
 * The SDK's own download (temporal.download), as users' online machines get it: the SDK fetches
 * the CLI when it starts a dev server, so start one headless on a free port and keep the binary.
 */
async function trySdkDownload(dir: string, log: (line: string) => void): Promise<string | { error: string }> {
  const downloadDir = fs.mkdtempSync(path.join(dir, 'sdk-'));
  log('Downloading the Temporal CLI through the Temporal SDK…');
  try {
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'cached-download', downloadDir, ttl: '3650d' },
        log: { format: 'json', level: 'error' },
      },
    });
    await env.teardown();
    const file = fs
      .readdirSync(downloadDir)
      .find((name) => name.startsWith('temporal') && !name.endsWith('.downloading'));
    if (!file) return { error: 'no binary left in the download folder' };
    const kept = path.join(dir, `downloaded-${process.pid}`);
    fs.renameSync(path.join(downloadDir, file), kept);
    return kept;
  } catch (error) {
    return { error: firstLine(error) };
  } finally {
    fs.rmSync(downloadDir, { recursive: true, force: true });
  }
}

/** Builds the pinned CLI release with `go install` into a private folder of the cache. */
async function tryGoInstall(
  dir: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<string | { error: string }> {
  const go = findGo(env);
  if (!go) return { error: 'Go is not installed (no `go` on PATH)' };
  const gobin = fs.mkdtempSync(path.join(dir, 'go-'));
  try {
    const failed = await goInstall({
      go,
      packages: [GO_INSTALL_MODULE],
      gobin,
      env,
      log,
      what: 'the Temporal CLI',
    });
    const binary = path.join(gobin, 'temporal');
    if (failed || !fs.existsSync(binary)) return { error: failed ?? 'no binary was built' };
    const kept = path.join(dir, `built-${process.pid}`);
    fs.renameSync(binary, kept);
    return kept;
  } catch (error) {
    return { error: firstLine(error) };
  } finally {
    fs.rmSync(gobin, { recursive: true, force: true });
  }
}
