/**
 * Issue 16: the personal search attributes (email, username, group name) as the configuration
 * wants them: as typed (`SEARCH_ATTRIBUTES_PII=plain`, the UI's search box finds them) or as keyed
 * hashes (`hashed`: a codec cannot encrypt search attributes, so visibility keeps only an
 * HMAC-SHA256 of each). The key is a worker secret, so hashes are computed by activities and by
 * `jc-notion find`, never in workflow code; workflows publish what activities hand them.
 */
import { createHmac } from 'node:crypto';
import type { Config } from '../config/config';
import { emailKey } from '../contracts/shared';

export type PersonalField = 'email' | 'username' | 'groupName';

/** Hashes start with their scheme, so that a query can never confuse one with a typed value. */
export const HASH_PREFIX = 'hmac1:';

/**
 * The keyed hash of a value. Emails and usernames are compared as the product compares them (NFC,
 * case folded: `Ann@…` and `ann@…` hash alike); group names exactly, as G3/G5 compare them. The
 * field is part of the hashed text: an equal email and username give unrelated hashes.
 */
export function hashSearchValue(key: string, field: PersonalField, value: string): string {
  const text = field === 'groupName' ? value.normalize('NFC') : emailKey(value);
  return HASH_PREFIX + createHmac('sha256', key).update(`${field}\0${text}`).digest('base64url');
}

/**
 * The value to publish for a personal field; undefined in plain mode (the workflow publishes the
 * value it holds, as before issue 16).
 */
export type SearchKeys = (field: PersonalField, value: string | undefined) => string | undefined;

export function searchKeysFor(config: Pick<Config, 'privacy'>): SearchKeys {
  const { searchAttributes, hmacKey } = config.privacy;
  if (searchAttributes !== 'hashed') return () => undefined;
  if (!hmacKey) throw new Error('SEARCH_ATTRIBUTES_PII=hashed needs SEARCH_ATTRIBUTES_HMAC_KEY');
  return (field, value) => (value === undefined ? undefined : hashSearchValue(hmacKey, field, value));
}

/** What a query compares a personal field with: the hash in hashed mode, the value in plain. */
export function searchValue(config: Pick<Config, 'privacy'>, field: PersonalField, value: string): string {
  return searchKeysFor(config)(field, value) ?? value;
}
