/**
 * Issue 16: personal data encrypted at rest in Temporal. A payload codec (AES-256-GCM) that wraps
 * each whole serialized payload, with the id of the key that encrypted it in the payload's
 * metadata, so that keys can be rotated: the first key of `PAYLOAD_ENCRYPTION_KEYS` encrypts,
 * every key listed decrypts. Keys come from the environment or a file, never from history.
 * Payloads that are not encrypted (written before encryption was turned on) decode as they are.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const ENCODING_ENCRYPTED = 'binary/encrypted';
export const METADATA_KEY_ID = 'encryption-key-id';
const METADATA_CIPHER = 'encryption-cipher';
const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

/**
 * `id:base64,id:base64…` (each key 32 random bytes, e.g. `openssl rand -base64 32`). Problems are
 * named by position and id, never by value.
 */
export function parseEncryptionKeys(value: string): EncryptionKey[] {
  const keys: EncryptionKey[] = [];
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error('holds no key (expected id:base64-key[,id:base64-key…])');
  entries.forEach((entry, index) => {
    const at = entry.indexOf(':');
    const id = at > 0 ? entry.slice(0, at) : '';
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(id))
      throw new Error(
        `key ${index + 1} has no valid id (expected id:base64-key, the id made of letters, digits, . _ -)`,
      );
    const key = Buffer.from(entry.slice(at + 1), 'base64');
    if (key.length !== 32) throw new Error(`key "${id}" is not 32 bytes of base64 (AES-256)`);
    if (keys.some((k) => k.id === id)) throw new Error(`key id "${id}" is listed twice`);
    keys.push({ id, key });
  });
  return keys;
}

const utf8 = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));
const text = (bytes: Uint8Array | null | undefined) =>
  bytes ? Buffer.from(bytes).toString('utf8') : undefined;

export class EncryptionCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: readonly EncryptionKey[]) {
    if (keys.length === 0) throw new Error('an encryption codec needs at least one key');
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    const { id, key } = this.keys[0]!;
    return Promise.resolve(
      payloads.map((payload) => {
        const plain = temporal.api.common.v1.Payload.encode(payload).finish();
        const iv = randomBytes(IV_BYTES);
        const cipher = createCipheriv(CIPHER, key, iv);
        cipher.setAAD(Buffer.from(id, 'utf8'));
        const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
        return {
          metadata: {
            [METADATA_ENCODING_KEY]: utf8(ENCODING_ENCRYPTED),
            [METADATA_KEY_ID]: utf8(id),
            [METADATA_CIPHER]: utf8('AES-256-GCM'),
          },
          data: new Uint8Array(sealed),
        };
      }),
    );
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    // Settled asynchronously: a payload that cannot be decoded rejects, it does not throw.
    return Promise.resolve().then(() =>
      payloads.map((payload) => {
        if (text(payload.metadata?.[METADATA_ENCODING_KEY]) !== ENCODING_ENCRYPTED) return payload;
        const id = text(payload.metadata?.[METADATA_KEY_ID]) ?? '';
        const key = this.byId.get(id);
        if (!key)
          throw new Error(
            `a payload is encrypted with key "${id}", which PAYLOAD_ENCRYPTION_KEYS does not list`,
          );
        const sealed = Buffer.from(payload.data ?? new Uint8Array());
        if (sealed.length < IV_BYTES + TAG_BYTES)
          throw new Error(`an encrypted payload (key "${id}") is truncated`);
        const decipher = createDecipheriv(CIPHER, key, sealed.subarray(0, IV_BYTES));
        decipher.setAAD(Buffer.from(id, 'utf8'));
        decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
        let plain: Buffer;
        try {
          plain = Buffer.concat([
            decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
            decipher.final(),
          ]);
        } catch {
          throw new Error(
            `an encrypted payload (key "${id}") does not decrypt: altered, or another key with that id`,
          );
        }
        return temporal.api.common.v1.Payload.decode(plain);
      }),
    );
  }
}
