/**
 * Runs once before all test files: obtains the Temporal CLI (on a fresh machine this builds it
 * with `go install`, which takes minutes), so that parallel test files find it cached.
 */
import { obtainTemporalCli } from '../../harness/temporal/cli-binary';

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const cli = await obtainTemporalCli({ log: (line) => process.stderr.write(`[temporal-cli] ${line}\n`) });
  process.stderr.write(
    `[temporal-cli] using ${cli.path} (${cli.source}, ${cli.version.split('\n')[0]}) after ${Date.now() - started} ms\n`,
  );
  process.env.TEMPORAL_CLI_PATH = cli.path;
}
