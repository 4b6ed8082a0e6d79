/** Issue 14: one Notion member, one JumpCloud user (the reconciliation's check, pure). */
import { findIdentityConflicts } from '../../activities/reconcile';
import type { NotionUser } from '../../api/notion';
import { mapUser } from '../../workflows/user-mapping';
import { scopeOf } from '../../workflows/user-plan';

const member = (id: string, userName: string): NotionUser => ({
  id,
  userName,
  active: true,
  emails: [userName],
  givenName: undefined,
  familyName: undefined,
  formatted: undefined,
  displayName: undefined,
  role: undefined,
});

function row(
  id: string,
  email: string,
  options: { linkedTo?: string; notion?: NotionUser; syncState?: string; inScope?: boolean } = {},
) {
  const user = { id, username: id, email, firstname: 'F', lastname: 'L', state: 'ACTIVATED' as const };
  const scope = scopeOf(user, options.inScope ?? true);
  return {
    id,
    username: id,
    scope,
    link: options.linkedTo
      ? { notionId: options.linkedTo, syncState: options.syncState ?? 'in-sync' }
      : undefined,
    mapping: scope.inScope ? mapUser(user, 'email') : undefined,
    notion: options.notion,
  };
}

test('issue 14: the user already linked keeps its member; another whose email folds onto it is a conflict', () => {
  const kate = member('n-kate', 'kate@example.com');
  const conflicts = findIdentityConflicts([
    row('kate', 'Kate@example.com', { linkedTo: 'n-kate', notion: kate }),
    row('kelvin', '\u212Aate@example.com', { notion: kate }),
  ]);
  expect([...conflicts.keys()]).toEqual(['kelvin']);
  expect(conflicts.get('kelvin')).toEqual({
    notionId: 'n-kate',
    userName: 'kate@example.com',
    with: ['kate'],
  });
});

test('issue 14: two new users with one identity (NFD and NFC) are both conflicts: neither is guessed', () => {
  const conflicts = findIdentityConflicts([
    row('nfc', 'jos\u00e9@example.com'),
    row('nfd', 'jose\u0301@example.com'),
  ]);
  expect([...conflicts.keys()].sort()).toEqual(['nfc', 'nfd']);
  expect(conflicts.get('nfc')?.notionId).toBe('(not in Notion yet)');
});

test('issue 14: two users linked to the same member (a past collision) are both conflicts', () => {
  const kate = member('n-kate', 'kate@example.com');
  const conflicts = findIdentityConflicts([
    row('a', 'kate@example.com', { linkedTo: 'n-kate', notion: kate }),
    row('b', 'KATE@example.com', { linkedTo: 'n-kate', notion: kate }),
  ]);
  expect([...conflicts.keys()].sort()).toEqual(['a', 'b']);
});

test('issue 14: a user deleted in JumpCloud holds no member: the returning employee takes it over', () => {
  const kate = member('n-kate', 'kate@example.com');
  const gone = { ...row('old', 'kate@example.com', { linkedTo: 'n-kate', syncState: 'deleted' }) };
  const conflicts = findIdentityConflicts([
    { ...gone, scope: { inScope: false as const, reason: 'deleted' as const }, mapping: undefined },
    row('new', 'kate@example.com', { notion: kate }),
  ]);
  expect(conflicts.size).toBe(0);
});

test('issue 14: users with different addresses are no conflict', () => {
  expect(findIdentityConflicts([row('a', 'ann@example.com'), row('b', 'bob@example.com')]).size).toBe(0);
});
