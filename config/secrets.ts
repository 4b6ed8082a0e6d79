/**
 * Secrets are read when used, not once at start, so that a rotated credential is picked up by the
 * next request without a restart (SPEC C2): with `<NAME>_FILE` (a mounted secret, as Docker and
 * Kubernetes provide, updated in place on rotation) the file is re-read when it changes. Without
 * it, the value the worker started with is used (a process's environment cannot change under it:
 * rotating `<NAME>` itself means restarting the workers, one at a time).
 */
import fs from 'node:fs';
import type { SecretVariable } from './config';

const cache = new Map<string, { mtimeMs: number; value: string }>();

function fromFile(file: string): string | undefined {
  try {
    const { mtimeMs } = fs.statSync(file);
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === mtimeMs) return hit.value;
    const value = fs.readFileSync(file, 'utf8').trim();
    cache.set(file, { mtimeMs, value });
    return value || undefined;
  } catch {
    return undefined;
  }
}

/** The current value of a secret: its `_FILE` if set and readable, else the configured value. */
export function readSecret(
  name: SecretVariable,
  configured: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const file = env[`${name}_FILE`];
  return (file ? fromFile(file) : undefined) ?? configured;
}

/**
 * A reader for API clients, called at every request: the file `file` (the `<NAME>_FILE` the
 * configuration was given, never one found in the process's environment later) when set and
 * readable, else the configured value.
 */
export function secretReader(name: SecretVariable, configured: string, file?: string): () => string {
  const env = file ? { [`${name}_FILE`]: file } : {};
  return () => readSecret(name, configured, env);
}

/**
 * Every secret value the process holds now: the configured ones and those its `_FILE`s hold
 * (rotated in place), so that text leaving the process can be scrubbed of each (issue 16).
 */
export function currentSecretValues(
  configured: readonly string[],
  files: Partial<Record<SecretVariable, string>> = {},
): string[] {
  const values = new Set(configured);
  for (const file of Object.values(files)) {
    const current = file ? fromFile(file) : undefined;
    if (current) values.add(current);
  }
  return [...values].filter((value) => value.length > 0);
}
