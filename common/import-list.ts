/**
 * The `import list` entries as one compact payload (SPEC I1): a workspace of 10,000 members must
 * not become a 1 MB array in workflow history. Entries travel as JSON tuples, gzipped and
 * base64-encoded (a few bytes per member); the activity encodes, the CLI decodes.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import type { ImportStatus } from '../contracts/import';

export interface ImportListEntry {
  status: ImportStatus;
  email: string;
  name: string;
  /** The JumpCloud user's username, for `Imported` members. */
  jumpcloudUsername?: string;
}

const tupleSchema = z.union([
  z.tuple([z.literal('N'), z.string(), z.string()]),
  z.tuple([z.literal('I'), z.string(), z.string(), z.string()]),
]);

export function encodeImportList(entries: ImportListEntry[]): string {
  const tuples = entries.map((e) =>
    e.status === 'New' ? ['N', e.email, e.name] : ['I', e.email, e.name, e.jumpcloudUsername ?? ''],
  );
  return gzipSync(Buffer.from(JSON.stringify(tuples), 'utf8')).toString('base64');
}

export function decodeImportList(encoded: string): ImportListEntry[] {
  const json = gunzipSync(Buffer.from(encoded, 'base64')).toString('utf8');
  return z
    .array(tupleSchema)
    .parse(JSON.parse(json))
    .map((t) =>
      t[0] === 'N'
        ? { status: 'New' as const, email: t[1], name: t[2] }
        : { status: 'Imported' as const, email: t[1], name: t[2], jumpcloudUsername: t[3] || undefined },
    );
}

/** Ordered by email; `newFirst` puts every `New` member before the `Imported` ones (I1). */
export function sortImportList(entries: ImportListEntry[], newFirst: boolean): ImportListEntry[] {
  const rank = (e: ImportListEntry) => (newFirst && e.status === 'Imported' ? 1 : 0);
  return [...entries].sort(
    (a, b) => rank(a) - rank(b) || (a.email < b.email ? -1 : a.email > b.email ? 1 : 0),
  );
}
