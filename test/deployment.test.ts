/** The deployment files stay valid: docker-compose.yml passes every SPEC §2 variable to workers. */
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
      !['TEMPORAL_API_KEY', 'TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY', 'CONNECTOR_ID', 'LOG_LEVEL'].includes(
        name,
      ),
  );
  expect(notPassed).toEqual([]);
  const flags = (compose.services.temporal!.command ?? []).join(' ');
  for (const flag of devServerSearchAttributeFlags()) expect(flags).toContain(flag);
});
