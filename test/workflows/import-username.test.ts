/** I2: the JumpCloud username an import derives from a Notion member's email, and its collision candidates. */
import { conflictField } from '../../activities/jumpcloud-import';
import {
  MAX_USERNAME_LENGTH,
  RESERVED_USERNAMES,
  USERNAME_PATTERN,
  deriveUsernameBase,
  usernameCandidate,
  usernameFor,
} from '../../workflows/import-plan';

describe('I2: username derived from the email', () => {
  test.each([
    ['ann@example.com', 'ann'],
    ['Ann.Lee@Example.com', 'ann.lee'],
    ['ann_lee@example.com', 'ann_lee'],
    ['jean-luc.picard@example.com', 'jean.luc.picard'],
    ['ann+notion@example.com', 'ann'],
    ['zoë.ßmith@example.com', 'zoe.ssmith'],
    ['søren.łukasz@example.com', 'soren.lukasz'],
    ["o'brien@example.com", 'obrien'],
    ['2pac@example.com', 'u2pac'],
    ['.ann..lee.@example.com', 'ann.lee'],
    ['__x@example.com', 'x'],
    ['张伟@example.com', 'user'],
    ['"quoted@local"@example.com', 'quotedlocal'],
  ])('%s → %s', (email, expected) => {
    expect(deriveUsernameBase(email)).toBe(expected);
  });

  test('at most 20 characters, never ending with a separator', () => {
    expect(deriveUsernameBase('alexandra.konstantinopoulou@example.com')).toBe('alexandra.konstantin');
    expect(deriveUsernameBase('abcdefghijklmnopqrs.tuvwxyz@example.com')).toBe('abcdefghijklmnopqrs');
  });

  test('every derived username follows the JumpCloud rules: starts with a letter, [a-z0-9._], no "@", no space, ≤ 20', () => {
    const emails = [
      'a@b.co',
      '9@b.co',
      '-@b.co',
      '...@b.co',
      'UPPER.Case@X.io',
      'tab\there@x.io',
      'émile.zola-dupont-de-la-rivière@x.io',
      'x'.repeat(80) + '@x.io',
      '1234567890123456789012345@x.io',
    ];
    for (const email of emails) {
      for (let n = 0; n < 30; n++) {
        const username = usernameFor(email, n);
        expect(username).toMatch(USERNAME_PATTERN);
        expect(username.length).toBeLessThanOrEqual(MAX_USERNAME_LENGTH);
        expect(username).not.toMatch(/[@\s]/);
      }
    }
  });
});

describe('I2: collisions resolved with the next candidate', () => {
  test('base, then base2, base3…', () => {
    expect([0, 1, 2, 9].map((n) => usernameFor('ann@example.com', n))).toEqual([
      'ann',
      'ann2',
      'ann3',
      'ann10',
    ]);
  });

  test('a base ending with a digit gets a separator before the counter', () => {
    expect(usernameCandidate('user1', 1)).toBe('user1_2');
  });

  test('a long base is shortened to make room for the counter', () => {
    const base = deriveUsernameBase('alexandra.konstantinopoulou@example.com');
    expect(usernameCandidate(base, 1)).toBe('alexandra.konstanti2');
    expect(usernameCandidate(base, 11)).toBe('alexandra.konstant12');
    expect(usernameCandidate('abcdefghi.jklmnopqrs', 1)).toBe('abcdefghi.jklmnopqr2');
    expect(usernameCandidate('abcdefghijklmnopqr.s', 1)).toBe('abcdefghijklmnopqr2');
  });

  test('candidates are distinct', () => {
    const seen = new Set(
      Array.from({ length: 200 }, (_, n) => usernameFor('alexandra.konstantinopoulou@x.io', n)),
    );
    expect(seen.size).toBe(200);
  });

  test('system account names are never used: root@ becomes root2', () => {
    expect(usernameFor('root@example.com', 0)).toBe('root2');
    expect(usernameFor('Admin@example.com', 0)).toBe('admin2');
    for (const name of RESERVED_USERNAMES) expect(usernameFor(`${name}@example.com`, 0)).not.toBe(name);
  });

  test('deterministic: the same email gives the same candidates', () => {
    expect(usernameFor('Ann.Lee@Example.com', 3)).toBe(usernameFor('ann.lee@example.com', 3));
  });
});

describe('I2: which field a JumpCloud refusal is about', () => {
  test.each([
    [400, "Username 'ann' already exists.", 'username'],
    [409, "Username 'ann' already exists.", 'username'],
    [400, "Email address 'ann@x.io' already exists.", 'email'],
    [400, "Email address 'username@x.io' already exists.", 'email'],
    [409, undefined, 'unknown'],
    [409, 'duplicate key', 'unknown'],
    [400, "email 'x' is not a valid email address", undefined],
    [400, 'username must not contain white space or control characters', undefined],
    [500, 'Username already exists', undefined],
  ] as const)('%s %s → %s', (status, detail, expected) => {
    expect(conflictField(status, detail)).toBe(expected);
  });
});
