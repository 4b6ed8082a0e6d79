/**
 * The product's configuration (SPEC §2), read from the environment and `.env`, validated with zod.
 *
 * A bad value gives one message naming every variable in error. Secret values never appear in
 * that message, in `describeConfig()` or anywhere else this module produces.
 */
import fs from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import ms from 'ms';
import { z } from 'zod';
import { JUMPCLOUD_ID_PATTERN, normalizeEmail } from '../contracts/shared';
import { parseEncryptionKeys, type EncryptionKey } from '../temporal/encryption-codec';
import { connectorTaskQueue, DEFAULT_CONNECTOR_ID, DERIVED_QUEUE_SUFFIXES } from '../temporal/task-queues';

/** Variables whose values are secret: shown as "set"/"unset", never printed. */
export const SECRET_VARIABLES = [
  'JUMPCLOUD_API_KEY',
  'NOTION_SCIM_TOKEN',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS_KEY',
  'PAYLOAD_ENCRYPTION_KEYS',
  'SEARCH_ATTRIBUTES_HMAC_KEY',
  'CODEC_SERVER_TOKEN',
] as const;
export type SecretVariable = (typeof SECRET_VARIABLES)[number];

/** What the caller is about to do decides which variables are required. */
export type ConfigPurpose =
  /** Talk to Temporal only (the `jc-notion` admin commands). */
  | 'client'
  /** Run a worker: also needs the JumpCloud and Notion credentials. */
  | 'worker';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

const HOST =
  /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)$/;

const hostPort = z.string().refine(
  (value) => {
    const at = value.lastIndexOf(':');
    if (at <= 0) return false;
    const host = value.slice(0, at);
    const port = Number(value.slice(at + 1));
    return HOST.test(host) && Number.isInteger(port) && port > 0 && port < 65536;
  },
  { message: 'must be host:port (e.g. 127.0.0.1:7233, temporal.example.com:7233, [::1]:7233)' },
);

/** Loopback hosts: the local stack's emulators and a local proxy may speak plain HTTP. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/**
 * A service URL: `https://`, or `http://` on loopback only (SPEC §2): a token sent in clear
 * over a network can be read on the way. No credentials in it.
 */
const serviceUrl = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an https URL' });
    return;
  }
  if (url.username || url.password)
    ctx.addIssue({ code: 'custom', message: 'must not hold credentials (use the secret variables)' });
  else if (url.protocol === 'http:' && !isLoopback(url.hostname))
    ctx.addIssue({
      code: 'custom',
      message: 'must be https:// (http:// only on loopback: 127.0.0.1, ::1, localhost)',
    });
  else if (url.protocol !== 'https:' && url.protocol !== 'http:')
    ctx.addIssue({ code: 'custom', message: 'must be an https URL' });
});

const positiveNumber = z.coerce
  .number({ message: 'must be a number' })
  .refine((n) => Number.isFinite(n) && n > 0, { message: 'must be a number greater than 0' });

const duration = z.string().transform((value, ctx) => {
  const millis = /^\d+(?:\.\d+)?\s*(?:ms|s|m|h|d)$/i.test(value.trim())
    ? ms(value.trim() as ms.StringValue)
    : NaN;
  if (!Number.isFinite(millis) || millis <= 0) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration such as 500ms, 10s, 5m, 1h or 1d' });
    return z.NEVER;
  }
  return millis;
});

const email = z.email({ message: 'must be an email address' });

const emailList = z.string().transform((value, ctx) => {
  const items = value.split(',').map(normalizeEmail).filter(Boolean);
  const bad = items.filter((item) => !email.safeParse(item).success);
  if (bad.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `${bad.length} entr${bad.length === 1 ? 'y is' : 'ies are'} not an email address`,
    });
    return z.NEVER;
  }
  return [...new Set(items)];
});

const smtpUrl = z.string().refine(
  (value) => {
    try {
      return ['smtp:', 'smtps:'].includes(new URL(value).protocol);
    } catch {
      return false;
    }
  },
  { message: 'must be an smtp:// or smtps:// URL' },
);

