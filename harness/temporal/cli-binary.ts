/**
 * Obtains the Temporal CLI (which embeds the dev server, its Web UI and SQLite), in this order:
 * `TEMPORAL_CLI_PATH`, `temporal` on PATH, this project's cache outside the clone, the Temporal
 * SDK's download (needs the internet), and `go install` of a pinned release (needs Go and its
 * module proxy). The cache is filled under a lock file and by an atomic rename, so concurrent
 * callers (parallel test workers, CI jobs) never see or leave a partial binary.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { TestWorkflowEnvironment } from '@temporalio/testing';

const execFileAsync = promisify(execFile);

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
    const version = await probe(explicit);
    if (version) return { path: explicit, source: 'TEMPORAL_CLI_PATH', version };
    // An explicit setting that does not work is an error, not something to silently route around.
    throw new TemporalCliUnavailableError([
      `TEMPORAL_CLI_PATH=${explicit} is not a working temporal executable`,
    ]);
  }
  attempts.push('TEMPORAL_CLI_PATH is unset');

  const onPath = findOnPath('temporal', env.PATH ?? '');
  if (onPath) {
    const version = await probe(onPath);
    if (version) return { path: onPath, source: 'PATH', version };
    attempts.push(`${onPath} does not run`);
  } else attempts.push('no `temporal` on PATH');

  const dir = path.join(options.cacheDir ?? defaultCacheDir(env), 'temporal-cli');
  const cached = path.join(dir, 'temporal');
  const fromCache = async (): Promise<TemporalCli | undefined> => {
    const version = await probe(cached);
    return version ? { path: cached, source: 'cache', version } : undefined;
  };
  const hit = await fromCache();
  if (hit) return hit;
  attempts.push(`not cached in ${dir}`);

  fs.mkdirSync(dir, { recursive: true });
  const release = await acquireLock(
    path.join(dir, '.lock'),
    options.lockTimeoutMs ?? 20 * 60_000,
    log,
    fromCache,
  );
  if (typeof release !== 'function') return release; // another process filled the cache meanwhile
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

/** `temporal --version`, or undefined when the file is missing or does not run. */
async function probe(file: string): Promise<string | undefined> {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    const { stdout } = await execFileAsync(file, ['--version'], { timeout: 30_000 });
    return stdout.trim() || 'unknown';
  } catch {
    return undefined;
  }
}

function findOnPath(name: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Moves a fresh binary (already inside the cache folder) into place: `rename` cannot tear. */
async function install(source: string, target: string): Promise<string | undefined> {
  fs.chmodSync(source, 0o755);
  if (!(await probe(source))) {
    fs.rmSync(source, { force: true });
    return undefined;
  }
  fs.renameSync(source, target);
  return probe(target);
}

interface LockOwner {
  pid: number;
  host: string;
  at: number;
}

/**
 * Takes the cache lock, or waits for its owner. Resolves to a release function, or to the cached
 * CLI if another process filled the cache while this one waited. A lock whose owner died, or
 * that is older than the timeout, is taken over.
 */
async function acquireLock(
  file: string,
  timeoutMs: number,
  log: (line: string) => void,
  cachedNow: () => Promise<TemporalCli | undefined>,
): Promise<(() => void) | TemporalCli> {
  const started = Date.now();
  let announced = false;
  for (;;) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(
        fd,
        JSON.stringify({ pid: process.pid, host: os.hostname(), at: Date.now() } satisfies LockOwner),
      );
      fs.closeSync(fd);
      return () => fs.rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = readLockOwner(file);
    const stale =
      !owner || Date.now() - owner.at > timeoutMs || (owner.host === os.hostname() && !isAlive(owner.pid));
    if (stale) {
      fs.rmSync(file, { force: true });
      continue;
    }
    if (!announced) {
      log(`Waiting for process ${owner.pid}, which is obtaining the Temporal CLI…`);
      announced = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const done = await cachedNow();
    if (done) return done;
    if (Date.now() - started > timeoutMs) {
      throw new TemporalCliUnavailableError([`timed out waiting for process ${owner.pid} to obtain it`]);
    }
  }
}

function readLockOwner(file: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.at === 'number' && typeof parsed.host === 'string') {
      return parsed as LockOwner;
    }
  } catch {
    // a lock being written right now, or garbage: the age check below decides
    try {
      const age = Date.now() - fs.statSync(file).mtimeMs;
      if (age < 10_000) return { pid: -1, host: 'unknown', at: Date.now() - age };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
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
  const go =
    findOnPath('go', env.PATH ?? '') ??
    ['/usr/local/go/bin/go', '/usr/lib/go/bin/go'].find((f) => fs.existsSync(f));
  if (!go) return { error: 'Go is not installed (no `go` on PATH)' };
  const gobin = fs.mkdtempSync(path.join(dir, 'go-'));
  log(
    `Building the Temporal CLI with \`go install ${GO_INSTALL_MODULE}\` (first time only; this takes a few minutes)…`,
  );
  try {
    const output: string[] = [];
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(go, ['install', GO_INSTALL_MODULE], {
        env: { ...env, GOBIN: gobin, GOFLAGS: `${env.GOFLAGS ?? ''} -trimpath`.trim() },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const collect = (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n').filter(Boolean)) {
          output.push(line);
          if (!line.startsWith('go: downloading')) log(`  go: ${line}`);
        }
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      child.on('error', reject);
      child.on('close', resolve);
    });
    const binary = path.join(gobin, 'temporal');
    if (code !== 0 || !fs.existsSync(binary)) {
      return { error: `exit code ${code}: ${output.slice(-3).join(' | ') || 'no output'}` };
    }
    const kept = path.join(dir, `built-${process.pid}`);
    fs.renameSync(binary, kept);
    log('Built the Temporal CLI.');
    return kept;
  } catch (error) {
    return { error: firstLine(error) };
  } finally {
    fs.rmSync(gobin, { recursive: true, force: true });
  }
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]?.slice(0, 300) ?? 'unknown error';
}
