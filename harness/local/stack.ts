/**
 * The local stack (SPEC §8): the Temporal dev server with its UI, the JumpCloud and Notion
 * emulators, a mail sink and one worker, wired together. Used by `jc-notion local` and the demo.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import pino from 'pino';
import net from 'node:net';
import path from 'node:path';
import { parseConfig, secretValues, type WorkerConfig } from '../../config/config';
import { currentSecretValues } from '../../config/secrets';
import { createLogger, type Logger } from '../../common/logger';
import { obtainTemporalCli } from '../temporal/cli-binary';
import { freePort, startDevServer, type DevServer } from '../temporal/dev-server';
import { createJumpCloudEmulator, type JumpCloudEmulator } from '../emulators/jumpcloud';
import { createMailSink, type MailSink } from '../emulators/mail';
import { createNotionEmulator, type NotionEmulator } from '../emulators/notion';
import { createDemoOrganization } from '../emulators/seed/demo';
import { startWorker, type RunningWorker } from '../../worker/worker';
import { startCodecServer } from '../../temporal/codec-server';
import { EncryptionCodec, parseEncryptionKeys } from '../../temporal/encryption-codec';
import type { LocalStackPorts } from '../../client/commands/local';
import { RestoreError, restoreEmulator, startSnapshotSaver, type PersistedEmulator } from './persistence';

/** Fixed local credentials (SPEC §8): printed by `local`, never real secrets. */
export const LOCAL_CREDENTIALS = {
  jumpcloudApiKey: 'local-jumpcloud-key',
  notionToken: 'local-notion-token',
  /** The id of the `Notion` SSO application the JumpCloud emulator always holds. */
  notionAppId: '64b7f0c2a1d3e4f5a6b7c8d9',
  /** Notion's token owner, who cannot be removed; never deactivated by the product. */
  notionTokenOwner: 'owner@example.com',
} as const;

export type { LocalStackPorts };

/** The JumpCloud and Notion emulators with the local credentials (not listening yet). */
export function createLocalEmulators(): { jumpcloud: JumpCloudEmulator; notion: NotionEmulator } {
  return {
    jumpcloud: createJumpCloudEmulator({
      apiKey: LOCAL_CREDENTIALS.jumpcloudApiKey,
      notionAppId: LOCAL_CREDENTIALS.notionAppId,
    }),
    notion: createNotionEmulator({
      token: LOCAL_CREDENTIALS.notionToken,
      ownerEmail: LOCAL_CREDENTIALS.notionTokenOwner,
    }),
  };
}

/** Ports free right now, for a stack beside others (tests, benchmarks). */
export async function freeLocalPorts(): Promise<LocalStackPorts> {
  return {
    temporal: await freePort(),
    ui: await freePort(),
    jumpcloud: await freePort(),
    notion: await freePort(),
    smtp: await freePort(),
  };
}

export interface LocalStackOptions {
  ports: LocalStackPorts;
  /** `demo` loads the demo organisation; `none` starts empty. */
  seed: 'demo' | 'none';
  /**
   * Persist state here instead of in memory: Temporal's database (`temporal.db`) and the
   * emulators' states (`jumpcloud.json`, `notion.json`, restored at start, saved every 10 s when
   * changed and on stop).
   */
  dataDir?: string;
  /** Progress lines for the person running the stack. */
  progress: (line: string) => void;
  /** Extra settings for the worker (e.g. POLL_INTERVAL), over the stack's own. */
  env?: Record<string, string | undefined>;
  /**
   * Issue 16: encrypt payloads even without PAYLOAD_ENCRYPTION_KEYS (a key is made, and kept in
   * the data directory when there is one). With keys, either way, a codec server starts and the
   * UI decodes through it.
   */
  encrypt?: boolean;
  /** The codec server's port (default 8428). */
  codecPort?: number;
}

export interface LocalEndpoint {
  name: string;
  url: string;
  detail?: string;
}

export interface LocalStack {
  endpoints: LocalEndpoint[];
  config: WorkerConfig;
  temporal: DevServer;
  jumpcloud: JumpCloudEmulator;
  notion: NotionEmulator;
  mail: MailSink;
  worker: RunningWorker;
  stop(): Promise<void>;
}

const PORT_FLAGS: Record<keyof LocalStackPorts | 'codec', string> = {
  codec: '--codec-port',
  temporal: '--temporal-port',
  ui: '--ui-port',
  jumpcloud: '--jumpcloud-port',
  notion: '--notion-port',
  smtp: '--smtp-port',
};

