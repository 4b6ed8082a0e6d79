/** Issue 16: the payloads of a raw history, to check how they are encrypted. */
import type { temporal as proto } from '@temporalio/proto';

export interface RawPayload {
  metadata?: Record<string, Uint8Array> | null;
  data?: Uint8Array | null;
}

/** Every payload anywhere in a history (inputs, results, signals, failures' encoded attributes…). */
export function payloadsOf(value: unknown, into: RawPayload[] = []): RawPayload[] {
  if (!value || typeof value !== 'object' || value instanceof Uint8Array) return into;
  if (Array.isArray(value)) {
    for (const item of value) payloadsOf(item, into);
    return into;
  }
  const object = value as Record<string, unknown>;
  if (object.metadata && typeof object.metadata === 'object' && object.data instanceof Uint8Array) {
    into.push(object);
    return into;
  }
  for (const child of Object.values(object)) payloadsOf(child, into);
  return into;
}

/** The key ids of the encrypted payloads of these histories, and how many payloads are in clear. */
export function keyIdsOf(histories: proto.api.history.v1.IHistory[]): { ids: string[]; clear: number } {
  const ids = new Set<string>();
  let clear = 0;
  for (const history of histories)
    for (const payload of payloadsOf(history)) {
      const id = payload.metadata?.['encryption-key-id'];
      if (id) ids.add(Buffer.from(id).toString('utf8'));
      else clear += 1;
    }
  return { ids: [...ids].sort(), clear };
}
