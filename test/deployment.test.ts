/**
 * The deployment files stay valid: docker-compose.yml passes every SPEC §2 variable to workers,
 * and the image is the product alone (ADR 0008): its build compiles no harness/ file and its
 * runtime dependencies hold no emulator, mail or testing package.
 */
import { DEV_SERVER_DYNAMIC_CONFIG } from '../harness/temporal/dev-server';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { devServerSearchAttributeFlags } from '../temporal/search-attributes';
import { ROOT } from './support/cli';

interface ComposeService {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
}

const compose = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, ComposeService>;
};

test('docker-compose.yml defines the Temporal service and the workers', () => {
  expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['temporal', 'worker']));
  for (const [name, service] of Object.entries(compose.services)) {
    expect([name, Boolean(service.image ?? service.build)]).toEqual([name, true]);
  }
  expect(compose.services.worker!.command).toEqual(['worker']);
});

test('docker-compose.yml passes every SPEC §2 variable a worker reads, and registers the search attributes', () => {
  const example = fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8');
  const variables = [...example.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]!);
  const passed = Object.keys(compose.services.worker!.environment ?? {});
  const notPassed = variables.filter(
    (name) =>
      !passed.includes(name) &&
      ![
        'TEMPORAL_API_KEY',
        'TEMPORAL_TLS_CERT',
        'TEMPORAL_TLS_KEY',
        'CONNECTOR_ID',
        'LOG_LEVEL',
        // Read by the admin commands and the codec server, not by workers.
        'CODEC_SERVER_TOKEN',
        'TEMPORAL_UI_URL',
      ].includes(name),
  );
  expect(notPassed).toEqual([]);
  const flags = (compose.services.temporal!.command ?? []).join(' ');
  for (const flag of devServerSearchAttributeFlags()) expect(flags).toContain(flag);
  // ADR 0012: the same single partition per task queue as the local stack's dev server.
  for (const [key, value] of Object.entries(DEV_SERVER_DYNAMIC_CONFIG))
    expect(flags).toContain(`--dynamic-config-value ${key}=${JSON.stringify(value)}`);
});

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
