/** `npm run bench`: the performance checks (never timed assertions in tests). */
import { benchEmulators } from './emulators';

async function main(): Promise<void> {
  const results = { emulators: await benchEmulators() };
  const failed = Object.entries(results).filter(([, ok]) => !ok);
  console.log(
    failed.length === 0
      ? 'All benchmarks met their targets.'
      : `Below target: ${failed.map(([name]) => name).join(', ')}`,
  );
  process.exitCode = failed.length === 0 ? 0 : 1;
}

void main();
