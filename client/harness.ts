/**
 * The one way product code reaches the development harness (`harness/`: emulators, local stack,
 * Temporal CLI tooling): a module loaded at run time by path, never imported, so the product
 * build and the worker image hold neither the harness nor its packages (ADR 0008). Where the
 * harness is absent (the image), a development command fails with one clear line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CliError } from './errors';

/** Overrides where the harness is looked for (tests point it at a missing folder). */
export const HARNESS_DIR_VARIABLE = 'JCN_HARNESS_DIR';

export class HarnessMissingError extends CliError {
  override name = 'HarnessMissingError';
}

/**
 * The harness folder beside this build: `harness/` next to `client/` when run from the sources,
 * `dist/harness/` next to `dist/client/` when run from the full build (`npm run build`).
 */
export function harnessDir(env: NodeJS.ProcessEnv = process.env): string {
  return env[HARNESS_DIR_VARIABLE] || path.resolve(__dirname, '..', 'harness');
}

/** The file of harness module `name` (e.g. `local/command`): compiled JavaScript or its source. */
export function findHarnessModule(name: string, dir: string = harnessDir()): string | undefined {
  return ['.js', '.ts'].map((ext) => path.join(dir, `${name}${ext}`)).find((file) => fs.existsSync(file));
}

/**
 * Loads harness module `name` for `command` and checks that it exports the functions `names`.
 * Throws HarnessMissingError, whose message is the line the command prints, when it is not there.
 */
export async function loadHarnessModule<T extends object>(
  name: string,
  names: readonly (keyof T & string)[],
  command: string,
  dir: string = harnessDir(),
): Promise<T> {
  const file = findHarnessModule(name, dir);
  if (!file) {
    throw new HarnessMissingError(
      `\`${command}\` is a development command: run it from a clone of the repository ` +
        `(\`npm install && npx jc-notion ${command}\`); this installation has no development harness (${path.join(dir, name)} not found)`,
    );
  }
  const loaded: unknown = await import(pathToFileURL(file).href);
  // A CommonJS module imported from ESM may expose its exports under `default` only.
  const candidates = [loaded, isObject(loaded) ? loaded.default : undefined];
  const found = candidates.find(
    (candidate): candidate is T =>
      isObject(candidate) && names.every((key) => typeof candidate[key] === 'function'),
  );
  if (!found) throw new HarnessMissingError(`${file} does not export ${names.join(', ')}`);
  return found;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null;
}
