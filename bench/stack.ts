/** The local stack (SPEC §8) on free ports, for benchmarks: no demo data, quiet logs. */
import { startLocalStack, type LocalStack } from '../local/stack';
import { freePort } from '../temporal/dev-server';

export async function startBenchStack(env: Record<string, string> = {}): Promise<LocalStack> {
  const ports = {
    temporal: await freePort(),
    ui: await freePort(),
    jumpcloud: await freePort(),
    notion: await freePort(),
    smtp: await freePort(),
  };
  return startLocalStack({
    ports,
    seed: 'none',
    progress: () => undefined,
    env: { LOG_LEVEL: 'error', ...env },
  });
}
