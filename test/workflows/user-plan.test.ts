/** The pure user planner: scope (U1), mapping (U2), matching and writes (U3–U7), bad data (U9), U11. */
import {
  diffUser,
  planUser,
  scopeOf,
  withChanges,
  type JumpCloudUserFacts,
  type NotionUserFacts,
  type PlanInput,
} from '../../workflows/user-plan';
import { mapUser } from '../../workflows/user-mapping';

const jc = (over: Partial<JumpCloudUserFacts> = {}): JumpCloudUserFacts => ({
  id: '5f1b2c3d4e5f607182930a1b',
  username: 'ann.lee',
  email: 'Ann.Lee@Example.com',
  firstname: 'Ann',
  lastname: 'Lee',
  state: 'ACTIVATED',
  ...over,
});

const notion = (over: Partial<NotionUserFacts> = {}): NotionUserFacts => ({
  id: 'n-1',
  userName: 'ann.lee@example.com',
  active: true,
  givenName: 'Ann',
  familyName: 'Lee',
  formatted: 'Ann Lee',
  ...over,
});

const plan = (over: Partial<PlanInput> & { user?: JumpCloudUserFacts | null; bound?: boolean }) => {
  const user = over.user === undefined ? jc() : over.user;
  const scope = over.scope ?? scopeOf(user, over.bound ?? true);
  return planUser({
    scope,
    mapping: user && scope.inScope ? mapUser(user, 'email') : undefined,
    notion: over.notion === undefined ? notion() : over.notion,
    linked: over.linked ?? true,
    protectedUsers: over.protectedUsers ?? ['owner@example.com'],
  });
};

describe('U1 scope', () => {
  test('U1: bound and ACTIVATED is in scope; STAGED, SUSPENDED, deleted and unbound are not', () => {
    expect(scopeOf(jc(), true)).toEqual({ inScope: true });
    expect(scopeOf(jc({ state: 'STAGED' }), true)).toEqual({ inScope: false, reason: 'staged' });
    expect(scopeOf(jc({ state: 'SUSPENDED' }), true)).toEqual({ inScope: false, reason: 'suspended' });
    expect(scopeOf(null, true)).toEqual({ inScope: false, reason: 'deleted' });
    expect(scopeOf(jc(), false)).toEqual({ inScope: false, reason: 'unbound' });
  });
});

describe('U2 mapping', () => {
  test('U2: userName is the lower-cased email; names keep their case; formatted joins them', () => {
    expect(mapUser(jc({ firstname: '  Ann ', lastname: ' McDonald  ' }), 'email')).toEqual({
      ok: true,
      user: {
        userName: 'ann.lee@example.com',
        email: 'ann.lee@example.com',
        givenName: 'Ann',
        familyName: 'McDonald',
        formatted: 'Ann McDonald',
      },
    });
  });

  test('U2: formatted is one name alone when the other is empty', () => {
    const mapped = mapUser(jc({ lastname: '' }), 'email');
    expect(mapped.ok && mapped.user).toMatchObject({
      givenName: 'Ann',
      familyName: undefined,
      formatted: 'Ann',
    });
  });

  test('U2: USERNAME_SOURCE=username uses the JumpCloud username, which must be an email', () => {
    const mapped = mapUser(jc({ username: 'Ann@Example.com' }), 'username');
    expect(mapped.ok && mapped.user.userName).toBe('ann@example.com');
    expect(mapUser(jc({ username: 'ann.lee' }), 'username')).toMatchObject({
      ok: false,
      problems: [{ field: 'username' }],
    });
  });
});

describe('U9 bad data', () => {
  test.each([
    [{ email: undefined }, 'email', /missing/],
    [{ email: 'not-an-email' }, 'email', /not a valid email/],
    [{ lastname: 'L'.repeat(300) }, 'lastname', /longer than 100/],
    [{ firstname: 'An\u0007n' }, 'firstname', /control characters/],
    // Issue 16: invisible characters that make one name read as another.
    [{ lastname: 'Lee\u202Egnp.exe' }, 'lastname', /bidirectional or invisible/],
    [{ firstname: 'A\u200Bnn' }, 'firstname', /bidirectional or invisible/],
    [{ lastname: '\u2066Lee\u2069' }, 'lastname', /bidirectional or invisible/],
  ] as const)('U9: %j gives a per-user error naming %s, and nothing is sent', (over, field, message) => {
    const operations = plan({ user: jc(over), notion: null });
    expect(operations).toEqual([
      {
        kind: 'invalid',
        problems: [expect.objectContaining({ field, message: expect.stringMatching(message) })],
      },
    ]);
  });
});

test('issue 16 (U9): a workflow that mapped a name before invisible characters were refused replays as it ran (patched)', () => {
  const user = jc({ lastname: 'Lee\u202E' });
  expect(mapUser(user, 'email', { refuseInvisible: false })).toMatchObject({ ok: true });
  expect(mapUser(user, 'email')).toMatchObject({ ok: false });
});

