/** Runs `jc-notion` from the sources (through tsx), as a user would run the built command. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
const ENTRY = path.join(ROOT, 'client', 'main.ts');

/** The command that runs `jc-notion` from the sources (the arguments follow). */
export const CLI_COMMAND = { file: process.execPath, args: ['--import', 'tsx', ENTRY] };

/** An environment with none of the product's variables, plus `env`. */
export function cleanEnv(env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (
      /^(TEMPORAL_|JUMPCLOUD_|NOTION_|NOTIFY_|POLL_|RECONCILE_|DEACTIVATION_|USERNAME_|CONNECTOR_|PAYLOAD_|SEARCH_ATTRIBUTES_|CODEC_|WORKER_|LOG_LEVEL)/.test(
        key,
      )
    )
      continue;
    base[key] = value;
  }
  // The CLI binary found by the global setup.
  if (process.env.TEMPORAL_CLI_PATH) base.TEMPORAL_CLI_PATH = process.env.TEMPORAL_CLI_PATH;
  return { ...base, ...env };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function spawnCli(args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): ChildProcess {
  return spawn(CLI_COMMAND.file, [...CLI_COMMAND.args, ...args], {
    env,
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd = ROOT,
  timeoutMs = 90_000,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, env, cwd);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`jc-notion ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Resolves with everything printed so far once `pattern` appears on stdout. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    let errors = '';
    const timer = setTimeout(
      () => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${seen}\n${errors}`)),
      timeoutMs,
    );
    child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve(seen);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!pattern.test(seen))
        reject(new Error(`exited with ${code} before ${pattern}:\n${seen}\n${errors}`));
    });
  });
}
