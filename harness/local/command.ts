/**
 * The body of `jc-notion local` (SPEC §8): starts the local stack, prints its endpoints and the
 * local credentials, then `ready`; stops it on SIGINT or SIGTERM. Loaded at run time by
 * `client/commands/local.ts` (through `client/harness.ts`), which declares the command's options.
 */
import type { LocalCommandHarness, LocalCommandOptions } from '../../client/commands/local';
import { printJson, printLines, table } from '../../client/output';
import { readEnvironment } from '../../config/config';
import { LOCAL_CREDENTIALS, startLocalStack, type LocalStackPorts } from './stack';

/** Typed by the interface the product loads it by. */
export const runLocalCommand: LocalCommandHarness['runLocalCommand'] = async (
  options: LocalCommandOptions,
): Promise<void> => {
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
    encrypt: options.encrypt,
    codecPort: options.codecPort,
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
    // Issue 16: the admin commands need the stack's keys to read what the workers wrote.
    ...(stack.config.privacy.encryptionKeysText
      ? { payloadEncryptionKeys: stack.config.privacy.encryptionKeysText }
      : {}),
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
      ...(credentials.payloadEncryptionKeys
        ? [['PAYLOAD_ENCRYPTION_KEYS', credentials.payloadEncryptionKeys] as [string, string]]
        : []),
    ]),
    `In another terminal: ${portHint}${credentials.payloadEncryptionKeys ? `PAYLOAD_ENCRYPTION_KEYS=${credentials.payloadEncryptionKeys} ` : ''}npx jc-notion status`,
    'Press Ctrl-C to stop.',
    'ready',
  ]);
};
