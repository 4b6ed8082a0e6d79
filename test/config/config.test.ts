/** SPEC §2 configuration: defaults, validation that names every problem, and secrecy. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, describeConfig, parseConfig, readEnvironment, secretValues } from '../../config/config';
import { currentSecretValues, readSecret, secretReader } from '../../config/secrets';
import { clusterStackEnv } from '../../harness/local/cluster-stack';
import { withoutSecretFiles } from '../../harness/local/stack';
import { connect, connectWorker } from '../../temporal/connection';
import { taskQueues } from '../../temporal/task-queues';
import { TEST_SECRETS, testWorkerConfig } from '../support/config';

function problemsOf(env: Record<string, string>, purpose: 'client' | 'worker' = 'client'): ConfigError {
  try {
    parseConfig(env, purpose);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration (SPEC §2)', () => {
  test('defaults match the SPEC table', () => {
    const config = parseConfig({}, 'client');
    expect(config.temporal).toEqual({
      address: '127.0.0.1:7233',
      namespace: 'default',
      taskQueue: 'jumpcloud-notion-sync',
      configuredTaskQueue: 'jumpcloud-notion-sync',
      apiKey: undefined,
      tls: undefined,
      uiUrl: 'http://127.0.0.1:8233',
    });
    expect(config.privacy).toEqual({
      encryptionKeys: undefined,
      encryptionKeysText: undefined,
      searchAttributes: 'plain',
      summaries: 'plain',
      hmacKey: undefined,
      codecServerToken: undefined,
    });
    expect(config.jumpcloud.baseUrl).toBe('https://console.jumpcloud.com');
    expect(config.jumpcloud.insightsUrl).toBe('https://api.jumpcloud.com/insights/directory/v1');
    expect(config.notion.scimBaseUrl).toBe('https://api.notion.com/scim/v2');
    expect(config.notion.maxRps).toBe(3);
    expect(config.jumpcloud.maxRps).toBe(10);
    expect(config.usernameSource).toBe('email');
    expect(config.pollIntervalMs).toBe(10_000);
    expect(config.reconcileIntervalMs).toBe(3_600_000);
    expect(config.deactivationThreshold).toBe(25);
    expect(config.notify).toEqual({ smtpUrl: undefined, emails: [] });
  });

  test('values are parsed: durations, rates, protected users lower-cased and de-duplicated', () => {
    const config = parseConfig(
      {
        POLL_INTERVAL: '2s',
        RECONCILE_INTERVAL: '30m',
        NOTION_MAX_RPS: '2.5',
        NOTION_PROTECTED_USERS: ' Owner@Example.com, admin@example.com ,owner@example.com',
        USERNAME_SOURCE: 'username',
        TEMPORAL_ADDRESS: '[::1]:7233',
      },
      'client',
    );
    expect(config.pollIntervalMs).toBe(2000);
    expect(config.reconcileIntervalMs).toBe(1_800_000);
    expect(config.notion.maxRps).toBe(2.5);
    expect(config.notion.protectedUsers).toEqual(['owner@example.com', 'admin@example.com']);
    expect(config.usernameSource).toBe('username');
  });

  test('TEMPORAL_ADDRESS=::bad is rejected with the variable named', () => {
    const error = problemsOf({ TEMPORAL_ADDRESS: '::bad' });
    expect(error.problems).toEqual([expect.stringMatching(/^TEMPORAL_ADDRESS must be host:port/)]);
    expect(error.message).not.toContain('\n');
  });

  test('issue 15: TEMPORAL_TASK_QUEUE may not end like the queues derived from it', () => {
    for (const name of ['sync-control', 'sync-notion', 'sync-jumpcloud'])
      expect(problemsOf({ TEMPORAL_TASK_QUEUE: name }).problems).toEqual([
        expect.stringMatching(/^TEMPORAL_TASK_QUEUE must not end with -control, -notion, -jumpcloud/),
      ]);
    expect(() => parseConfig({ TEMPORAL_TASK_QUEUE: 'control-plane' }, 'client')).not.toThrow();
  });

  test('issue 16: each connector has task queues of its own, derived from its id; the default connector keeps the configured name', () => {
    const acme = parseConfig({ CONNECTOR_ID: 'acme', TEMPORAL_TASK_QUEUE: 'sync' }, 'client');
    expect(acme.temporal.taskQueue).toBe('sync@acme');
    expect(taskQueues(acme.temporal.taskQueue)).toEqual({
      main: 'sync@acme',
      control: 'sync@acme-control',
      notion: 'sync@acme-notion',
      jumpcloud: 'sync@acme-jumpcloud',
    });
    expect(parseConfig({ TEMPORAL_TASK_QUEUE: 'sync' }, 'client').temporal.taskQueue).toBe('sync');
    // A configured queue cannot hold `@`, so no two connectors' queues can be the same.
    expect(problemsOf({ TEMPORAL_TASK_QUEUE: 'sync@acme' }).problems).toEqual([
      expect.stringMatching(/^TEMPORAL_TASK_QUEUE must be a task queue name/),
    ]);
    for (const id of ['acme-control', 'acme-notion', 'acme-jumpcloud'])
      expect(problemsOf({ CONNECTOR_ID: id }).problems).toEqual([
        expect.stringMatching(/^CONNECTOR_ID must not end with -control, -notion, -jumpcloud/),
      ]);
  });

  test('issue 16 (§2): JumpCloud and Notion URLs must be https://, http:// only on loopback, and hold no credentials', () => {
    for (const name of ['JUMPCLOUD_BASE_URL', 'JUMPCLOUD_INSIGHTS_URL', 'NOTION_SCIM_BASE_URL']) {
      expect(problemsOf({ [name]: 'http://scim.example.com/scim/v2' }).problems).toEqual([
        `${name} must be https:// (http:// only on loopback: 127.0.0.1, ::1, localhost)`,
      ]);
      for (const local of ['http://127.0.0.1:8410', 'http://[::1]:8420/scim/v2', 'http://localhost:8410'])
        expect(() => parseConfig({ [name]: local }, 'client')).not.toThrow();
      const error = problemsOf({ [name]: 'https://admin:hunter2-secret@scim.example.com' });
      expect(error.problems).toEqual([`${name} must not hold credentials (use the secret variables)`]);
      expect(error.message).not.toContain('hunter2-secret');
    }
  });

  test('one error lists every problem by variable name', () => {
    const error = problemsOf({
      TEMPORAL_ADDRESS: 'nope',
      NOTION_MAX_RPS: '-1',
      POLL_INTERVAL: 'often',
      USERNAME_SOURCE: 'upn',
      JUMPCLOUD_BASE_URL: 'ftp://x',
      DEACTIVATION_THRESHOLD: '2.5',
      NOTIFY_EMAIL: 'not-an-email',
    });
    const names = error.problems.map((p) => p.split(' ')[0]);
    expect(names.sort()).toEqual(
      [
        'DEACTIVATION_THRESHOLD',
        'JUMPCLOUD_BASE_URL',
        'NOTIFY_EMAIL',
        'NOTION_MAX_RPS',
        'POLL_INTERVAL',
        'TEMPORAL_ADDRESS',
        'USERNAME_SOURCE',
      ].sort(),
    );
  });

  test('a worker needs the JumpCloud and Notion credentials; admin commands do not', () => {
    expect(() => parseConfig({}, 'client')).not.toThrow();
    const error = problemsOf({}, 'worker');
    expect(error.problems).toEqual([
      'JUMPCLOUD_API_KEY (or JUMPCLOUD_API_KEY_FILE) is required to run a worker',
      'JUMPCLOUD_APP_ID is required to run a worker',
      'NOTION_SCIM_TOKEN (or NOTION_SCIM_TOKEN_FILE) is required to run a worker',
    ]);
  });

  test('secret values never appear in error messages, even when they are the bad values', () => {
    const error = problemsOf(
      {
        JUMPCLOUD_API_KEY: TEST_SECRETS.JUMPCLOUD_API_KEY,
        NOTION_SCIM_TOKEN: TEST_SECRETS.NOTION_SCIM_TOKEN,
        // A secret pasted into the wrong variable must not be echoed either.
        JUMPCLOUD_APP_ID: TEST_SECRETS.JUMPCLOUD_API_KEY,
        NOTION_SCIM_BASE_URL: TEST_SECRETS.NOTION_SCIM_TOKEN,
        TEMPORAL_TLS_KEY: 'tls-key-secret-value',
      },
      'worker',
    );
    expect(error.problems.length).toBeGreaterThanOrEqual(3);
    for (const secret of [...Object.values(TEST_SECRETS), 'tls-key-secret-value']) {
      expect(error.message).not.toContain(secret);
    }
    expect(error.message).toContain('TEMPORAL_TLS_CERT');
  });

  test('issue 16: PAYLOAD_ENCRYPTION_KEYS is parsed (first encrypts, all decrypt); a bad key is named by position or id, never echoed', () => {
    const k1 = Buffer.alloc(32, 1).toString('base64');
    const k2 = Buffer.alloc(32, 2).toString('base64');
    const config = parseConfig({ PAYLOAD_ENCRYPTION_KEYS: `new:${k2}, old:${k1}` }, 'client');
    expect(config.privacy.encryptionKeys?.map((k) => k.id)).toEqual(['new', 'old']);
    expect(describeConfig(config).PAYLOAD_ENCRYPTION_KEYS).toBe('set (new, old)');
    expect(secretValues(config)).toEqual(expect.arrayContaining([k1, k2]));
    const shown = JSON.stringify(describeConfig(config));
    for (const value of [k1, k2]) expect(shown).not.toContain(value);

    const short = Buffer.alloc(16, 3).toString('base64');
    const bad = problemsOf({ PAYLOAD_ENCRYPTION_KEYS: `good:${k1},weak:${short}` });
    expect(bad.message).toMatch(/PAYLOAD_ENCRYPTION_KEYS key "weak" is not 32 bytes of base64/);
    expect(bad.message).not.toContain(short);
    expect(bad.message).not.toContain(k1);
    const noId = problemsOf({ PAYLOAD_ENCRYPTION_KEYS: k1 });
    expect(noId.message).toMatch(/key 1 has no valid id/);
    expect(noId.message).not.toContain(k1);
  });

  test('issue 16: the keys may come from PAYLOAD_ENCRYPTION_KEYS_FILE; a misspelt PAYLOAD_ENCRYPTION_KEY is refused, not ignored', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jcn-keys-'));
    const file = path.join(dir, 'keys');
    const key = Buffer.alloc(32, 7).toString('base64');
    fs.writeFileSync(file, `k9:${key}\n`);
    const config = parseConfig({ PAYLOAD_ENCRYPTION_KEYS_FILE: file }, 'client');
    expect(config.privacy.encryptionKeys?.map((k) => k.id)).toEqual(['k9']);
    expect(secretValues(config)).toContain(key);
    const misspelt = problemsOf({ PAYLOAD_ENCRYPTION_KEY: `k9:${key}` });
    expect(misspelt.message).toMatch(
      /PAYLOAD_ENCRYPTION_KEY is not a setting: the keys go in PAYLOAD_ENCRYPTION_KEYS/,
    );
    expect(misspelt.message).not.toContain(key);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('issue 16: SEARCH_ATTRIBUTES_PII is plain or hashed; hashed needs SEARCH_ATTRIBUTES_HMAC_KEY; TEMPORAL_UI_URL is a web URL', () => {
    expect(problemsOf({ SEARCH_ATTRIBUTES_PII: 'hashed' }).message).toMatch(
      /SEARCH_ATTRIBUTES_HMAC_KEY \(or SEARCH_ATTRIBUTES_HMAC_KEY_FILE\) is required when SEARCH_ATTRIBUTES_PII=hashed/,
    );
    expect(problemsOf({ SEARCH_ATTRIBUTES_PII: 'encrypted' }).message).toMatch(
      /SEARCH_ATTRIBUTES_PII must be "plain" or "hashed"/,
    );
    const hashed = parseConfig(
      { SEARCH_ATTRIBUTES_PII: 'hashed', SEARCH_ATTRIBUTES_HMAC_KEY: 'a-long-enough-hmac-key' },
      'client',
    );
    expect(hashed.privacy).toMatchObject({ searchAttributes: 'hashed', hmacKey: 'a-long-enough-hmac-key' });
    expect(secretValues(hashed)).toContain('a-long-enough-hmac-key');
    expect(describeConfig(hashed).SEARCH_ATTRIBUTES_HMAC_KEY).toBe('set');
    expect(problemsOf({ TEMPORAL_UI_URL: 'ftp://ui' }).message).toMatch(/TEMPORAL_UI_URL must be an http/);
    expect(parseConfig({ TEMPORAL_UI_URL: 'https://ui.example.com/' }, 'client').temporal.uiUrl).toBe(
      'https://ui.example.com',
    );
  });

  test('issue 19: UI_SUMMARIES_PII is plain or omitted; by default the summaries name people only when search attributes are plain and encryption is off', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const hmac = { SEARCH_ATTRIBUTES_PII: 'hashed', SEARCH_ATTRIBUTES_HMAC_KEY: 'a-long-enough-hmac-key' };
    expect(parseConfig({}, 'client').privacy.summaries).toBe('plain');
    expect(parseConfig(hmac, 'client').privacy.summaries).toBe('omitted');
    expect(parseConfig({ PAYLOAD_ENCRYPTION_KEYS: `k1:${key}` }, 'client').privacy.summaries).toBe('omitted');
    // The admin may turn them on (or off) whatever the rest says.
    expect(parseConfig({ ...hmac, UI_SUMMARIES_PII: 'plain' }, 'client').privacy.summaries).toBe('plain');
    expect(parseConfig({ UI_SUMMARIES_PII: 'omitted' }, 'client').privacy.summaries).toBe('omitted');
    expect(describeConfig(parseConfig(hmac, 'client')).UI_SUMMARIES_PII).toBe('omitted');
    expect(problemsOf({ UI_SUMMARIES_PII: 'hashed' }).message).toMatch(
      /UI_SUMMARIES_PII must be "plain" or "omitted"/,
    );
  });

  test('issue 17: WORKER_HTTP_PORT turns the health and metrics endpoint on, on every interface unless WORKER_HTTP_HOST says otherwise', () => {
    expect(parseConfig({}, 'client').workerHttp).toBeUndefined();
    expect(parseConfig({ WORKER_HTTP_PORT: '9464' }, 'client').workerHttp).toEqual({
      port: 9464,
      host: '0.0.0.0',
    });
    expect(
      parseConfig({ WORKER_HTTP_PORT: '9464', WORKER_HTTP_HOST: '127.0.0.1' }, 'client').workerHttp,
    ).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(problemsOf({ WORKER_HTTP_PORT: '70000' }).message).toMatch(
      /WORKER_HTTP_PORT must be a port number/,
    );
  });

  test('describeConfig shows secrets only as set/unset and hides SMTP passwords', () => {
    const config = testWorkerConfig({ NOTIFY_SMTP_URL: 'smtp://mailer:hunter2-secret@mail.example.com:587' });
    const shown = JSON.stringify(describeConfig(config));
    for (const secret of secretValues(config)) expect(shown).not.toContain(secret);
    expect(secretValues(config)).toContain('hunter2-secret');
    expect(describeConfig(config)).toMatchObject({
      JUMPCLOUD_API_KEY: 'set',
      NOTION_SCIM_TOKEN: 'set',
      TEMPORAL_API_KEY: 'unset',
    });
  });

  test('.env is read, the real environment wins, and empty values count as unset', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jcn-env-'));
    fs.writeFileSync(path.join(dir, '.env'), 'POLL_INTERVAL=3s\nNOTION_MAX_RPS=7\nCONNECTOR_ID=from-file\n');
    const env = readEnvironment({ NOTION_MAX_RPS: '4', CONNECTOR_ID: '' }, dir);
    const config = parseConfig(env, 'client');
    expect(config.pollIntervalMs).toBe(3000);
    expect(config.notion.maxRps).toBe(4);
    expect(config.connectorId).toBe('default');
  });
});

describe('secrets in files (<NAME>_FILE)', () => {
  test('a secret can come from a file, and a rotated file is read by the next use', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jcn-secret-'));
    const file = path.join(dir, 'token');
    fs.writeFileSync(file, 'first-token-value\n');
    const config = parseConfig(
      { JUMPCLOUD_API_KEY: 'k', JUMPCLOUD_APP_ID: '64b7f0c2a1d3e4f5a6b7c8d9', NOTION_SCIM_TOKEN_FILE: file },
      'worker',
    );
    expect(config.notion.token).toBe('first-token-value');
    const read = secretReader('NOTION_SCIM_TOKEN', config.notion.token!);
    const env = { NOTION_SCIM_TOKEN_FILE: file };
    expect(readSecret('NOTION_SCIM_TOKEN', 'configured', env)).toBe('first-token-value');
    fs.writeFileSync(file, 'rotated-token-value\n');
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(readSecret('NOTION_SCIM_TOKEN', 'configured', env)).toBe('rotated-token-value');
    expect(read()).toBe('first-token-value'); // process.env has no _FILE: the configured value
  });

  test('issue 16: a secret is read again only from the file the configuration was given, never from one named in the environment later', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jcn-secret-'));
    const file = path.join(dir, 'token');
    fs.writeFileSync(file, 'first-token-value\n');
    const config = parseConfig(
      { JUMPCLOUD_API_KEY: 'k', JUMPCLOUD_APP_ID: '64b7f0c2a1d3e4f5a6b7c8d9', NOTION_SCIM_TOKEN_FILE: file },
      'worker',
    );
    expect(config.secretFiles).toEqual({ NOTION_SCIM_TOKEN: file });
    const read = secretReader(
      'NOTION_SCIM_TOKEN',
      config.notion.token!,
      config.secretFiles.NOTION_SCIM_TOKEN,
    );
    fs.writeFileSync(file, 'rotated-token-value\n');
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(read()).toBe('rotated-token-value');
    expect(currentSecretValues(['configured'], config.secretFiles)).toEqual([
      'configured',
      'rotated-token-value',
    ]);
  });

  test('issue 16: `local` ignores every <NAME>_FILE: a real token in a file cannot replace its local credentials', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jcn-secret-'));
    const file = path.join(dir, 'token');
    fs.writeFileSync(file, 'a-real-token\n');
    const env = withoutSecretFiles({
      NOTION_SCIM_TOKEN_FILE: file,
      JUMPCLOUD_API_KEY_FILE: file,
      LOG_LEVEL: 'warn',
    });
    expect(env).toEqual({ LOG_LEVEL: 'warn' });
    const config = parseConfig(
      {
        ...env,
        NOTION_SCIM_TOKEN: 'local-notion-token',
        JUMPCLOUD_API_KEY: 'k',
        JUMPCLOUD_APP_ID: '64b7f0c2a1d3e4f5a6b7c8d9',
      },
      'worker',
    );
    expect(config.notion.token).toBe('local-notion-token');
    expect(config.secretFiles).toEqual({});
  });

  test('issue 16 / 17: `local --cluster` ignores every <NAME>_FILE of the environment too: its workers keep the local credentials', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jcn-secret-'));
    const file = path.join(dir, 'token');
    fs.writeFileSync(file, 'a-real-token\n');
    const env = clusterStackEnv(
      { NOTION_SCIM_TOKEN_FILE: file, PATH: '/usr/bin' },
      { JUMPCLOUD_API_KEY_FILE: file, LOG_LEVEL: 'warn' },
      {
        NOTION_SCIM_TOKEN: 'local-notion-token',
        JUMPCLOUD_API_KEY: 'k',
        JUMPCLOUD_APP_ID: '64b7f0c2a1d3e4f5a6b7c8d9',
      },
    );
    expect(Object.keys(env).filter((name) => name.endsWith('_FILE'))).toEqual([]);
    const config = parseConfig(env, 'worker');
    expect([config.notion.token, config.jumpcloud.apiKey, config.secretFiles]).toEqual([
      'local-notion-token',
      'k',
      {},
    ]);
  });

  test('issue 16 (§2): a TEMPORAL_TLS_KEY that is neither a PEM nor a file is named, never echoed', async () => {
    const key = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7-not-a-pem';
    const config = parseConfig(
      {
        TEMPORAL_TLS_CERT: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----',
        TEMPORAL_TLS_KEY: key,
      },
      'client',
    );
    for (const attempt of [connect(config), connectWorker(config)]) {
      const error = await attempt.then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect(error!.message).toMatch(/TEMPORAL_TLS_KEY is neither a PEM/);
      expect(error!.message).not.toContain(key);
    }
  });

  test('an unreadable secret file is named, without its contents', () => {
    const error = problemsOf({ NOTION_SCIM_TOKEN_FILE: '/nonexistent/secret' }, 'worker');
    expect(error.problems).toContain('NOTION_SCIM_TOKEN_FILE names a file that cannot be read');
    expect(error.problems.some((p) => p.startsWith('NOTION_SCIM_TOKEN (or'))).toBe(false);
  });
});
