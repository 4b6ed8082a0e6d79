/** The `jc-notion` command line: commands, options and help. */
import { Command, InvalidArgumentError, Option } from 'commander';
// Types only, and light modules: a command's module (and with it the Temporal SDK, protobuf, the
// mail libraries…) is required when that command runs, so `--help` and every other command start
// at once (issue 18). `require`, not `import()`: this build is CommonJS, where `import()` would
// load the compiled files as ECMAScript modules.
/* eslint-disable @typescript-eslint/no-require-imports */
import type * as ApprovalModule from './commands/approval';
import type * as CodecServerModule from './commands/codec-server';
import type * as ConnectorModule from './commands/connector';
import type * as FindModule from './commands/find';
import type * as HistoryModule from './commands/history';
import type * as ImportModule from './commands/import';
import type * as LocalModule from './commands/local';
import type * as ProvisionModule from './commands/provision';
import type * as StatusModule from './commands/status';
import type * as SyncModule from './commands/sync';
import type * as WorkerModule from './commands/worker';
import type { ApprovalOptions } from './commands/approval';
import type { ImportListOptions, ImportRunOptions } from './commands/import';
import { isJumpCloudId } from '../contracts/shared';
import { DEFAULT_CODEC_PORT, DEFAULT_PORTS } from './commands/local';

/** The codec server's default port (client/commands/codec-server.ts listens there). */
export const DEFAULT_CODEC_SERVER_PORT = 8428;

/** An action that loads its command's module when it runs. */
function lazy<A extends unknown[]>(load: () => (...args: A) => Promise<void>) {
  return (...args: A): Promise<void> => load()(...args);
}

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

function groupId(value: string): string {
  if (!isJumpCloudId(value))
    throw new InvalidArgumentError('must be a JumpCloud user group id (24 hexadecimal characters)');
  return value;
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
    .action(lazy(() => (require('./commands/local') as typeof LocalModule).localCommand));

  program
    .command('worker')
    .description('run a worker (what each cluster node runs) until SIGINT or SIGTERM')
    .action(lazy(() => (require('./commands/worker') as typeof WorkerModule).workerCommand));

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
    .action(lazy(() => (require('./commands/connector') as typeof ConnectorModule).activateCommand));

  program
    .command('deactivate')
    .description('stop every sync at once; Notion is left as it is (C2)')
    .option('--json', 'print as JSON')
    .action(lazy(() => (require('./commands/connector') as typeof ConnectorModule).deactivateCommand));

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
      .action(async (options: { json?: boolean }) =>
        (require('./commands/connector') as typeof ConnectorModule).groupsCommand(action, options),
      );
  }

  program
    .command('status')
    .description('state of the connector, the workers, users in error and accounts to delete by hand')
    .option('--json', 'print as JSON')
    .action(lazy(() => (require('./commands/status') as typeof StatusModule).statusCommand));

  program
    .command('sync')
    .description('reconcile every user now (C5); --dry-run prints the plan and writes nothing (C7)')
    .option('--dry-run', 'print the exact plan and write nothing')
    .option('--timeout <seconds>', 'stop following the users after this long (the sync goes on)', Number, 600)
    .option('--json', 'print as JSON')
    .action(lazy(() => (require('./commands/sync') as typeof SyncModule).syncCommand));

  program
    .command('provision')
    .argument('<user>', 'JumpCloud user id, username or email')
    .description('converge one user now and print each step with its outcome (C8)')
    .option('--json', 'print as JSON')
    .action(lazy(() => (require('./commands/provision') as typeof ProvisionModule).provisionCommand));

  program
    .command('approve')
    .description(
      "apply the changes held by the mass-change guard (C6): deactivations, or a first reconciliation's creations",
    )
    .option('--expect <count>', 'the number of held changes you reviewed; refused if it changed', count)
    .option('--json', 'print as JSON')
    .action(async (options: ApprovalOptions) =>
      (require('./commands/approval') as typeof ApprovalModule).approvalCommand('approve', options),
    );

  program
    .command('reject')
    .description('drop the changes held by the mass-change guard; Notion stays as it is (C6)')
    .option('--expect <count>', 'the number of held changes you reviewed; refused if it changed', count)
    .option('--json', 'print as JSON')
    .action(async (options: ApprovalOptions) =>
      (require('./commands/approval') as typeof ApprovalModule).approvalCommand('reject', options),
    );

  const importCommand = program.command('import').description('import Notion members into JumpCloud (I1–I3)');
  importCommand
    .command('list')
    .description('list the Notion members: New (no JumpCloud user with that email) or Imported (I1)')
    .option('--new-first', 'list the New members first')
    .option('--json', 'print as JSON')
    .action(async (options: ImportListOptions) =>
      (require('./commands/import') as typeof ImportModule).importListCommand(options),
    );
  importCommand
    .command('run')
    .argument('[emails...]', 'emails of the Notion members to import')
    .description(
      'create the JumpCloud users of these Notion members (or of every New one); under 100 the results print as they come, 100 or more run in the background with a completion mail (I2, I3)',
    )
    .option('--all-new', 'import every New member')
    .option(
      '--group <id>',
      'add the imported users to this JumpCloud user group, which must be bound to the application',
      groupId,
    )
    .option('--timeout <seconds>', 'stop following after this long (the import goes on)', Number, 600)
    .option('--json', 'print as JSON')
    .action(async (emails: string[], options: ImportRunOptions) =>
      (require('./commands/import') as typeof ImportModule).importRunCommand(emails, options),
    );

  program
    .command('find')
    .argument('<term>', 'an email, a username, a JumpCloud id or a group name')
    .description(
      "the matching users' and groups' workflows, their state and a link to each in the Temporal UI",
    )
    .option('--json', 'print as JSON')
    .action(lazy(() => (require('./commands/find') as typeof FindModule).findCommand));

  program
    .command('history')
    .argument('<term>', 'an email, a username, a JumpCloud id or a group name (one user or group)')
    .description(
      "a user's or group's provisioning log, read from its workflow history: each step, its outcome and when, oldest first",
    )
    .option('--json', 'print as JSON')
    .action(lazy(() => (require('./commands/history') as typeof HistoryModule).historyCommand));

  program
    .command('codec-server')
    .description(
      'serve the Temporal UI and CLI the decoded payloads (PAYLOAD_ENCRYPTION_KEYS), to CODEC_SERVER_TOKEN holders from TEMPORAL_UI_URL',
    )
    .option('--port <port>', 'port to listen on (0: any free one)', listenPort, DEFAULT_CODEC_SERVER_PORT)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--json', 'print the endpoint as JSON')
    .action(lazy(() => (require('./commands/codec-server') as typeof CodecServerModule).codecServerCommand));

  return program;
}
