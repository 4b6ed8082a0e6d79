/** `jc-notion local`: the whole local stack in the foreground, until SIGINT or SIGTERM. */
import { readEnvironment } from '../../config/config';
import { LOCAL_CREDENTIALS, startLocalStack, type LocalStackPorts } from '../../harness/local/stack';
import { printJson, printLines, table } from '../output';

export interface LocalCommandOptions {
  temporalPort: number;
  uiPort: number;
  jumpcloudPort: number;
  notionPort: number;
  smtpPort: number;
  seed: 'demo' | 'none';
  dataDir?: string;
  json?: boolean;
}

export async function localCommand(options: LocalCommandOptions): Promise<void> {
  const ports: LocalStackPorts = {
    temporal: options.temporalPort,
    ui: options.uiPort,
    jumpcloud: options.jumpcloudPort,
    notion: options.notionPort,
    smtp: options.smtpPort,
  };
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  progress('Starting the local stack…');
  const stack = await startLocalStack({
    ports,
    seed: options.seed,
    dataDir: options.dataDir,
    progress,
    env: readEnvironment(),
  });

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    progress(`${signal}: stopping the local stack…`);
    void stack.stop().then(() => {
      progress('stopped');
      process.exit(0);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  const credentials = {
    jumpcloudApiKey: LOCAL_CREDENTIALS.jumpcloudApiKey,
    notionToken: LOCAL_CREDENTIALS.notionToken,
    notionAppId: LOCAL_CREDENTIALS.notionAppId,
  };
  if (options.json) {
    printJson({ status: 'ready', endpoints: stack.endpoints, credentials, seed: options.seed });
    return;
  }
  const portHint = ports.temporal === 7233 ? '' : `TEMPORAL_ADDRESS=${stack.temporal.address} `;
  printLines([
    'jc-notion local stack',
    ...table(stack.endpoints.map((e) => [e.name, e.detail ? `${e.url}  (${e.detail})` : e.url])),
    'Local credentials',
    ...table([
      ['JumpCloud API key', credentials.jumpcloudApiKey],
      ['Notion SCIM token', credentials.notionToken],
      ['Notion app id', credentials.notionAppId],
    ]),
    `In another terminal: ${portHint}npx jc-notion status`,
    'Press Ctrl-C to stop.',
    'ready',
  ]);
}
