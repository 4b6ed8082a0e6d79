/**
 * Emulator snapshots (`jc-notion local --data-dir`): an emulator's whole state as one JSON document
 * `{"version": 1, "emulator": "jumpcloud" | "notion", …}`, and the refusal of one that cannot be
 * restored. Restoring is all or nothing: the state is only replaced once the whole snapshot is valid.
 */
import type { z } from 'zod';

export const SNAPSHOT_VERSION = 1;

/** A snapshot that cannot be restored; the message names what is wrong with it. */
export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

/** At most this many zod issues are named in a message. */
const MAX_ISSUES = 5;

/**
 * Checks the envelope first (a JSON object of this emulator and this version), so that another
 * emulator's file or a later format is named as such, then the body.
 */
export function parseSnapshot<S extends z.ZodType>(
  label: string,
  kind: string,
  schema: S,
  input: unknown,
): z.output<S> {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new SnapshotError(`not a ${label} snapshot: expected a JSON object`);
  const { emulator, version } = input as Record<string, unknown>;
  if (emulator !== kind)
    throw new SnapshotError(
      `not a ${label} snapshot: "emulator" is ${JSON.stringify(emulator) ?? 'missing'}, expected "${kind}"`,
    );
  if (version !== SNAPSHOT_VERSION)
    throw new SnapshotError(
      `unsupported ${label} snapshot version ${JSON.stringify(version) ?? '(missing)'}: this emulator reads version ${SNAPSHOT_VERSION}`,
    );
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new SnapshotError(`invalid ${label} snapshot: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

function describeIssues(error: z.ZodError): string {
  const lines = error.issues
    .slice(0, MAX_ISSUES)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message));
  const more = error.issues.length - MAX_ISSUES;
  return more > 0 ? `${lines.join('; ')}; and ${more} more` : lines.join('; ');
}
