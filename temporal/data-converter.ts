/**
 * Issue 16: how payloads and failures are written to Temporal. Without `PAYLOAD_ENCRYPTION_KEYS`
 * the SDK's defaults (JSON in clear). With it, every payload (inputs, results, signals, queries,
 * Updates, heartbeats, memos, summaries) goes through the encryption codec, and every failure's
 * message and stack trace through it too. Workers, their bundle and every admin command use the
 * same converter, so each side reads what the other wrote.
 */
import type { DataConverter } from '@temporalio/common';
import type { Config } from '../config/config';
import { EncryptionCodec } from './encryption-codec';

/** The failure converter that encodes messages and stack traces (see failure-converter.ts). */
export const ENCRYPTED_FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

export function isEncrypted(config: Pick<Config, 'privacy'>): boolean {
  return Boolean(config.privacy.encryptionKeys?.length);
}

/** The data converter of clients and workers for this configuration (undefined: the defaults). */
export function dataConverterFor(config: Pick<Config, 'privacy'>): DataConverter | undefined {
  const keys = config.privacy.encryptionKeys;
  if (!keys?.length) return undefined;
  return {
    payloadCodecs: [new EncryptionCodec(keys)],
    failureConverterPath: ENCRYPTED_FAILURE_CONVERTER_PATH,
  };
}
