/** Entry point of `jc-notion`: runs a command; any failure is one line on stderr and exit code 1. */
import { CommanderError } from 'commander';
import { oneLine } from './errors';
import { buildProgram } from './program';

async function main(argv: string[]): Promise<void> {
  const program = buildProgram().exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has printed its message (or the help) already.
      process.exit(error.exitCode);
    }
    process.stderr.write(`jc-notion: ${oneLine(error)}\n`);
    if (process.env.JCN_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  }
}

void main(process.argv);
