/**
 * Structured logs (pino). Secret values are scrubbed from every line, whatever field or message
 * they hide in: defence in depth behind "never log a secret" (SPEC §2).
 */
import pino from 'pino';
import { DefaultLogger, type LogEntry, type LogLevel } from '@temporalio/worker';

export type Logger = pino.Logger;

export interface LoggerOptions {
  level?: string;
  /**
   * Secret values to replace with `[secret]` wherever they appear; a function is asked again
   * every few seconds (a secret rotated in its file, issue 16).
   */
  secrets?: readonly string[] | (() => readonly string[]);
  /** Where lines go (default stdout). */
  destination?: pino.DestinationStream;
  base?: Record<string, unknown>;
}

/** What stands for a value nested deeper than the scrubber looks (its strings unchecked). */
export const TOO_DEEP = '[nested too deep to check for secrets]';

/** Replaces every secret in strings nested anywhere in `value`. */
export function scrubSecrets<T>(value: T, secrets: readonly string[]): T {
  const active = secrets.filter((secret) => secret.length >= 4);
  if (active.length === 0) return value;
  const scrub = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return active.reduce((text, secret) => text.split(secret).join('[secret]'), v);
    if (v === null || typeof v !== 'object') return v;
    // Fail safe: what is not looked at is dropped, not passed on (a cycle ends here too).
    if (depth > 8) return TOO_DEEP;
    if (Array.isArray(v)) return v.map((item) => scrub(item, depth + 1));
    if (v instanceof Error) return scrub({ type: v.name, message: v.message, stack: v.stack }, depth + 1);
    return Object.fromEntries(Object.entries(v).map(([key, item]) => [key, scrub(item, depth + 1)]));
  };
  return scrub(value, 0) as T;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const source = options.secrets ?? [];
  let known: readonly string[] = typeof source === 'function' ? source() : source;
  let askedAt = Date.now();
  const current = () => {
    if (typeof source === 'function' && Date.now() - askedAt > 5_000) {
      known = source();
      askedAt = Date.now();
    }
    return known;
  };
  return pino(
    {
      level: options.level ?? 'info',
      base: options.base ?? { pid: process.pid },
      redact: {
        paths: ['*.authorization', '*.Authorization', '*["x-api-key"]', '*.token', '*.apiKey', '*.password'],
        censor: '[secret]',
      },
      formatters: { log: (object) => scrubSecrets(object, current()) },
      hooks: {
        logMethod(args, method) {
          method.apply(this, scrubSecrets<Parameters<typeof method>>(args, current()));
        },
      },
    },
    options.destination,
  );
}

/** SDK messages that are expected by design here: the API task queues' workers run no workflows. */
const EXPECTED_SDK_MESSAGES = [/^No workflows registered, not polling for workflow tasks/];

/** The Temporal SDK's logger, writing through ours. */
export function temporalLogger(logger: Logger, level: LogLevel = 'INFO'): DefaultLogger {
  const method = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;
  return new DefaultLogger(level, (entry: LogEntry) => {
    if (EXPECTED_SDK_MESSAGES.some((pattern) => pattern.test(entry.message))) return;
    logger[method[entry.level]]({ ...entry.meta, source: 'temporal' }, entry.message);
  });
}
