/**
 * Extracts, verbatim, the parts of JumpCloud's own OpenAPI specs that the emulator's contract
 * test validates against: the path items under the prefixes below and every component they
 * reference (transitively); code samples are dropped. The full specs are large (3.8 MB), so the
 * repository keeps these extracts instead.
 *
 *   npx tsx test/harness/emulators/jumpcloud-openapi/extract.ts [/path/to/jumpcloud-openapi]
 *
 * Sources: `v1-raw-openapi3.yaml` and `v2-raw-openapi3.yaml` (JumpCloud's raw specs converted to
 * OpenAPI 3, which keep `x-org-id` and the error responses) and `directory-insights.json`
 * (Swagger 2.0, the only Directory Insights spec).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as prettier from 'prettier';
import { parse } from 'yaml';

type Json = Record<string, unknown>;

const SOURCES = [
  {
    file: 'v1-raw-openapi3.yaml',
    out: 'v1.json',
    prefixes: ['/systemusers', '/applications', '/organizations', '/search/systemusers'],
  },
  { file: 'v2-raw-openapi3.yaml', out: 'v2.json', prefixes: ['/usergroups', '/users/', '/applications/'] },
  { file: 'directory-insights.json', out: 'directory-insights.json', prefixes: ['/events'] },
];

function withoutSamples(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSamples);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Json)
      .filter(([key]) => key !== 'x-codeSamples')
      .map(([key, inner]) => [key, withoutSamples(inner)]),
  );
}

function refsIn(value: unknown, found: Set<string>): void {
  if (Array.isArray(value)) for (const item of value) refsIn(item, found);
  else if (value && typeof value === 'object')
    for (const [key, inner] of Object.entries(value as Json)) {
      if (key === '$ref' && typeof inner === 'string' && inner.startsWith('#/')) found.add(inner.slice(2));
      else refsIn(inner, found);
    }
}

const unescape = (segment: string) => segment.replace(/~1/g, '/').replace(/~0/g, '~');

export function extract(document: Json, prefixes: string[]): Json {
  const paths = Object.fromEntries(
    Object.entries(document.paths as Json)
      .filter(([name]) => prefixes.some((prefix) => name.startsWith(prefix)))
      .map(([name, item]) => [name, withoutSamples(item)]),
  );
  const info = { ...(document.info as Json) };
  delete info.description;
  const out: Json = { ...document, info, paths };
  delete out.components;
  delete out.definitions;
  // How requests authenticate (`x-api-key`) is kept whole.
  const securitySchemes = (document.components as Json | undefined)?.securitySchemes;
  if (securitySchemes) out.components = { securitySchemes };

  const pending = new Set<string>();
  refsIn(paths, pending);
  const done = new Set<string>();
  for (const ref of pending) {
    if (done.has(ref)) continue;
    done.add(ref);
    const segments = ref.split('/').map(unescape);
    let source: unknown = document;
    for (const segment of segments) source = (source as Json)[segment];
    if (source === undefined) throw new Error(`unresolved $ref #/${ref}`);
    let target = out;
    for (const segment of segments.slice(0, -1)) target = (target[segment] ??= {}) as Json;
    target[segments[segments.length - 1]!] = withoutSamples(source);
    refsIn(source, pending);
  }
  return out;
}

async function main(): Promise<void> {
  const sourceDir = process.argv[2] ?? '/work/shared/reference/jumpcloud-openapi';
  const outDir = __dirname;
  const options = (await prettier.resolveConfig(path.join(outDir, 'v1.json'))) ?? {};
  for (const source of SOURCES) {
    const text = fs.readFileSync(path.join(sourceDir, source.file), 'utf8');
    const document = (
      source.file.endsWith('.json') ? JSON.parse(text) : parse(text, { maxAliasCount: -1 })
    ) as Json;
    const subset = extract(document, source.prefixes);
    subset['x-extracted-from'] = {
      file: source.file,
      sha256: createHash('sha256').update(text).digest('hex'),
      prefixes: source.prefixes,
    };
    const formatted = await prettier.format(JSON.stringify(subset), { ...options, parser: 'json' });
    fs.writeFileSync(path.join(outDir, source.out), formatted);
    process.stdout.write(`${source.out}: ${Object.keys(subset.paths as Json).length} paths\n`);
  }
}

if (require.main === module) void main();
