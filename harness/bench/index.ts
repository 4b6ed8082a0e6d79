/**
 * `npm run bench [-- <name>…]`: the performance checks (never timed assertions in tests).
 * Names: `cli` (`jc-notion --help` and `status`), `emulators` (request throughput), `idle` (what an idle connector asks of both services), `latency` (change feed, C4), `rate` (three workers
 * against a rate-limited Notion, ADR 0004), `replay` (the workflow code's CPU per replayed user
 * history, issue 18), `throughput` (initial sync of 10,000 users against the
 * platform ceiling, SPEC §9); all by default. `--cluster` runs them on the production topology
 * (issue 17: a Temporal cluster on PostgreSQL, `BENCH_WORKERS` worker processes).
 */
import { benchCli } from './cli';
import { benchEmulators } from './emulators';
import { benchIdle } from './idle';
import { benchLatency } from './latency';
import { benchRate } from './rate';
import { benchReplay } from './replay';
import { benchThroughput } from './throughput';

const BENCHES: Record<string, () => Promise<boolean>> = {
  cli: benchCli,
  emulators: benchEmulators,
  idle: benchIdle,
  latency: benchLatency,
  rate: benchRate,
  replay: benchReplay,
  throughput: benchThroughput,
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  // `--cluster`: on the production topology (a Temporal cluster on PostgreSQL) instead of the dev server.
  if (args.includes('--cluster')) process.env.BENCH_TOPOLOGY = 'cluster';
  const names = args.filter((arg) => arg !== '--cluster');
  const unknown = names.filter((name) => !(name in BENCHES));
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')} (known: ${Object.keys(BENCHES).join(', ')})`);
    process.exitCode = 2;
    return;
  }
  const results: Record<string, boolean> = {};
  for (const name of names.length > 0 ? names : Object.keys(BENCHES)) results[name] = await BENCHES[name]!();
  const failed = Object.entries(results).filter(([, ok]) => !ok);
  console.log(
    failed.length === 0
      ? 'All benchmarks met their targets.'
      : `Below target: ${failed.map(([name]) => name).join(', ')}`,
  );
  process.exitCode = failed.length === 0 ? 0 : 1;
}

void main();
