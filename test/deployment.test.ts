/**
 * The deployment files stay valid: docker-compose.yml is the production topology (issue 17):
 * PostgreSQL, the pinned Temporal server on it with the dynamic configuration the product needs,
 * the namespace and search attributes registered before any worker starts, the UI as the only
 * published port and on loopback, no secret in the file; Compose itself accepts it; it passes every
 * SPEC §2 variable to workers. The image is the product alone (ADR 0008): its build compiles no
 * harness/ file and its runtime dependencies hold no emulator, mail or testing package.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { SECRET_VARIABLES } from '../config/config';
import { CLUSTER_DYNAMIC_CONFIG } from '../harness/temporal/cluster';
import { TEMPORAL_SERVER_VERSION } from '../harness/temporal/server-binary';
import { TEMPORAL_UI_SERVER_VERSION } from '../harness/temporal/ui-server';
import { devServerSearchAttributeFlags } from '../temporal/search-attributes';
import { ROOT } from './support/cli';

interface ComposeService {
  image?: string;
  build?: string | { context: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  env_file?: string | string[];
  secrets?: (string | { source: string })[];
  volumes?: string[];
  ports?: (string | { host_ip?: string; published?: string | number; target: number })[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  restart?: string;
}

interface Compose {
  services: Record<string, ComposeService>;
  secrets?: Record<string, { file: string }>;
}

const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');
const composeText = fs.readFileSync(COMPOSE_FILE, 'utf8');
const compose = parse(composeText) as Compose;
const services = compose.services;

const SERVER_VERSION = TEMPORAL_SERVER_VERSION.replace(/^v/, '');

/** Secrets the product reads (config/config.ts), Temporal's database password, an SMTP URL's password. */
const SECRET_NAMES: readonly string[] = [
  ...SECRET_VARIABLES,
  'POSTGRES_PASSWORD',
  'POSTGRES_PWD',
  'SQL_PASSWORD',
  'NOTIFY_SMTP_URL',
];

/** The optional secrets: in .env, which workers receive whole (a Docker secret cannot be optional). */
const ENV_FILE_SECRETS = ['PAYLOAD_ENCRYPTION_KEYS', 'SEARCH_ATTRIBUTES_HMAC_KEY', 'NOTIFY_SMTP_URL'];

/** Names of the Docker secrets a service mounts. */
const mounted = (service: ComposeService) =>
  (service.secrets ?? []).map((secret) => (typeof secret === 'string' ? secret : secret.source));

const envFiles = (service: ComposeService) =>
  service.env_file === undefined ? [] : ([] as string[]).concat(service.env_file);