describe('U3–U7 operations', () => {
  test('U4: an in-scope user unknown to Notion is created', () => {
    expect(plan({ notion: null })).toEqual([
      { kind: 'create', user: expect.objectContaining({ userName: 'ann.lee@example.com' }) },
    ]);
  });

  test('U5: nothing differs, nothing is sent', () => {
    expect(plan({})).toEqual([]);
  });

  test('U5: a lastname that changes only in case is pushed, and only that attribute', () => {
    const operations = plan({ user: jc({ lastname: 'LEE' }) });
    expect(operations).toEqual([
      { kind: 'update', notionId: 'n-1', changes: { familyName: 'LEE', formatted: 'Ann LEE' } },
    ]);
  });

  test('U5: Notion omitting a name part that JumpCloud also lacks is not a difference', () => {
    expect(
      plan({ user: jc({ lastname: '' }), notion: notion({ familyName: undefined, formatted: 'Ann' }) }),
    ).toEqual([]);
  });

  test('U5: a name part removed in JumpCloud is removed in Notion', () => {
    expect(
      diffUser(
        { userName: 'ann.lee@example.com', email: 'ann.lee@example.com', givenName: 'Ann', formatted: 'Ann' },
        notion(),
      ),
    ).toEqual({
      familyName: null,
      formatted: 'Ann',
    });
  });

  test('U5: an email change changes userName and emails together', () => {
    const operations = plan({ user: jc({ email: 'ann@new.example.com' }) });
    expect(operations).toEqual([
      {
        kind: 'update',
        notionId: 'n-1',
        changes: { userName: 'ann@new.example.com', email: 'ann@new.example.com' },
      },
    ]);
  });

  test('U6: suspended, unbound and deleted linked users are deactivated (never deleted)', () => {
    for (const [user, bound, reason] of [
      [jc({ state: 'SUSPENDED' }), true, 'suspended'],
      [jc(), false, 'unbound'],
      [null, true, 'deleted'],
    ] as const) {
      expect(plan({ user, bound })).toEqual([{ kind: 'deactivate', notionId: 'n-1', reason }]);
    }
  });

  test('U6: a protected user is never deactivated', () => {
    expect(plan({ user: jc({ state: 'SUSPENDED' }), protectedUsers: ['ann.lee@example.com'] })).toEqual([
      { kind: 'protected', notionId: 'n-1', reason: 'suspended', by: 'NOTION_PROTECTED_USERS' },
    ]);
  });

  test('U6: an already removed member needs nothing', () => {
    expect(plan({ user: jc({ state: 'SUSPENDED' }), notion: notion({ active: false }) })).toEqual([]);
    expect(plan({ user: null, notion: null })).toEqual([]);
  });

  test('U7: a user back in scope whose member was removed is reactivated, then updated if needed', () => {
    expect(plan({ notion: notion({ active: false }) })).toEqual([
      { kind: 'reactivate', notionId: 'n-1', user: expect.any(Object) },
    ]);
    expect(
      plan({ user: jc({ firstname: 'Anne' }), notion: notion({ active: false }) }).map((o) => o.kind),
    ).toEqual(['reactivate', 'update']);
  });

  test('U11: a Notion member never linked to a JumpCloud user is never changed or removed', () => {
    expect(plan({ user: jc({ state: 'SUSPENDED' }), linked: false })).toEqual([]);
  });
});

describe('U6 protection that cannot be lifted by the way (issue 14)', () => {
  test('U6: a Notion workspace owner out of scope is never deactivated, listed or not', () => {
    expect(plan({ user: jc({ state: 'SUSPENDED' }), notion: notion({ role: 'owner' }) })).toEqual([
      { kind: 'protected', notionId: 'n-1', reason: 'suspended', by: 'workspace owner' },
    ]);
    expect(plan({ user: jc({ state: 'SUSPENDED' }), notion: notion({ role: 'member' }) })).toEqual([
      { kind: 'deactivate', notionId: 'n-1', reason: 'suspended' },
    ]);
  });

  test('U6: the protected list names a member in any spelling of its email (NFC, case folding)', () => {
    expect(
      plan({ user: jc({ state: 'SUSPENDED' }), protectedUsers: ['ANN.LEE@EXAMPLE.COM'] }).map((o) => o.kind),
    ).toEqual(['protected']);
  });

  test('U6: a protected member keeps its email while the new one is not in NOTION_PROTECTED_USERS; its names still follow', () => {
    const operations = plan({
      user: jc({ email: 'ann.l@example.com', lastname: 'Lee-Smith' }),
      protectedUsers: ['ann.lee@example.com'],
    });
    expect(operations).toEqual([
      { kind: 'protected', notionId: 'n-1', reason: 'email-change', by: 'NOTION_PROTECTED_USERS' },
      { kind: 'update', notionId: 'n-1', changes: { familyName: 'Lee-Smith', formatted: 'Ann Lee-Smith' } },
    ]);
  });

  test('U6: once the new email is listed too, the email change is made', () => {
    const operations = plan({
      user: jc({ email: 'ann.l@example.com' }),
      protectedUsers: ['ann.lee@example.com', 'ann.l@example.com'],
    });
    expect(operations).toEqual([
      {
        kind: 'update',
        notionId: 'n-1',
        changes: { userName: 'ann.l@example.com', email: 'ann.l@example.com' },
      },
    ]);
  });
});

test('issue 18: withChanges gives the member as it is after a PATCH, so that the next change plans on it (a cleared name is gone)', () => {
  const before: NotionUserFacts = {
    id: 'n1',
    userName: 'ann.lee@example.com',
    active: true,
    givenName: 'Ann',
    familyName: 'Lee',
    formatted: 'Ann Lee',
    role: 'member',
  };
  const after = withChanges(before, {
    userName: 'ann.king@example.com',
    email: 'ann.king@example.com',
    familyName: 'King',
    formatted: null,
  });
  expect(after).toEqual({
    id: 'n1',
    userName: 'ann.king@example.com',
    active: true,
    givenName: 'Ann',
    familyName: 'King',
    role: 'member',
  });
  // Planning the same change again on it finds nothing to write.
  expect(
    diffUser(
      {
        userName: 'ann.king@example.com',
        email: 'ann.king@example.com',
        givenName: 'Ann',
        familyName: 'King',
      },
      after,
    ),
  ).toEqual({});
  expect(before.familyName).toBe('Lee'); // the facts it was given are left alone
});
