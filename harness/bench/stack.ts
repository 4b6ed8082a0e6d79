/** The local stack (SPEC §8) on free ports, for benchmarks: no demo data, quiet logs. */
import { freeLocalPorts, startLocalStack, type LocalStack } from '../local/stack';

export async function startBenchStack(env: Record<string, string> = {}): Promise<LocalStack> {
  return startLocalStack({
    ports: await freeLocalPorts(),
    seed: 'none',
    progress: process.env.BENCH_VERBOSE
      ? (line) => process.stderr.write(`stack: ${line}\n`)
      : () => undefined,
    env: { LOG_LEVEL: 'error', ...env },
  });
}
