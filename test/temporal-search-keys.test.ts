/** Issue 16: the personal search attributes as typed or as keyed hashes, and `find`'s query. */
import { parseConfig } from '../config/config';
import { lookupQuery } from '../temporal/entities';
import { HASH_PREFIX, hashSearchValue, searchKeysFor, searchValue } from '../temporal/search-keys';
import { toJumpCloudUserFacts } from '../activities/jumpcloud';

const hashed = parseConfig(
  { SEARCH_ATTRIBUTES_PII: 'hashed', SEARCH_ATTRIBUTES_HMAC_KEY: 'hmac-key-for-tests-0001' },
  'client',
);
const plain = parseConfig({}, 'client');

test('issue 16: plain mode publishes the values as they are (nothing computed)', () => {
  expect(searchKeysFor(plain)('email', 'ann@example.com')).toBeUndefined();
  expect(searchValue(plain, 'email', 'ann@example.com')).toBe('ann@example.com');
});

test('issue 16: hashed mode: a keyed hash, the same for any case or Unicode form of an email or username, different per field and per key', () => {
  const keys = searchKeysFor(hashed);
  const hash = keys('email', 'ann@example.com')!;
  expect(hash.startsWith(HASH_PREFIX)).toBe(true);
  expect(hash).not.toContain('ann');
  expect(keys('email', 'ANN@Example.COM')).toBe(hash);
  // U+212A KELVIN SIGN folds to k, as the product compares emails (issue 14).
  expect(keys('email', '\u212aate@example.com')).toBe(keys('email', 'kate@example.com'));
  expect(keys('username', 'ann@example.com')).not.toBe(hash);
  expect(hashSearchValue('another-key-for-tests', 'email', 'ann@example.com')).not.toBe(hash);
  // Group names are compared exactly (G3/G5), so hashed exactly.
  expect(keys('groupName', 'Sales')).not.toBe(keys('groupName', 'sales'));
  expect(keys('groupName', 'Cafe\u0301')).toBe(keys('groupName', 'Caf\u00e9'));
});

test('issue 16: the facts an activity hands the workflow carry the hashes in hashed mode only', () => {
  const user = {
    id: '5f1b00000000000000000001',
    username: 'ann',
    email: 'Ann@Example.com',
    firstname: 'Ann',
    lastname: 'Lee',
    state: 'ACTIVATED' as const,
    activated: true,
  };
  expect(toJumpCloudUserFacts(user as never).searchKeys).toBeUndefined();
  expect(toJumpCloudUserFacts(user as never, searchKeysFor(hashed)).searchKeys).toEqual({
    username: searchValue(hashed, 'username', 'ann'),
    email: searchValue(hashed, 'email', 'ann@example.com'),
  });
});

test("issue 16: find's query looks for any of the fields, within one connector's users and groups, quoted", () => {
  expect(
    lookupQuery({
      connectorId: 'default',
      emails: ['a"b@example.com'],
      usernames: ['x', 'x'],
      groupNames: ['G'],
    }),
  ).toBe(
    'JcnConnectorId = "default" AND JcnKind IN ("user", "group") AND (JcnEmail IN ("a\\"b@example.com") OR JcnUsername IN ("x") OR JcnGroupName IN ("G"))',
  );
  expect(() => lookupQuery({ connectorId: 'default' })).toThrow(/nothing to look for/);
});
