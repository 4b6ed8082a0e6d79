/**
 * `jc-notion local`: the whole local stack in the foreground, until SIGINT or SIGTERM. The stack
 * is harness code (`harness/local/command.ts`), loaded at run time: the worker image does not
 * hold it, and there the command says so in one line (ADR 0008).
 */
import { loadHarnessModule } from '../harness';

export interface LocalStackPorts {
  temporal: number;
  ui: number;
  jumpcloud: number;
  notion: number;
  smtp: number;
}

/** SPEC §8's ports. */
export const DEFAULT_PORTS: LocalStackPorts = {
  temporal: 7233,
  ui: 8233,
  jumpcloud: 8410,
  notion: 8420,
  smtp: 8425,
};

/** The codec server's port in the local stack (only when payloads are encrypted). */
export const DEFAULT_CODEC_PORT = 8428;

export interface LocalCommandOptions {
  temporalPort: number;
  uiPort: number;
  jumpcloudPort: number;
  notionPort: number;
  smtpPort: number;
  seed: 'demo' | 'none';
  dataDir?: string;
  json?: boolean;
  /** Issue 16: encrypt payloads (keys from PAYLOAD_ENCRYPTION_KEYS, or made for the stack). */
  encrypt?: boolean;
  /** The codec server's port, when payloads are encrypted. */
  codecPort: number;
  /** Issue 17: the production topology (a Temporal cluster on PostgreSQL, worker processes). */
  cluster?: boolean;
  /** Worker processes with `cluster`. */
  workers: number;
}

/** What the harness module `local/command` exports. */
export interface LocalCommandHarness {
  runLocalCommand(options: LocalCommandOptions): Promise<void>;
}

export async function localCommand(options: LocalCommandOptions): Promise<void> {
  const harness = await loadHarnessModule<LocalCommandHarness>('local/command', ['runLocalCommand'], 'local');
  await harness.runLocalCommand(options);
}
