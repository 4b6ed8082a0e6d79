/**
 * Building Go programs into this project's cache outside the clone (the Temporal CLI, the Temporal
 * server and its schema tool): `go install` of pinned module versions through the Go module proxy,
 * with a progress line every 30 s (a first build takes minutes), under a lock file so that
 * concurrent callers (parallel test files, CI jobs) build once and never see a partial binary.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

export function findOnPath(name: string, searchPath: string): string | undefined {
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

/** The `go` command: on PATH, or where Go's installers put it. */
export function findGo(env: NodeJS.ProcessEnv): string | undefined {
  return (
    findOnPath('go', env.PATH ?? '') ??
    ['/usr/local/go/bin/go', '/usr/lib/go/bin/go'].find((f) => fs.existsSync(f))
  );
}

/** `<file> --version`, or undefined when the file is missing or does not run. */
export async function probeVersion(file: string): Promise<string | undefined> {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    const { stdout } = await promisify(execFile)(file, ['--version'], { timeout: 30_000 });
    return stdout.trim() || 'unknown';
  } catch {
    return undefined;
  }
}

export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]?.slice(0, 300) ?? 'unknown error';
}

/**
 * `go install` of `packages` (each `module/path@version`) into `gobin`. Resolves to undefined on
 * success, or to the reason it failed. Says what it builds and, every 30 s, for how long.
 */
export async function goInstall(options: {
  go: string;
  packages: string[];
  gobin: string;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  /** What is being built, for the progress lines. */
  what: string;
}): Promise<string | undefined> {
  const { go, packages, gobin, env, log, what } = options;
  const started = Date.now();
  log(
    `Building ${what} with \`go install ${packages.join(' ')}\` (first time only; this takes a few minutes)…`,
  );
  const ticker = setInterval(() => {
    const seconds = Math.round((Date.now() - started) / 1000);
    log(`  still building ${what}: ${Math.floor(seconds / 60)} min ${seconds % 60} s so far`);
  }, 30_000);
  ticker.unref();
  try {
    const output: string[] = [];
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(go, ['install', ...packages], {
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
    if (code !== 0) return `exit code ${code}: ${output.slice(-3).join(' | ') || 'no output'}`;
    const seconds = Math.round((Date.now() - started) / 1000);
    log(`Built ${what} in ${Math.floor(seconds / 60)} min ${seconds % 60} s.`);
    return undefined;
  } catch (error) {
    return firstLine(error);
  } finally {
    clearInterval(ticker);
  }
}

interface LockOwner {
  pid: number;
  host: string;
  at: number;
}

/**
 * Takes a cache lock, or waits for its owner. Resolves to a release function, or to what
 * `cachedNow` found once another process filled the cache while this one waited. A lock whose
 * owner died, or older than the timeout, is taken over.
 */
export async function acquireCacheLock<T>(options: {
  file: string;
  timeoutMs: number;
  log: (line: string) => void;
  /** What the owner is obtaining, for the waiting line. */
  what: string;
  cachedNow: () => Promise<T | undefined>;
  timedOut: (owner: number) => Error;
}): Promise<(() => void) | { cached: T }> {
  const { file, timeoutMs, log } = options;
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
      log(`Waiting for process ${owner.pid}, which is obtaining ${options.what}…`);
      announced = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const done = await options.cachedNow();
    if (done !== undefined) return { cached: done };
    if (Date.now() - started > timeoutMs) throw options.timedOut(owner.pid);
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