const secret = z.string().min(1);

/** Issue 16: the payload codec's keys; a problem is named by position and id, never by value. */
const encryptionKeys = z.string().transform((value, ctx) => {
  try {
    return parseEncryptionKeys(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** A web origin the browser shows (the Temporal UI): http or https, no credentials. */
const webUrl = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return ['http:', 'https:'].includes(url.protocol) && !url.username && !url.password;
    } catch {
      return false;
    }
  },
  { message: 'must be an http:// or https:// URL without credentials' },
);

/** JumpCloud object ids are 24 hexadecimal characters (MongoDB ObjectIds). */
const jumpcloudId = z
  .string()
  .regex(JUMPCLOUD_ID_PATTERN, { message: 'must be a JumpCloud id (24 hexadecimal characters)' });

const schema = z
  .object({
    TEMPORAL_ADDRESS: hostPort.default('127.0.0.1:7233'),
    TEMPORAL_NAMESPACE: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/, { message: 'must be a Temporal namespace name' })
      .default('default'),
    TEMPORAL_TASK_QUEUE: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,190}$/, { message: 'must be a task queue name' })
      .refine((name) => !DERIVED_QUEUE_SUFFIXES.some((suffix) => name.endsWith(suffix)), {
        message: `must not end with ${DERIVED_QUEUE_SUFFIXES.join(', ')} (the product derives those queues from it)`,
      })
      .default('jumpcloud-notion-sync'),
    TEMPORAL_API_KEY: secret.optional(),
    TEMPORAL_TLS_CERT: z.string().optional(),
    TEMPORAL_TLS_KEY: secret.optional(),
    JUMPCLOUD_BASE_URL: serviceUrl.default('https://console.jumpcloud.com'),
    JUMPCLOUD_INSIGHTS_URL: serviceUrl.default('https://api.jumpcloud.com/insights/directory/v1'),
    JUMPCLOUD_API_KEY: secret.optional(),
    JUMPCLOUD_ORG_ID: jumpcloudId.optional(),
    JUMPCLOUD_APP_ID: jumpcloudId.optional(),
    NOTION_SCIM_BASE_URL: serviceUrl.default('https://api.notion.com/scim/v2'),
    NOTION_SCIM_TOKEN: secret.optional(),
    NOTION_MAX_RPS: positiveNumber.default(3),
    JUMPCLOUD_MAX_RPS: positiveNumber.default(10),
    USERNAME_SOURCE: z
      .enum(['email', 'username'], { message: 'must be "email" or "username"' })
      .default('email'),
    NOTION_PROTECTED_USERS: emailList.default([]),
    POLL_INTERVAL: duration.default(10_000),
    RECONCILE_INTERVAL: duration.default(3_600_000),
    /** Extension: how far back each poll looks again for events that arrive late (C4). */
    FEED_OVERLAP: duration.default(120_000),
    /** Extension: how often rejected credentials are tried again (C3). */
    CREDENTIALS_PROBE_INTERVAL: duration.default(30_000),
    /**
     * Extension (issue 14): how long JumpCloud must keep answering 404 for a managed group before
     * it is deleted in Notion (G7), unless JumpCloud's `group_delete` event confirms it sooner.
     */
    GROUP_DELETION_CONFIRM_DELAY: duration.default(900_000),
    DEACTIVATION_THRESHOLD: z.coerce
      .number({ message: 'must be a whole number' })
      .int({ message: 'must be a whole number' })
      .min(0, { message: 'must be 0 or more' })
      .default(25),
    NOTIFY_SMTP_URL: smtpUrl.optional(),
    NOTIFY_EMAIL: emailList.optional(),
    CONNECTOR_ID: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, { message: 'must be 1-40 lower-case letters, digits or dashes' })
      .refine((id) => !DERIVED_QUEUE_SUFFIXES.some((suffix) => id.endsWith(suffix)), {
        message: `must not end with ${DERIVED_QUEUE_SUFFIXES.join(', ')} (its task queues are derived from it)`,
      })
      .default(DEFAULT_CONNECTOR_ID),
    /** Issue 16: when set, every payload and failure message in Temporal is encrypted. */
    PAYLOAD_ENCRYPTION_KEYS: encryptionKeys.optional(),
    SEARCH_ATTRIBUTES_PII: z
      .enum(['plain', 'hashed'], { message: 'must be "plain" or "hashed"' })
      .default('plain'),
    /**
     * Issue 19: whether the UI's summaries and details of workflows and activities name people and
     * groups (`plain`) or give only their ids (`omitted`). Default: `plain` only when search
     * attributes are plain and encryption is off.
     */
    UI_SUMMARIES_PII: z.enum(['plain', 'omitted'], { message: 'must be "plain" or "omitted"' }).optional(),
    /** Extension: the key of the hashed search attributes (HMAC-SHA256); must stay the same. */
    SEARCH_ATTRIBUTES_HMAC_KEY: z
      .string()
      .min(16, { message: 'must be at least 16 characters (e.g. openssl rand -base64 32)' })
      .optional(),
    /** Extension: the bearer token `jc-notion codec-server` requires. */
    CODEC_SERVER_TOKEN: z
      .string()
      .min(16, { message: 'must be at least 16 characters (e.g. openssl rand -hex 24)' })
      .optional(),
    TEMPORAL_UI_URL: webUrl.default('http://127.0.0.1:8233'),
    /** Issue 17: the worker's health and metrics endpoint (`/healthz`, `/readyz`, `/metrics`). */
    WORKER_HTTP_PORT: z.coerce
      .number({ message: 'must be a port number' })
      .int({ message: 'must be a port number' })
      .min(1, { message: 'must be a port number (1-65535)' })
      .max(65535, { message: 'must be a port number (1-65535)' })
      .optional(),
    /** Extension: the address it listens on (every interface: probes and scrapes come from outside). */
    WORKER_HTTP_HOST: z.string().min(1).default('0.0.0.0'),
    LOG_LEVEL: z
      .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], {
        message: 'must be one of trace, debug, info, warn, error, fatal, silent',
      })
      .default('info'),
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.TEMPORAL_TLS_CERT) !== Boolean(env.TEMPORAL_TLS_KEY)) {
      const missing = env.TEMPORAL_TLS_CERT ? 'TEMPORAL_TLS_KEY' : 'TEMPORAL_TLS_CERT';
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        message: 'required when the other mTLS variable is set',
      });
    }
    if (env.SEARCH_ATTRIBUTES_PII === 'hashed' && !env.SEARCH_ATTRIBUTES_HMAC_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['SEARCH_ATTRIBUTES_HMAC_KEY'],
        message: '(or SEARCH_ATTRIBUTES_HMAC_KEY_FILE) is required when SEARCH_ATTRIBUTES_PII=hashed',
      });
    }
  });