test('docker-compose.yml defines PostgreSQL, the Temporal server with its one-shot setup, the UI and the workers', () => {
  expect(Object.keys(services)).toEqual(
    expect.arrayContaining([
      'postgres',
      'temporal-schema',
      'temporal',
      'temporal-setup',
      'temporal-ui',
      'worker',
      'codec-server',
      'admin',
    ]),
  );
  for (const [name, service] of Object.entries(services)) {
    expect([name, Boolean(service.image ?? service.build)]).toEqual([name, true]);
  }
  expect(services.worker!.command).toEqual(['worker']);
  expect(services['codec-server']!.command?.[0]).toBe('codec-server');
  expect(services['codec-server']!.profiles).toEqual(['encryption']);
  expect(services.admin!.profiles).toEqual(['admin']);
  // The release the project is tested on, and the admin tools (schemas, CLI) of the same release.
  expect(services.temporal!.image).toBe(`temporalio/server:${SERVER_VERSION}`);
  for (const name of ['temporal-schema', 'temporal-setup'])
    expect(services[name]!.image).toMatch(
      new RegExp(`^temporalio/admin-tools:${SERVER_VERSION.replace(/\./g, '\\.')}(-|$)`),
    );
  expect(services.postgres!.image).toMatch(/^postgres:\d+/);
  // The UI release the harness builds and the tests run (harness/temporal/ui-server.ts).
  expect(services['temporal-ui']!.image).toBe(`temporalio/ui:${TEMPORAL_UI_SERVER_VERSION.slice(1)}`);
  // Start-up order: schemas before the server, the namespace and search attributes before workers.
  expect(services['temporal-schema']!.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
  expect(services.temporal!.depends_on).toEqual({
    'temporal-schema': { condition: 'service_completed_successfully' },
  });
  expect(services['temporal-setup']!.depends_on).toEqual({ temporal: { condition: 'service_healthy' } });
  expect(services.worker!.depends_on).toMatchObject({
    'temporal-setup': { condition: 'service_completed_successfully' },
  });
});

test('the Temporal server runs on PostgreSQL with SQL visibility and the dynamic configuration of every cluster', () => {
  const env = services.temporal!.environment!;
  expect(env).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgres', DB_PORT: '5432' });
  expect(env.ENABLE_ES ?? 'false').toBe('false');
  // The mounted file is the one the server reads.
  const mount = services.temporal!.volumes!.find((volume) =>
    volume.startsWith('./deploy/temporal/dynamicconfig.yaml:'),
  );
  expect(mount?.split(':')[1]).toBe(env.DYNAMIC_CONFIG_FILE_PATH);
  // ADR 0012: one partition per task queue, as on the local stack's dev server; and what the test
  // cluster sets (Update-With-Start, …).
  const dynamicConfig = parse(
    fs.readFileSync(path.join(ROOT, 'deploy', 'temporal', 'dynamicconfig.yaml'), 'utf8'),
  ) as Record<string, { value: unknown; constraints?: object }[]>;
  for (const [key, value] of Object.entries(CLUSTER_DYNAMIC_CONFIG))
    expect([key, dynamicConfig[key]]).toEqual([key, [{ value, constraints: {} }]]);
});

test('the setup service registers the namespace and every search attribute before workers start', () => {
  const setup = services['temporal-setup']!;
  const registered = setup.environment!.SEARCH_ATTRIBUTES!.trim().split(/\s+/);
  expect([...registered].sort()).toEqual([...devServerSearchAttributeFlags()].sort());
  expect(setup.environment!.TEMPORAL_NAMESPACE).toBe(services.worker!.environment!.TEMPORAL_NAMESPACE);
  // The script it runs creates what is missing, one `Name=Type` pair of SEARCH_ATTRIBUTES at a time.
  const script = setup.entrypoint!.at(-1)!;
  const mount = setup.volumes!.find((volume) => volume.split(':')[1] === script)!;
  const text = fs.readFileSync(path.join(ROOT, mount.split(':')[0]!), 'utf8');
  expect(text).toContain('temporal operator namespace create');
  expect(text).toMatch(/temporal operator search-attribute create .*--name "\$1" --type "\$2"/);
  expect(text).toMatch(/for pair in \$SEARCH_ATTRIBUTES; do/);
});

test('docker-compose.yml passes every SPEC §2 variable a worker reads, the secrets as files or through .env', () => {
  const example = fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8');
  const variables = [...example.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]!);
  const worker = services.worker!;
  const environment = worker.environment ?? {};
  const notPassed = variables.filter(
    (name) =>
      !(name in environment) &&
      // A secret as a Docker secret: <NAME>_FILE names the file the worker mounts.
      !mounted(worker).some((secret) => environment[`${name}_FILE`] === `/run/secrets/${secret}`) &&
      // An optional secret, from .env.
      !(ENV_FILE_SECRETS.includes(name) && envFiles(worker).includes('.env')) &&
      ![
        'TEMPORAL_API_KEY',
        'TEMPORAL_TLS_CERT',
        'TEMPORAL_TLS_KEY',
        // Read by the admin commands and the codec server, not by workers.
        'CODEC_SERVER_TOKEN',
        'TEMPORAL_UI_URL',
      ].includes(name),
  );
  expect(notPassed).toEqual([]);
  expect(mounted(worker).sort()).toEqual(['jumpcloud_api_key', 'notion_scim_token']);
  // The workers, the admin commands and the codec server agree on the connector and the privacy mode.
  for (const name of ['admin', 'codec-server']) expect(envFiles(services[name]!)).toEqual(['.env']);
  for (const variable of [
    'TEMPORAL_NAMESPACE',
    'TEMPORAL_TASK_QUEUE',
    'CONNECTOR_ID',
    'SEARCH_ATTRIBUTES_PII',
  ])
    expect([variable, services.admin!.environment![variable]]).toEqual([variable, environment[variable]]);
});

