import { causeChain } from '../common/errors';

/** An error whose message is the one-line reason the command prints before exiting non-zero. */
export class CliError extends Error {
  override name = 'CliError';
}

/**
 * The one line a failed command prints: the first line of the message, no stack trace. Temporal's
 * wrappers ("Workflow Update failed", "Activity task failed") say little: their root cause, which
 * says why, follows.
 */
export function oneLine(error: unknown): string {
  const first = (text: string) => text.split('\n')[0]!.trim();
  const message = first(error instanceof Error ? error.message : String(error));
  const root = error instanceof Error && error.cause instanceof Error ? first(causeMessage(error)) : '';
  const line = root && root !== message ? (message ? `${message}: ${root}` : root) : message;
  return line || (error instanceof Error ? error.name : 'unknown error');
}

/** The root cause's message (Temporal wraps failures): the innermost Error of the chain. */
export function causeMessage(error: unknown): string {
  let root: unknown = error;
  for (const cause of causeChain(error)) if (cause instanceof Error) root = cause;
  return root instanceof Error ? root.message : String(root);
}