type Env = z.output<typeof schema>;

export interface Config {
  connectorId: string;
  /**
   * The `<NAME>_FILE` each secret was read from: read again when used (rotation in place). Only
   * these files: one named in the process's environment later is never read (issue 16: `local`
   * passes none, so a real token in a file cannot replace its local ones).
   */
  secretFiles: Partial<Record<SecretVariable, string>>;
  logLevel: Env['LOG_LEVEL'];
  temporal: {
    address: string;
    namespace: string;
    /** The connector's own main queue (`connectorTaskQueue`), which every other is derived from. */
    taskQueue: string;
    /** `TEMPORAL_TASK_QUEUE` as configured. */
    configuredTaskQueue: string;
    apiKey?: string;
    tls?: { cert: string; key: string };
    /** The Temporal Web UI, for the links the CLI prints and the codec server's CORS origin. */
    uiUrl: string;
  };
  /** Issue 16: what of the personal data in Temporal is encrypted or hashed. */
  privacy: {
    /** The payload codec's keys: the first encrypts, all decrypt. Unset: payloads in clear. */
    encryptionKeys?: EncryptionKey[];
    /** The source text, for scrubbing. */
    encryptionKeysText?: string;
    /** Personal search attributes (email, username, group name) as typed or as keyed hashes. */
    searchAttributes: 'plain' | 'hashed';
    /** Issue 19: whether summaries in the Temporal UI name people and groups. */
    summaries: 'plain' | 'omitted';
    hmacKey?: string;
    codecServerToken?: string;
  };
  jumpcloud: {
    baseUrl: string;
    insightsUrl: string;
    apiKey?: string;
    orgId?: string;
    appId?: string;
    maxRps: number;
  };
  notion: {
    scimBaseUrl: string;
    token?: string;
    maxRps: number;
    protectedUsers: string[];
  };
  usernameSource: 'email' | 'username';
  /** Issue 17: the worker's health and metrics endpoint; undefined: off. */
  workerHttp?: { port: number; host: string };
  pollIntervalMs: number;
  reconcileIntervalMs: number;
  feedOverlapMs: number;
  credentialsProbeIntervalMs: number;
  groupDeletionConfirmMs: number;
  deactivationThreshold: number;
  notify: { smtpUrl?: string; emails: string[] };
}