test('docker-compose.yml holds no secret: no value, no ${…} interpolation, no secret variable in any environment', () => {
  // Comments aside (the header shows how to write the secret files).
  const code = composeText.replace(/^\s*#.*$/gm, '');
  expect(SECRET_NAMES.filter((name) => new RegExp(`\\$\\{?${name}\\b`).test(code))).toEqual([]);
  for (const [serviceName, service] of Object.entries(services)) {
    const keys = Object.keys(service.environment ?? {});
    expect([serviceName, keys.filter((key) => SECRET_NAMES.includes(key))]).toEqual([serviceName, []]);
    // A *_FILE names a mounted Docker secret.
    for (const key of keys.filter((key) => key.endsWith('_FILE')))
      expect([serviceName, key, service.environment![key]]).toEqual([
        serviceName,
        key,
        expect.stringMatching(new RegExp(`^/run/secrets/(${mounted(service).join('|')})$`)),
      ]);
  }
  // Every Docker secret is a file under deploy/secrets/, which git ignores.
  for (const secret of Object.values(compose.secrets ?? {}))
    expect(secret.file).toMatch(/^\.\/deploy\/secrets\/[a-z_]+$/);
  const ignored = fs.readFileSync(path.join(ROOT, 'deploy', 'secrets', '.gitignore'), 'utf8');
  expect(ignored.split('\n')).toEqual(expect.arrayContaining(['*', '!.gitignore']));
});

/** Debian's Compose v1 (`apt-get install -y docker-compose`); `.ci/run` installs it. */
function dockerCompose(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir, 'docker-compose');
    if (dir !== '' && fs.existsSync(file)) return file;
  }
  throw new Error(
    'docker-compose is not on PATH: install it (apt-get install -y docker-compose) so that this test can check docker-compose.yml with Compose itself',
  );
}

/** Values no configuration holds: whatever of them shows up in the resolved file came from it. */
const FAKE = {
  interpolated: Object.fromEntries(SECRET_NAMES.map((name) => [name, `fake-${name.toLowerCase()}-7c1e`])),
  secretFile: (name: string) => `fake-file-${name}-d94b`,
};

/**
 * `docker-compose config`: the file as Compose resolves it, in a copy of the file and deploy/ (not
 * the secrets there), with a .env of settings alone, a fake file for each secret and a fake value
 * in the environment for each secret variable (what an interpolation would pick up).
 */
function resolveWithCompose(): { config: Compose; stdout: string } {
  const executable = dockerCompose();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jcn-compose-'));
  try {
    fs.copyFileSync(COMPOSE_FILE, path.join(dir, 'docker-compose.yml'));
    const secrets = path.join(ROOT, 'deploy', 'secrets');
    fs.cpSync(path.join(ROOT, 'deploy'), path.join(dir, 'deploy'), {
      recursive: true,
      filter: (source) => source !== secrets && !source.startsWith(secrets + path.sep),
    });
    for (const [name, secret] of Object.entries(compose.secrets ?? {})) {
      fs.mkdirSync(path.dirname(path.join(dir, secret.file)), { recursive: true });
      fs.writeFileSync(path.join(dir, secret.file), FAKE.secretFile(name));
    }
    fs.writeFileSync(path.join(dir, '.env'), 'JUMPCLOUD_APP_ID=fake-app-id\n');
    const result = spawnSync(
      executable,
      ['-f', 'docker-compose.yml', '--profile', 'admin', '--profile', 'encryption', 'config'],
      {
        cwd: dir,
        encoding: 'utf8',
        timeout: 60_000,
        env: { PATH: process.env.PATH, HOME: dir, LANG: 'C.UTF-8', ...FAKE.interpolated },
      },
    );
    if (result.status !== 0)
      throw new Error(
        `docker-compose config exited with ${result.status ?? result.signal}: ${result.stderr}${result.error?.message ?? ''}`,
      );
    return { config: parse(result.stdout) as Compose, stdout: result.stdout };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The host address of a published port, in Compose v1's short form or the long form. */
function hostIp(port: NonNullable<ComposeService['ports']>[number]): string {
  if (typeof port !== 'string') return port.host_ip ?? '0.0.0.0';
  const parts = port.split(':');
  return parts.length === 3 ? parts[0]! : '0.0.0.0';
}

test('Compose accepts docker-compose.yml: only the UI (and the codec server) publish, on 127.0.0.1; health checks; no secret resolved', () => {
  const { config, stdout } = resolveWithCompose();
  const resolved = config.services;
  expect(Object.keys(resolved).sort()).toEqual(Object.keys(services).sort());

  // Published ports: the UI, and the codec server of the `encryption` profile (the browser calls
  // it); both on loopback by default.
  const published = Object.fromEntries(
    Object.entries(resolved)
      .filter(([, service]) => (service.ports ?? []).length > 0)
      .map(([name, service]) => [name, service.ports!.map(hostIp)]),
  );
  expect(published).toEqual({ 'temporal-ui': ['127.0.0.1'], 'codec-server': ['127.0.0.1'] });
  expect(resolved['codec-server']!.profiles).toEqual(['encryption']);

  // No secret reaches any service from the file: neither an interpolated value nor a file's content.
  const leaked = [
    ...Object.entries(FAKE.interpolated).filter(([, value]) => stdout.includes(value)),
    ...Object.keys(compose.secrets ?? {}).filter((name) => stdout.includes(FAKE.secretFile(name))),
  ];
  expect(leaked).toEqual([]);
  for (const [name, service] of Object.entries(resolved))
    expect([
      name,
      Object.keys(service.environment ?? {}).filter((key) => SECRET_NAMES.includes(key)),
    ]).toEqual([name, []]);

  // Every long-running service has a health check; the one-shots run once.
  const longRunning = Object.entries(resolved).filter(([, service]) => service.restart === 'unless-stopped');
  expect(longRunning.map(([name]) => name).sort()).toEqual(
    ['codec-server', 'postgres', 'temporal', 'temporal-ui', 'worker'].sort(),
  );
  const unchecked = longRunning.filter(
    ([, service]) => !service.healthcheck?.test || service.healthcheck.disable === true,
  );
  expect(unchecked.map(([name]) => name)).toEqual([]);
  for (const name of ['temporal-schema', 'temporal-setup']) expect(resolved[name]!.restart).toBe('no');

  // Pinned images: a version tag on every image; the product's services build the repository's
  // Dockerfile, whose base images are pinned too.
  for (const [name, service] of Object.entries(resolved)) {
    if (service.image !== undefined)
      expect([name, service.image]).toEqual([
        name,
        expect.stringMatching(/^[\w./-]+:(?!latest$)[\w.-]*\d[\w.-]*$/),
      ]);
    else expect([name, service.build]).toEqual([name, { context: expect.any(String) as string }]);
  }
  const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const bases = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]!);
  expect(bases.length).toBeGreaterThan(0);
  for (const base of bases) expect(base).toMatch(/^[\w./-]+:(?!latest$)[\w.-]*\d[\w.-]*$/);
}, 120_000);

