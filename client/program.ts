/** The `jc-notion` command line: commands, options and help. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_PORTS } from '../local/stack';
import { localCommand } from './commands/local';
import { statusCommand } from './commands/status';
import { workerCommand } from './commands/worker';

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535)
    throw new InvalidArgumentError('must be a port number (1-65535)');
  return n;
}

export function buildProgram(): Command {
  const program = new Command('jc-notion')
    .description('Provision, update and deprovision Notion users and groups from JumpCloud, on Temporal.')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: false });

  program
    .command('local')
    .description(
      'start the local stack in the foreground: Temporal dev server with UI, JumpCloud and Notion emulators, mail sink, one worker',
    )
    .option('--temporal-port <port>', 'Temporal gRPC port', port, DEFAULT_PORTS.temporal)
    .option('--ui-port <port>', 'Temporal Web UI port', port, DEFAULT_PORTS.ui)
    .option('--jumpcloud-port <port>', 'JumpCloud emulator port', port, DEFAULT_PORTS.jumpcloud)
    .option('--notion-port <port>', 'Notion SCIM emulator port', port, DEFAULT_PORTS.notion)
    .option('--smtp-port <port>', 'mail sink SMTP port', port, DEFAULT_PORTS.smtp)
    .addOption(
      new Option('--seed <name>', 'data to load into the emulators')
        .choices(['demo', 'none'])
        .default('none'),
    )
    .option('--data-dir <dir>', 'keep the state in this folder instead of in memory')
    .option('--json', 'print the endpoints as JSON')
    .action(localCommand);

  program
    .command('worker')
    .description('run a worker (what each cluster node runs) until SIGINT or SIGTERM')
    .action(workerCommand);

  program
    .command('status')
    .description('state of the connector and of the workers')
    .option('--json', 'print as JSON')
    .action(statusCommand);

  return program;
}
