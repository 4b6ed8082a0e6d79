/** Entry point of `jc-notion`: runs a command; any failure is one line on stderr and exit code 1. */
import { CommanderError } from 'commander';
import { oneLine } from './errors';
import { printError } from './output';
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
    printError(`jc-notion: ${oneLine(error)}`);
    if (process.env.JCN_DEBUG && error instanceof Error && error.stack) printError(error.stack);
    process.exit(1);
  }
}

void main(process.argv);