/** Packages of the harness and the tests, which a worker image must not install. */
const HARNESS_PACKAGES = [
  'fastify',
  'smtp-server',
  'mailparser',
  'scim2-parse-filter',
  '@temporalio/testing',
  'scim-patch',
];

interface PackageJson {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

const packageJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as PackageJson;

test('the runtime dependencies hold no emulator, mail or testing package, directly or not', () => {
  expect(Object.keys(packageJson.dependencies).filter((name) => HARNESS_PACKAGES.includes(name))).toEqual([]);
  // What `npm ci --omit=dev` installs: every package of the lock file not marked `dev`.
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  const installed = Object.entries(lock.packages)
    .filter(([key, entry]) => key !== '' && !entry.dev)
    .map(([key]) => key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length));
  expect(installed).toContain('@temporalio/worker');
  expect(installed.filter((name) => HARNESS_PACKAGES.includes(name))).toEqual([]);
});

test('the Dockerfile builds the product alone and drops the devDependencies', () => {
  const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  expect(dockerfile).toMatch(/^RUN npm run build:product && npm prune --omit=dev$/m);
  expect(dockerfile).not.toMatch(/npm run build(?!:product)/);
  expect(packageJson.scripts['build:product']).toBe('tsc -p tsconfig.product.json');
  // The full build (run by `npm install`) also compiles the harness, for `npx jc-notion local`.
  expect(packageJson.scripts.prepare).toBe('npm run build');
});

test('the product build compiles no harness/ or test/ file', () => {
  const tsc = require.resolve('typescript/bin/tsc');
  const files = execFileSync(process.execPath, [tsc, '-p', 'tsconfig.product.json', '--listFilesOnly'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .map((line) => path.relative(ROOT, line.trim()))
    .filter((file) => file !== '' && !file.startsWith('..') && !file.startsWith('node_modules'));
  expect(files).toContain(path.join('client', 'main.ts'));
  expect(files).toContain(path.join('worker', 'worker.ts'));
  expect(files.filter((file) => /^(harness|test)\//.test(file.split(path.sep).join('/')))).toEqual([]);
}, 120_000);
