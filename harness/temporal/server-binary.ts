/**
 * Issue 17: obtains the Temporal server itself (a cluster of separate frontend, history, matching
 * and worker processes on PostgreSQL, as users run it), the way the CLI is obtained (ADR 0001):
 * `TEMPORAL_SERVER_DIR` (a folder holding `temporal-server`, `temporal-sql-tool` and `schema/`),
 * else this project's cache outside the clone, else `go install` of the pinned release of
 * `go.temporal.io/server` (its `cmd/server` and the schema tool `cmd/tools/sql`) through the Go
 * module proxy, with the PostgreSQL schemas copied from the same module version.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { defaultCacheDir } from './cli-binary';
import { acquireCacheLock, findGo, firstLine, goInstall } from './go-build';

const execFileAsync = promisify(execFile);

/** The server release the product is tested on (the dev server of the pinned CLI embeds 1.29.1 too). */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
const MODULE = 'go.temporal.io/server';

export interface TemporalServerBinaries {
  /** `temporal-server`: `start --service frontend|history|matching|worker`. */
  server: string;
  /** `temporal-sql-tool`: creates the databases and applies the versioned schemas. */
  sqlTool: string;
  /** `schema/postgresql/v12/{temporal,visibility}/versioned` of the same release. */
  schemaDir: string;
  version: string;
  source: 'TEMPORAL_SERVER_DIR' | 'cache' | 'go-install';
}

export class TemporalServerUnavailableError extends Error {
  constructor(reasons: string[]) {
    super(
      `could not obtain the Temporal server ${TEMPORAL_SERVER_VERSION} (${reasons.join('; ')}): install Go 1.25+ with access to its module proxy, or set TEMPORAL_SERVER_DIR to a folder holding temporal-server, temporal-sql-tool and schema/`,
    );
    this.name = 'TemporalServerUnavailableError';
  }
}

function inFolder(dir: string, version: string, source: TemporalServerBinaries['source']) {
  return {
    server: path.join(dir, 'temporal-server'),
    sqlTool: path.join(dir, 'temporal-sql-tool'),
    schemaDir: path.join(dir, 'schema'),
    version,
    source,
  };
}

/** `temporal-server --version` answers, the tool runs and the schemas are there. */
async function complete(binaries: TemporalServerBinaries): Promise<boolean> {
  try {
    await execFileAsync(binaries.server, ['--version'], { timeout: 30_000 });
    await execFileAsync(binaries.sqlTool, ['--help'], { timeout: 30_000 });
    return fs.existsSync(path.join(binaries.schemaDir, 'temporal', 'versioned'));
  } catch {
    return false;
  }
}

let memo: Promise<TemporalServerBinaries> | undefined;

export function obtainTemporalServer(
  options: { log?: (line: string) => void; env?: NodeJS.ProcessEnv; cacheDir?: string } = {},
): Promise<TemporalServerBinaries> {
  if (!memo) {
    memo = resolveTemporalServer(options);
    memo.catch(() => (memo = undefined));
  }
  return memo;
}

async function resolveTemporalServer(options: {
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  cacheDir?: string;
}): Promise<TemporalServerBinaries> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  if (env.TEMPORAL_SERVER_DIR) {
    const given = inFolder(path.resolve(env.TEMPORAL_SERVER_DIR), 'unknown', 'TEMPORAL_SERVER_DIR');
    if (await complete(given)) return given;
    throw new TemporalServerUnavailableError([
      `TEMPORAL_SERVER_DIR=${env.TEMPORAL_SERVER_DIR} does not hold a working temporal-server, temporal-sql-tool and schema/`,
    ]);
  }
  const root = path.join(
    options.cacheDir ?? defaultCacheDir(env),
    `temporal-server-${TEMPORAL_SERVER_VERSION}`,
  );
  const cached = inFolder(path.join(root, 'current'), TEMPORAL_SERVER_VERSION, 'cache');
  const fromCache = async () => ((await complete(cached)) ? cached : undefined);
  const hit = await fromCache();
  if (hit) return hit;

  fs.mkdirSync(root, { recursive: true });
  const release = await acquireCacheLock({
    file: path.join(root, '.lock'),
    timeoutMs: 30 * 60_000,
    log,
    what: `the Temporal server ${TEMPORAL_SERVER_VERSION}`,
    cachedNow: fromCache,
    timedOut: (owner) =>
      new TemporalServerUnavailableError([`timed out waiting for process ${owner} to build it`]),
  });
  if (typeof release !== 'function') return release.cached;
  const staging = fs.mkdtempSync(path.join(root, 'build-'));
  try {
    const filled = await fromCache();
    if (filled) return filled;
    const go = findGo(env);
    if (!go) throw new TemporalServerUnavailableError(['Go is not installed (no `go` on PATH)']);
    const failed = await goInstall({
      go,
      packages: [
        `${MODULE}/cmd/server@${TEMPORAL_SERVER_VERSION}`,
        `${MODULE}/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`,
      ],
      gobin: staging,
      // No cgo: the server's SQL drivers are pure Go.
      env: { ...env, CGO_ENABLED: '0' },
      log,
      what: `the Temporal server ${TEMPORAL_SERVER_VERSION} and its schema tool`,
    });
    if (failed) throw new TemporalServerUnavailableError([`go install failed: ${failed}`]);
    fs.renameSync(path.join(staging, 'server'), path.join(staging, 'temporal-server'));
    fs.renameSync(path.join(staging, 'sql'), path.join(staging, 'temporal-sql-tool'));
    // The schemas of the very release built, from the module the build just downloaded.
    const { stdout } = await execFileAsync(
      go,
      ['mod', 'download', '-json', `${MODULE}@${TEMPORAL_SERVER_VERSION}`],
      {
        env,
        timeout: 300_000,
      },
    );
    const moduleDir = (JSON.parse(stdout) as { Dir?: string }).Dir;
    if (!moduleDir) throw new TemporalServerUnavailableError(['the module has no source folder']);
    fs.cpSync(path.join(moduleDir, 'schema', 'postgresql', 'v12'), path.join(staging, 'schema'), {
      recursive: true,
    });
    writable(path.join(staging, 'schema'));
    const built = inFolder(staging, TEMPORAL_SERVER_VERSION, 'go-install');
    if (!(await complete(built))) throw new TemporalServerUnavailableError(['the build does not run']);
    // In place at once: a reader sees the old folder or the new one, never half of one.
    fs.rmSync(path.join(root, 'current'), { recursive: true, force: true });
    fs.renameSync(staging, path.join(root, 'current'));
    return cached;
  } catch (error) {
    if (error instanceof TemporalServerUnavailableError) throw error;
    throw new TemporalServerUnavailableError([firstLine(error)]);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
    release();
  }
}

/** The module cache's files are read-only: the copies are made the cache's own. */
function writable(dir: string): void {
  fs.chmodSync(dir, 0o755);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) writable(full);
    else fs.chmodSync(full, 0o644);
  }
}
