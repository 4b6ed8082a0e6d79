/**
 * Issue 19: the wording of the Temporal UI's summaries and details, and what they may say of a
 * person (UI_SUMMARIES_PII).
 */
import type { UserState } from '../../contracts/user';
import {
  groupDetails,
  groupLabel,
  groupWorkflowSummary,
  reconcileDetails,
  STARTS,
  STEPS,
  userDetails,
  userLabel,
  userWorkflowSummary,
} from '../../workflows/summaries';

const ID = '63edd09913c2339d0b98a1ec';
const personal = { personal: true };
const ids = { personal: false };
const kate: UserState = {
  linked: true,
  status: 'held',
  notionId: 'n-1',
  email: 'kate@example.com',
  username: 'kate.lee',
  held: { reason: 'unbound', since: '2026-12-06T06:00:00Z' },
  deletedInJumpCloud: false,
  lastSyncAt: '2026-12-06T06:00:00Z',
};

test('issue 19: summaries name the user by email when allowed, by JumpCloud id otherwise', () => {
  expect(userLabel(personal, ID, { email: 'kate@example.com' })).toBe('kate@example.com');
  expect(userLabel(personal, ID, { username: 'kate.lee' })).toBe('kate.lee');
  expect(userLabel(personal, ID)).toBe(`JumpCloud user ${ID}`);
  expect(userLabel(ids, ID, { email: 'kate@example.com' })).toBe(`JumpCloud user ${ID}`);
  expect(userWorkflowSummary(personal, ID, { email: 'kate@example.com', displayName: 'Kate Lee' })).toBe(
    'User kate@example.com (Kate Lee)',
  );
  expect(userWorkflowSummary(ids, ID, { email: 'kate@example.com', displayName: 'Kate Lee' })).toBe(
    `User ${ID} (JumpCloud id)`,
  );
  expect(groupLabel(personal, ID, 'Engineering')).toBe('group "Engineering"');
  expect(groupLabel(ids, ID, 'Engineering')).toBe(`JumpCloud group ${ID}`);
  expect(groupWorkflowSummary(ids, ID, 'Engineering')).toBe(`Group ${ID} (JumpCloud id)`);
});

test("issue 19: a user's current details give its links and its state with the reason; by ids only they name nobody", () => {
  const shown = userDetails(personal, ID, kate);
  expect(shown).toContain('kate@example.com');
  expect(shown).toContain('Username: kate.lee');
  expect(shown).toContain(`JumpCloud id: ${ID}`);
  expect(shown).toContain('Notion id: n-1');
  expect(shown).toContain(
    '**State:** held for an admin (jc-notion approve) — its deactivation (unbound from the Notion app) since 2026-12-06T06:00:00Z',
  );
  const hidden = userDetails(ids, ID, kate);
  expect(hidden).not.toMatch(/kate/i);
  expect(hidden).toContain('Notion id: n-1');
  expect(userDetails(ids, ID, { linked: false, status: 'pending', deletedInJumpCloud: false })).toContain(
    'Notion id: (not linked)',
  );
  const group = groupDetails(ids, ID, {
    name: 'Secret Project',
    status: 'in-sync',
    lastMemberIds: ['a', 'b'],
  });
  expect(group).not.toContain('Secret');
  expect(group).toContain('Members (JumpCloud): 2');
});

test("issue 19: a reconciliation's current details give its phase and what it handed over", () => {
  const shown = reconcileDetails({ reconcileId: 'r1', dryRun: false }, { phase: 'users', dispatched: 12 });
  expect(shown).toContain('**Reconciliation r1**');
  expect(shown).toContain('**Phase:** waiting for the users handed over to settle');
  expect(shown).toContain('Users handed over: 12');
  expect(reconcileDetails({ reconcileId: 'r2', dryRun: true }, { phase: 'reading' })).toContain('(dry run)');
});

test('issue 19: each step says what it does to whom, by the labels it is given; by ids only they name nobody', () => {
  const kateLabel = userLabel(personal, ID, { email: 'kate@example.com' });
  expect(STEPS.user.create(kateLabel)).toBe('create kate@example.com in Notion');
  expect(STEPS.user.deactivate(kateLabel, 'unbound')).toBe(
    'deactivate kate@example.com in Notion (active=false): unbound from the Notion app',
  );
  expect(STEPS.user.update(kateLabel, ['userName', 'name'])).toBe(
    'update kate@example.com in Notion: userName, name',
  );
  const hidden = userLabel(ids, ID, { email: 'kate@example.com', username: 'kate.lee' });
  const userSteps = [
    STEPS.user.readJumpCloud(hidden),
    STEPS.user.readNotion(hidden, 'n-1'),
    STEPS.user.create(hidden),
    STEPS.user.deactivate(hidden, 'suspended'),
    STEPS.user.askDeactivation(hidden),
  ];
  for (const summary of userSteps) {
    expect(summary).not.toMatch(/kate|@/i);
    expect(summary).toContain(`JumpCloud user ${ID}`);
  }
  expect(STEPS.user.readNotion(hidden, 'n-1')).toBe(`read JumpCloud user ${ID} from Notion (linked n-1)`);

  const secret = groupLabel(ids, ID, 'Secret Project');
  expect(STEPS.group.addMembers(secret, 1)).toBe(`add 1 member to JumpCloud group ${ID} in Notion`);
  expect(STEPS.group.removeMembers(secret, 3)).toBe(`remove 3 members from JumpCloud group ${ID} in Notion`);
  expect(STEPS.group.askChange(secret, 'deletion')).not.toContain('Secret');
  expect(STEPS.group.create(groupLabel(personal, ID, 'Engineering'))).toBe(
    'create group "Engineering" in Notion',
  );

  expect(STEPS.reconcile.awaitSettled('user', 12, 5)).toBe(
    'wait for the 12 user(s) handed over to settle (5 so far)',
  );
  expect(STEPS.reconcile.readUsers(true)).toContain('(dry run: plan only)');
  expect(STEPS.connector.decideHeld('approve')).toBe('approve the held changes (C6: jc-notion approve)');
  expect(STEPS.import.createUser(2)).toBe(
    'create the JumpCloud user for the Notion member (I2; username try 2)',
  );
  expect(STARTS.reconcile.summary('r1', true)).toBe('Reconciliation r1 (dry run: plans, writes nothing)');
  expect(STARTS.connector.summary('acme')).toBe('Connector acme: JumpCloud → Notion');
});
