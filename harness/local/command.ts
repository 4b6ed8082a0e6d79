/**
 * The body of `jc-notion local` (SPEC §8): starts the local stack, prints its endpoints and the
 * local credentials, then `ready`; stops it on SIGINT or SIGTERM. Loaded at run time by
 * `client/commands/local.ts` (through `client/harness.ts`), which declares the command's options.
 */
import type { LocalCommandHarness, LocalCommandOptions } from '../../client/commands/local';
import { printJson, printLines, table } from '../../client/output';
import { readEnvironment } from '../../config/config';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDemoOrganization } from '../emulators/seed/demo';
import { startClusterStack } from './cluster-stack';
import { LOCAL_CREDENTIALS, LocalStackError, startLocalStack, type LocalStackPorts } from './stack';

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
  if (options.cluster) return runClusterStack(options, progress);
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

/**
 * Issue 17: `local --cluster` — the production topology on this machine (a Temporal cluster on
 * PostgreSQL, its UI, the emulators and `--workers` worker processes). Its state lives in a
 * database of its own, dropped on stop.
 */
async function runClusterStack(
  options: LocalCommandOptions,
  progress: (line: string) => void,
): Promise<void> {
  if (options.dataDir)
    throw new LocalStackError(
      '--data-dir is for the dev server: --cluster keeps its state in PostgreSQL for the run',
    );
  if (options.encrypt)
    throw new LocalStackError(
      '--encrypt runs on the dev server: start `jc-notion local --encrypt` without --cluster',
    );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jcn-local-cluster-'));
  progress(`Starting the production topology (logs in ${dir})…`);
  const stack = await startClusterStack({
    dir,
    database: `jcn_local_${process.pid}_${Date.now().toString(36)}`,
    workers: options.workers,
    env: readEnvironment(),
    ports: {
      ui: options.uiPort,
      jumpcloud: options.jumpcloudPort,
      notion: options.notionPort,
      smtp: options.smtpPort,
    },
    progress,
  });
  if (options.seed === 'demo') {
    const demo = createDemoOrganization();
    stack.jumpcloud.seed(demo.jumpcloud);
    stack.notion.seed(demo.notion);
    progress(`Seeded the demo organisation: ${demo.jumpcloud.users?.length ?? 0} JumpCloud users`);
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    progress(`${signal}: stopping the cluster, its workers and the emulators…`);
    void stack.stop().then(() => {
      fs.rmSync(dir, { recursive: true, force: true });
      progress('stopped');
      process.exit(0);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  if (options.json) {
    printJson({ status: 'ready', endpoints: stack.endpoints, seed: options.seed });
    return;
  }
  printLines([
    'jc-notion local stack: production topology',
    ...table(stack.endpoints.map((e) => [e.name, e.detail ? `${e.url}  (${e.detail})` : e.url])),
    `In another terminal: TEMPORAL_ADDRESS=${stack.cluster.address} npx jc-notion status`,
    'Press Ctrl-C to stop.',
    'ready',
  ]);
}