/** The configuration a worker runs with: the credentials are present. */
export type WorkerConfig = Config & {
  jumpcloud: Config['jumpcloud'] & { apiKey: string; appId: string };
  notion: Config['notion'] & { token: string };
};

const WORKER_REQUIRED = ['JUMPCLOUD_API_KEY', 'JUMPCLOUD_APP_ID', 'NOTION_SCIM_TOKEN'] as const;

/**
 * The environment the product reads: `process.env` over the variables of `.env` in `cwd`
 * (real environment variables win, as everywhere else). Empty values count as unset.
 */
export function readEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): Record<string, string> {
  const merged: Record<string, string> = {};
  const file = path.join(cwd, '.env');
  if (fs.existsSync(file)) Object.assign(merged, dotenv.parse(fs.readFileSync(file)));
  for (const [name, value] of Object.entries(env)) if (value !== undefined) merged[name] = value;
  for (const [name, value] of Object.entries(merged)) if (value.trim() === '') delete merged[name];
  return merged;
}

/** Validates `env` for `purpose`; throws one ConfigError that lists every problem by variable name. */
export function parseConfig(env: Record<string, string | undefined>, purpose: ConfigPurpose): Config {
  const input = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''),
  );
  const problems: string[] = [];
  // `<SECRET>_FILE`: the secret is in a file (Docker/Kubernetes secrets); see config/secrets.ts.
  const secretFiles: Partial<Record<SecretVariable, string>> = {};
  for (const name of SECRET_VARIABLES) {
    const file = input[`${name}_FILE`];
    if (!file) continue;
    secretFiles[name] = file;
    try {
      const value = fs.readFileSync(file, 'utf8').trim();
      if (value) input[name] = value;
      else problems.push(`${name}_FILE names an empty file`);
    } catch {
      problems.push(`${name}_FILE names a file that cannot be read`);
    }
  }
  // A near miss would run with payloads in clear while the admin believes them encrypted.
  for (const name of ['PAYLOAD_ENCRYPTION_KEY', 'PAYLOAD_ENCRYPTION_KEY_FILE'])
    if (input[name])
      problems.push(
        `${name} is not a setting: the keys go in ${name.replace('KEY', 'KEYS')} (id:base64-key[,id:base64-key…]); refusing to start with payloads in clear`,
      );
  const result = schema.safeParse(input);
  if (!result.success) {
    problems.push(
      ...result.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'} ${issue.message}`),
    );
  }
  if (purpose === 'worker') {
    for (const name of WORKER_REQUIRED) {
      if (!input[name] && !problems.some((p) => p.startsWith(`${name}_FILE`))) {
        const alternative = (SECRET_VARIABLES as readonly string[]).includes(name)
          ? ` (or ${name}_FILE)`
          : '';
        problems.push(`${name}${alternative} is required to run a worker`);
      }
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  const e = result.data;
  return {
    connectorId: e.CONNECTOR_ID,
    secretFiles,
    logLevel: e.LOG_LEVEL,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: connectorTaskQueue(e.TEMPORAL_TASK_QUEUE, e.CONNECTOR_ID),
      configuredTaskQueue: e.TEMPORAL_TASK_QUEUE,
      apiKey: e.TEMPORAL_API_KEY,
      tls:
        e.TEMPORAL_TLS_CERT && e.TEMPORAL_TLS_KEY
          ? { cert: e.TEMPORAL_TLS_CERT, key: e.TEMPORAL_TLS_KEY }
          : undefined,
      uiUrl: e.TEMPORAL_UI_URL.replace(/\/+$/, ''),
    },
    privacy: {
      encryptionKeys: e.PAYLOAD_ENCRYPTION_KEYS,
      encryptionKeysText: e.PAYLOAD_ENCRYPTION_KEYS ? input.PAYLOAD_ENCRYPTION_KEYS : undefined,
      searchAttributes: e.SEARCH_ATTRIBUTES_PII,
      summaries:
        e.UI_SUMMARIES_PII ??
        (e.SEARCH_ATTRIBUTES_PII === 'plain' && !e.PAYLOAD_ENCRYPTION_KEYS ? 'plain' : 'omitted'),
      hmacKey: e.SEARCH_ATTRIBUTES_HMAC_KEY,
      codecServerToken: e.CODEC_SERVER_TOKEN,
    },
    jumpcloud: {
      baseUrl: e.JUMPCLOUD_BASE_URL.replace(/\/+$/, ''),
      insightsUrl: e.JUMPCLOUD_INSIGHTS_URL.replace(/\/+$/, ''),
      apiKey: e.JUMPCLOUD_API_KEY,
      orgId: e.JUMPCLOUD_ORG_ID,
      appId: e.JUMPCLOUD_APP_ID,
      maxRps: e.JUMPCLOUD_MAX_RPS,
    },
    notion: {
      scimBaseUrl: e.NOTION_SCIM_BASE_URL.replace(/\/+$/, ''),
      token: e.NOTION_SCIM_TOKEN,
      maxRps: e.NOTION_MAX_RPS,
      protectedUsers: e.NOTION_PROTECTED_USERS,
    },
    usernameSource: e.USERNAME_SOURCE,
    workerHttp: e.WORKER_HTTP_PORT ? { port: e.WORKER_HTTP_PORT, host: e.WORKER_HTTP_HOST } : undefined,
    pollIntervalMs: e.POLL_INTERVAL,
    reconcileIntervalMs: e.RECONCILE_INTERVAL,
    feedOverlapMs: e.FEED_OVERLAP,
    credentialsProbeIntervalMs: e.CREDENTIALS_PROBE_INTERVAL,
    groupDeletionConfirmMs: e.GROUP_DELETION_CONFIRM_DELAY,
    deactivationThreshold: e.DEACTIVATION_THRESHOLD,
    notify: { smtpUrl: e.NOTIFY_SMTP_URL, emails: e.NOTIFY_EMAIL ?? [] },
  };
}

