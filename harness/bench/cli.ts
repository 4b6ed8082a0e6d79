/**
 * The command's own cost (issue 18): `jc-notion --help` under 0.3 s and `jc-notion status` under
 * 1 s, each the median of `BENCH_CLI_RUNS` runs (default 5) of the built command (`bin/`, as users
 * run it) against the local stack with an active connector and 50 users in sync. Each command
 * loads only what it uses (client/program.ts); the figure includes Node's own start.
 */
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { connectClient } from '../../temporal/connection';
import { activateAndSync, startBenchStack } from './stack';

const RUNS = Number(process.env.BENCH_CLI_RUNS ?? 5);
const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'jc-notion.js');
const TARGETS = { help: 300, status: 1_000 };

/** The newest modification time of the TypeScript sources the command is built from. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(file));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(file).mtimeMs);
  }
  return newest;
}

/** `dist/` as `npm install` builds it, rebuilt first when a source is newer. */
function ensureBuilt(): void {
  const entry = path.join(ROOT, 'dist', 'client', 'main.js');
  const sources = [
    'client',
    'config',
    'contracts',
    'temporal',
    'common',
    'api',
    'activities',
    'workflows',
    'worker',
  ];
  const built = fs.existsSync(entry) ? fs.statSync(entry).mtimeMs : 0;
  if (
    sources.every(
      (dir) => !fs.existsSync(path.join(ROOT, dir)) || newestSource(path.join(ROOT, dir)) <= built,
    )
  )
    return;
  process.stdout.write('cli: building dist/ (npm run build) first…\n');
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('cli: npm run build failed');
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * Wall time of one run of the command, which must succeed. Asynchronous: the local stack's worker
 * runs in this process and must answer the command's queries meanwhile.
 */
function timeCommand(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, ...args], { env, encoding: 'utf8' }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`jc-notion ${args.join(' ')} failed: ${error.message} ${stderr}`));
      else resolve(Number(process.hrtime.bigint() - started) / 1e6);
    });
  });
}

export async function benchCli(): Promise<boolean> {
  ensureBuilt();
  const stack = await startBenchStack();
  const client = await connectClient(stack.config);
  try {
    const names = Array.from({ length: 50 }, (_, i) => `cli${i}`);
    stack.jumpcloud.seed({
      users: names.map((username) => ({
        username,
        email: `${username}@example.com`,
        firstname: 'Cli',
        lastname: 'User',
      })),
      groups: [{ name: 'Cli', members: names }],
      bindings: [{ groups: ['Cli'] }],
    });
    await activateAndSync(client, stack.config);

    const { temporal } = stack.config;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      TEMPORAL_TASK_QUEUE: temporal.configuredTaskQueue,
      CONNECTOR_ID: stack.config.connectorId,
    };
    let ok = true;
    for (const [name, args] of [
      ['help', ['--help']],
      ['status', ['status']],
    ] as const) {
      await timeCommand([...args], env); // warm the file cache: "on an idle machine", not a cold disk
      const runs: number[] = [];
      for (let i = 0; i < RUNS; i++) runs.push(await timeCommand([...args], env));
      const ms = median(runs);
      const target = TARGETS[name];
      const met = ms <= target;
      ok &&= met;
      console.log(
        `cli: jc-notion ${args.join(' ')} median ${(ms / 1000).toFixed(2)} s of ${RUNS} (runs ${runs.map((r) => (r / 1000).toFixed(2)).join(', ')} s; target ≤ ${target / 1000} s) ${met ? 'OK' : 'BELOW TARGET'}`,
      );
    }
    return ok;
  } finally {
    await client.connection.close();
    await stack.stop();
  }
}
