/**
 * Issue 16: the payload codec (AES-256-GCM): nothing of a payload stays readable, the key id
 * travels with each payload so that rotated keys still decrypt, and an altered payload or an
 * unknown key is an error, never a silent wrong value.
 */
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { EncryptionCodec, parseEncryptionKeys, type EncryptionKey } from '../temporal/encryption-codec';

const key = (id: string): EncryptionKey => ({ id, key: randomBytes(32) });
const PERSON = { email: 'kate.mcdonald@example.com', name: 'Kate McDonald' };

test('issue 16: a payload is encrypted whole (no email, no name, not even its encoding) and decodes to the same value', async () => {
  const codec = new EncryptionCodec([key('k1')]);
  const payload = defaultPayloadConverter.toPayload(PERSON);
  const [encrypted] = await codec.encode([payload]);
  const raw = Buffer.from(encrypted!.data!).toString('latin1');
  expect(raw).not.toMatch(/kate|McDonald|json/i);
  expect(Buffer.from(encrypted!.metadata!['encryption-key-id']!).toString()).toBe('k1');
  const [decoded] = await codec.decode([encrypted!]);
  expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(PERSON);
});

test('issue 16: rotation: payloads written under an old key still decode once a new key is added first; new ones use the new key', async () => {
  const old = key('2026-01');
  const fresh = key('2026-12');
  const [before] = await new EncryptionCodec([old]).encode([defaultPayloadConverter.toPayload(PERSON)]);
  const rotated = new EncryptionCodec([fresh, old]);
  expect(defaultPayloadConverter.fromPayload((await rotated.decode([before!]))[0]!)).toEqual(PERSON);
  const [after] = await rotated.encode([defaultPayloadConverter.toPayload(PERSON)]);
  expect(Buffer.from(after!.metadata!['encryption-key-id']!).toString()).toBe('2026-12');
  // Payloads from before encryption was turned on decode as they are.
  const plain = defaultPayloadConverter.toPayload(PERSON);
  expect(await rotated.decode([plain])).toEqual([plain]);
});

test('issue 16: an unknown key id or an altered payload is an error naming the key, never a wrong value', async () => {
  const [sealed] = await new EncryptionCodec([key('gone')]).encode([
    defaultPayloadConverter.toPayload(PERSON),
  ]);
  await expect(new EncryptionCodec([key('other')]).decode([sealed!])).rejects.toThrow(
    /encrypted with key "gone", which PAYLOAD_ENCRYPTION_KEYS does not list/,
  );
  const codec = new EncryptionCodec([key('k')]);
  const [good] = await codec.encode([defaultPayloadConverter.toPayload(PERSON)]);
  const altered = Buffer.from(good!.data!);
  altered[altered.length - 20]! ^= 1;
  await expect(codec.decode([{ ...good!, data: new Uint8Array(altered) }])).rejects.toThrow(
    /does not decrypt/,
  );
});

test('issue 16: PAYLOAD_ENCRYPTION_KEYS is id:base64 pairs; problems are named by position and id, never by value', () => {
  const a = randomBytes(32).toString('base64');
  const b = randomBytes(32).toString('base64');
  expect(parseEncryptionKeys(`new:${a}, old:${b}`).map((k) => k.id)).toEqual(['new', 'old']);
  for (const [value, message] of [
    ['', /holds no key/],
    [a, /key 1 has no valid id/],
    [`short:${Buffer.from('sixteen bytes!!!').toString('base64')}`, /key "short" is not 32 bytes/],
    [`x:${a},x:${b}`, /key id "x" is listed twice/],
  ] as const) {
    let error: Error | undefined;
    try {
      parseEncryptionKeys(value);
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toMatch(message);
    expect(error?.message).not.toContain(a);
  }
});