/** Reads and validates the configuration from the process environment and `.env`. */
export function loadConfig(purpose: 'worker', env?: Record<string, string | undefined>): WorkerConfig;
export function loadConfig(purpose?: ConfigPurpose, env?: Record<string, string | undefined>): Config;
export function loadConfig(
  purpose: ConfigPurpose = 'client',
  env: Record<string, string | undefined> = readEnvironment(),
): Config {
  return parseConfig(env, purpose);
}

/** The configuration as it may be shown or logged: secrets reduced to "set"/"unset". */
export function describeConfig(config: Config): Record<string, string | number | string[]> {
  const set = (value: unknown) => (value ? 'set' : 'unset');
  return {
    CONNECTOR_ID: config.connectorId,
    TEMPORAL_ADDRESS: config.temporal.address,
    TEMPORAL_NAMESPACE: config.temporal.namespace,
    // The connector's own queue, and the configured name it comes from when they differ.
    TEMPORAL_TASK_QUEUE:
      config.temporal.taskQueue === config.temporal.configuredTaskQueue
        ? config.temporal.taskQueue
        : `${config.temporal.taskQueue} (from ${config.temporal.configuredTaskQueue})`,
    TEMPORAL_API_KEY: set(config.temporal.apiKey),
    TEMPORAL_TLS: config.temporal.tls ? 'mTLS' : 'off',
    JUMPCLOUD_BASE_URL: config.jumpcloud.baseUrl,
    JUMPCLOUD_INSIGHTS_URL: config.jumpcloud.insightsUrl,
    JUMPCLOUD_API_KEY: set(config.jumpcloud.apiKey),
    JUMPCLOUD_ORG_ID: config.jumpcloud.orgId ?? 'unset',
    JUMPCLOUD_APP_ID: config.jumpcloud.appId ?? 'unset',
    JUMPCLOUD_MAX_RPS: config.jumpcloud.maxRps,
    NOTION_SCIM_BASE_URL: config.notion.scimBaseUrl,
    NOTION_SCIM_TOKEN: set(config.notion.token),
    NOTION_MAX_RPS: config.notion.maxRps,
    NOTION_PROTECTED_USERS: config.notion.protectedUsers,
    USERNAME_SOURCE: config.usernameSource,
    POLL_INTERVAL: ms(config.pollIntervalMs),
    RECONCILE_INTERVAL: ms(config.reconcileIntervalMs),
    FEED_OVERLAP: ms(config.feedOverlapMs),
    CREDENTIALS_PROBE_INTERVAL: ms(config.credentialsProbeIntervalMs),
    GROUP_DELETION_CONFIRM_DELAY: ms(config.groupDeletionConfirmMs),
    DEACTIVATION_THRESHOLD: config.deactivationThreshold,
    NOTIFY_SMTP_URL: config.notify.smtpUrl ? redactUrl(config.notify.smtpUrl) : 'unset',
    NOTIFY_EMAIL: config.notify.emails,
    PAYLOAD_ENCRYPTION_KEYS: config.privacy.encryptionKeys
      ? `set (${config.privacy.encryptionKeys.map((k) => k.id).join(', ')})`
      : 'unset',
    SEARCH_ATTRIBUTES_PII: config.privacy.searchAttributes,
    UI_SUMMARIES_PII: config.privacy.summaries,
    SEARCH_ATTRIBUTES_HMAC_KEY: set(config.privacy.hmacKey),
    CODEC_SERVER_TOKEN: set(config.privacy.codecServerToken),
    TEMPORAL_UI_URL: config.temporal.uiUrl,
    WORKER_HTTP_PORT: config.workerHttp ? `${config.workerHttp.host}:${config.workerHttp.port}` : 'unset',
  };
}

/** A URL with any password replaced, for display. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(invalid URL)';
  }
}

/** The secret values of a configuration, for tests and log scrubbing. */
export function secretValues(config: Config): string[] {
  const values = [
    config.jumpcloud.apiKey,
    config.notion.token,
    config.temporal.apiKey,
    config.temporal.tls?.key,
    config.privacy.encryptionKeysText,
    ...(config.privacy.encryptionKeys ?? []).map((k) => k.key.toString('base64')),
    config.privacy.hmacKey,
    config.privacy.codecServerToken,
  ];
  if (config.notify.smtpUrl) {
    try {
      const password = new URL(config.notify.smtpUrl).password;
      if (password) values.push(decodeURIComponent(password));
    } catch {
      // not a URL: nothing to add
    }
  }
  return values.filter((value): value is string => Boolean(value));
}
