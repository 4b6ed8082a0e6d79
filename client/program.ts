/** The `jc-notion` command line: commands, options and help. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { approvalCommand, type ApprovalOptions } from './commands/approval';
import { activateCommand, deactivateCommand, groupsCommand } from './commands/connector';
import { registerImportCommands } from './commands/import';
import { DEFAULT_CODEC_PORT, DEFAULT_PORTS, localCommand } from './commands/local';
import { codecServerCommand, DEFAULT_CODEC_SERVER_PORT } from './commands/codec-server';
import { findCommand } from './commands/find';
import { provisionCommand } from './commands/provision';
import { syncCommand } from './commands/sync';
import { statusCommand } from './commands/status';
import { workerCommand } from './commands/worker';

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535)
    throw new InvalidArgumentError('must be a port number (1-65535)');
  return n;
}

/** A port to listen on, where 0 means any free one (printed once listening). */
function listenPort(value: string): number {
  return value === '0' ? 0 : port(value);
}

function count(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number (0 or more)');
  return Number(value);
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
    .option(
      '--encrypt',
      'encrypt every payload in Temporal (keys from PAYLOAD_ENCRYPTION_KEYS, or made for the stack) and start the codec server the UI decodes them with',
    )
    .option('--codec-port <port>', 'codec server port (with encryption)', port, DEFAULT_CODEC_PORT)
    .option(
      '--cluster',
      'the production topology instead of the dev server: a Temporal cluster on PostgreSQL (four service processes), its Web UI, and --workers worker processes',
    )
    .option('--workers <count>', 'worker processes (with --cluster)', count, 3)
    .option('--json', 'print the endpoints as JSON')
    .action(localCommand);

  program
    .command('worker')
    .description('run a worker (what each cluster node runs) until SIGINT or SIGTERM')
    .action(workerCommand);

  program
    .command('activate')
    .description(
      'verify the JumpCloud and Notion credentials, activate the connector (C1) and show what its first reconciliation will do',
    )
    .option(
      '--approve-creations',
      'approve in advance the members the first reconciliation creates (otherwise more than DEACTIVATION_THRESHOLD are held for `approve`)',
    )
    .option('--json', 'print as JSON')
    .action(activateCommand);

  program
    .command('deactivate')
    .description('stop every sync at once; Notion is left as it is (C2)')
    .option('--json', 'print as JSON')
    .action(deactivateCommand);

  const groups = program.command('groups').description('group management (G8): off until enabled');
  for (const action of ['enable', 'disable'] as const) {
    groups
      .command(action)
      .description(
        action === 'enable'
          ? 'keep the bound groups and their memberships in Notion (takeover by name)'
          : 'leave Notion groups as they are and send no group request; users are still managed',
      )
      .option('--json', 'print as JSON')
      .action((options: { json?: boolean }) => groupsCommand(action, options));
  }

  program
    .command('status')
    .description('state of the connector, the workers, users in error and accounts to delete by hand')
    .option('--json', 'print as JSON')
    .action(statusCommand);

  program
    .command('sync')
    .description('reconcile every user now (C5); --dry-run prints the plan and writes nothing (C7)')
    .option('--dry-run', 'print the exact plan and write nothing')
    .option('--timeout <seconds>', 'stop following the users after this long (the sync goes on)', Number, 600)
    .option('--json', 'print as JSON')
    .action(syncCommand);

  program
    .command('provision')
    .argument('<user>', 'JumpCloud user id, username or email')
    .description('converge one user now and print each step with its outcome (C8)')
    .option('--json', 'print as JSON')
    .action(provisionCommand);

  program
    .command('approve')
    .description(
      "apply the changes held by the mass-change guard (C6): deactivations, or a first reconciliation's creations",
    )
    .option('--expect <count>', 'the number of held changes you reviewed; refused if it changed', count)
    .option('--json', 'print as JSON')
    .action((options: ApprovalOptions) => approvalCommand('approve', options));

  program
    .command('reject')
    .description('drop the changes held by the mass-change guard; Notion stays as it is (C6)')
    .option('--expect <count>', 'the number of held changes you reviewed; refused if it changed', count)
    .option('--json', 'print as JSON')
    .action((options: ApprovalOptions) => approvalCommand('reject', options));

  registerImportCommands(program);

  program
    .command('find')
    .argument('<term>', 'an email, a username, a JumpCloud id or a group name')
    .description(
      "the matching users' and groups' workflows, their state and a link to each in the Temporal UI",
    )
    .option('--json', 'print as JSON')
    .action(findCommand);

  program
    .command('codec-server')
    .description(
      'serve the Temporal UI and CLI the decoded payloads (PAYLOAD_ENCRYPTION_KEYS), to CODEC_SERVER_TOKEN holders from TEMPORAL_UI_URL',
    )
    .option('--port <port>', 'port to listen on (0: any free one)', listenPort, DEFAULT_CODEC_SERVER_PORT)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--json', 'print the endpoint as JSON')
    .action(codecServerCommand);

  return program;
}