export class LocalStackError extends Error {
  override name = 'LocalStackError';
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const { ports, progress } = options;
  const keysText =
    options.env?.PAYLOAD_ENCRYPTION_KEYS ??
    (options.encrypt ? localEncryptionKeys(options.dataDir, progress) : undefined);
  const codecPort = keysText ? (options.codecPort ?? 8428) : undefined;
  await requireFreePorts(ports, codecPort);
  const ip = '127.0.0.1';
  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const stopOne of stoppers.splice(0).reverse()) await stopOne().catch(() => undefined);
  };
  try {
    const cli = await obtainTemporalCli({ log: progress });
    progress(`Temporal CLI: ${cli.path} (${cli.source})`);
    if (options.dataDir) fs.mkdirSync(options.dataDir, { recursive: true });
    // Issue 16: the UI decodes encrypted payloads through the codec server, whose token is in the
    // endpoint's path (the dev server's UI sends no header of ours); CORS: the UI's origin only.
    const codec = keysText ? await startLocalCodecServer(keysText, ip, codecPort!, ports.ui) : undefined;
    if (codec) stoppers.push(() => codec.server.close());
    const temporal = await startDevServer({
      executable: cli.path,
      ip,
      port: ports.temporal,
      uiPort: ports.ui,
      uiCodecEndpoint: codec?.endpoint,
      dbFilename: options.dataDir ? path.resolve(options.dataDir, 'temporal.db') : undefined,
    });
    stoppers.push(() => temporal.stop());

    const { jumpcloud, notion } = createLocalEmulators();
    // Saved states are restored before the emulators serve anything.
    const persisted = options.dataDir ? persistedEmulators(options.dataDir, jumpcloud, notion) : [];
    const restored = new Set<PersistedEmulator>();
    for (const target of persisted) {
      try {
        if (restoreEmulator(target)) restored.add(target);
      } catch (error) {
        throw error instanceof RestoreError ? new LocalStackError(error.message) : error;
      }
    }
    const wasRestored = (emulator: unknown) => [...restored].some((target) => target.emulator === emulator);
    for (const target of restored) progress(`Restored the ${target.label} from ${target.file}`);

    const jumpcloudUrl = await jumpcloud.listen({ port: ports.jumpcloud, host: ip });
    stoppers.push(() => jumpcloud.close());
    const notionUrl = `${await notion.listen({ port: ports.notion, host: ip })}/scim/v2`;
    stoppers.push(() => notion.close());
    const mail = createMailSink();
    const mailUrls = await mail.listen({ smtpPort: ports.smtp, httpPort: ports.smtp + 1, host: ip });
    stoppers.push(() => mail.close());
    if (options.seed === 'demo') {
      const demo = createDemoOrganization();
      for (const target of restored)
        progress(`--seed demo skipped for the ${target.label}: its state was restored from ${target.file}`);
      if (!wasRestored(jumpcloud)) {
        jumpcloud.seed(demo.jumpcloud);
        progress(
          `Seeded the demo organisation: ${demo.jumpcloud.users?.length ?? 0} JumpCloud users, ${demo.jumpcloud.groups?.length ?? 0} groups`,
        );
      }
      if (!wasRestored(notion)) {
        notion.seed(demo.notion);
        progress(`Seeded the demo Notion workspace: ${demo.notion.users?.length ?? 0} users`);
      }
    }
    if (persisted.length > 0) {
      // Registered after the restore: a file that could not be restored is never overwritten.
      // Stoppers run in reverse, so the last save comes after the worker has stopped.
      const saver = startSnapshotSaver(persisted, { restored, onError: progress });
      stoppers.push(() => saver.stop());
      progress(`Emulator states are saved in ${persisted.map((target) => target.file).join(' and ')}`);
    }

    const config = parseConfig(
      {
        // Issue 16: no `<NAME>_FILE` of the environment may replace the local credentials.
        ...withoutSecretFiles(options.env ?? {}),
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_NAMESPACE: temporal.namespace,
        JUMPCLOUD_BASE_URL: jumpcloudUrl,
        JUMPCLOUD_INSIGHTS_URL: `${jumpcloudUrl}/insights/directory/v1`,
        JUMPCLOUD_API_KEY: LOCAL_CREDENTIALS.jumpcloudApiKey,
        JUMPCLOUD_APP_ID: LOCAL_CREDENTIALS.notionAppId,
        NOTION_SCIM_BASE_URL: notionUrl,
        NOTION_SCIM_TOKEN: LOCAL_CREDENTIALS.notionToken,
        NOTION_PROTECTED_USERS: LOCAL_CREDENTIALS.notionTokenOwner,
        NOTIFY_SMTP_URL: mailUrls.smtpUrl,
        NOTIFY_EMAIL: options.env?.NOTIFY_EMAIL ?? 'identity-admins@example.com',
        TEMPORAL_UI_URL: temporal.uiUrl,
        ...(codec ? { PAYLOAD_ENCRYPTION_KEYS: keysText, CODEC_SERVER_TOKEN: codec.token } : {}),
      },
      'worker',
    ) as WorkerConfig;

    // Logs go to stderr: stdout is the stack's own report (URLs, credentials, `ready`).
    const logger: Logger = createLogger({
      level: config.logLevel,
      secrets: () => currentSecretValues(secretValues(config), config.secretFiles),
      destination: pino.destination(2),
    });
    const worker = await startWorker(config, logger);
    stoppers.push(() => worker.stop());

    const endpoints: LocalEndpoint[] = [
      { name: 'Temporal', url: temporal.address, detail: `namespace ${temporal.namespace}` },
      { name: 'Temporal UI', url: temporal.uiUrl! },
      {
        name: 'JumpCloud API',
        url: `${jumpcloudUrl}/api`,
        detail: 'v2 at /api/v2, Directory Insights at /insights/directory/v1',
      },
      { name: 'Notion SCIM', url: notionUrl, detail: `token owner ${LOCAL_CREDENTIALS.notionTokenOwner}` },
      { name: 'Mail sink', url: mailUrls.smtpUrl, detail: `inbox ${mailUrls.httpUrl}/messages` },
      { name: 'Worker', url: `task queue ${config.temporal.taskQueue}`, detail: worker.identity },
      ...(codec
        ? [
            {
              name: 'Codec server',
              url: codec.endpoint,
              detail: 'payloads are encrypted; the UI decodes them here (temporal CLI: --codec-endpoint)',
            },
          ]
        : []),
    ];
    return { endpoints, config, temporal, jumpcloud, notion, mail, worker, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The emulators' state files in the data directory. */
function persistedEmulators(
  dataDir: string,
  jumpcloud: JumpCloudEmulator,
  notion: NotionEmulator,
): PersistedEmulator[] {
  return [
    { label: 'JumpCloud emulator', file: path.resolve(dataDir, 'jumpcloud.json'), emulator: jumpcloud },
    { label: 'Notion emulator', file: path.resolve(dataDir, 'notion.json'), emulator: notion },
  ];
}

/** Names the first port already taken, with the flag that moves it. */
async function requireFreePorts(ports: LocalStackPorts, codecPort?: number): Promise<void> {
  // The mail sink's HTTP inbox listens on the SMTP port + 1.
  const wanted: [keyof LocalStackPorts | 'codec', number][] = [
    ...(Object.entries(ports) as [keyof LocalStackPorts, number][]),
    ['smtp', ports.smtp + 1],
    ...(codecPort ? [['codec', codecPort] as ['codec', number]] : []),
  ];
  for (const [name, port] of wanted) {
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (!free)
      throw new LocalStackError(
        `port ${port} is already in use: stop what uses it or pass ${PORT_FLAGS[name]}`,
      );
  }
}

/** The environment without its `<NAME>_FILE` variables (the local stack's secrets are its own). */
export function withoutSecretFiles(
  env: Record<string, string | undefined>,
): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.endsWith('_FILE')));
}

/**
 * Issue 16: the stack's own key when none is configured: made once, and kept (readable by its
 * owner only) in the data directory so that a restarted stack still reads its histories.
 */
function localEncryptionKeys(dataDir: string | undefined, progress: (line: string) => void): string {
  const file = dataDir ? path.resolve(dataDir, 'encryption-keys') : undefined;
  if (file && fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  const keys = `local-${Date.now().toString(36)}:${randomBytes(32).toString('base64')}`;
  if (file) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${keys}\n`, { mode: 0o600 });
    progress(`Made a payload encryption key, kept in ${file}`);
  }
  return keys;
}

async function startLocalCodecServer(keysText: string, ip: string, port: number, uiPort: number) {
  let codec: EncryptionCodec;
  try {
    codec = new EncryptionCodec(parseEncryptionKeys(keysText));
  } catch (error) {
    throw new LocalStackError(`PAYLOAD_ENCRYPTION_KEYS ${(error as Error).message}`);
  }
  const token = randomBytes(24).toString('hex');
  const server = await startCodecServer({
    codec,
    token,
    allowedOrigin: `http://${ip}:${uiPort}`,
    namespace: 'default',
    host: ip,
    port,
  });
  return { server, token, endpoint: `${server.url}/${token}` };
}
