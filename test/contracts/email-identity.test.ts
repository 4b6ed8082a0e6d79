/** Issue 14: one email, one identity — NFC and simple case folding to compare, NFC lower case to write. */
import { emailKey, normalizeEmail } from '../../contracts/shared';

test('issue 14: an address written with U+212A KELVIN SIGN is the same identity as with K or k', () => {
  expect(emailKey('\u212Aate@example.com')).toBe(emailKey('kate@example.com'));
  expect(emailKey('KATE@Example.COM')).toBe(emailKey('kate@example.com'));
});

test('issue 14: NFD and NFC forms of one address are one identity, and written in NFC', () => {
  const nfd = 'Jose\u0301@example.com';
  const nfc = 'jos\u00e9@example.com';
  expect(nfd).not.toBe(nfc);
  expect(emailKey(nfd)).toBe(emailKey(nfc));
  expect(normalizeEmail(nfd)).toBe(nfc);
});

test('issue 14: simple case folding only: straße and strasse stay two addresses, as Notion keeps them', () => {
  expect(emailKey('STRASSE@example.com')).not.toBe(emailKey('straße@example.com'));
  expect(emailKey('STRASSE@example.com')).toBe(emailKey('strasse@example.com'));
  expect(normalizeEmail(' Straße@Example.com ')).toBe('straße@example.com');
});

test('issue 14: different addresses stay different', () => {
  expect(emailKey('kate@example.com')).not.toBe(emailKey('kat@example.com'));
  expect(emailKey('kate@example.com')).not.toBe(emailKey('kate@example.org'));
});
