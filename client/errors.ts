/** An error whose message is the one-line reason the command prints before exiting non-zero. */
export class CliError extends Error {
  override name = 'CliError';
}

/** The one line a failed command prints: the first line of the message, no stack trace. */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.trim() || (error instanceof Error ? error.name : 'unknown error');
}

/** The root cause's message (Temporal wraps failures). */
export function causeMessage(error: unknown): string {
  let current = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
