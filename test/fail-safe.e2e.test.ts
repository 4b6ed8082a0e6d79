/**
 * Fail safe (issue 14), end to end: a real Temporal dev server, the product's workers in this
 * process, both emulators with faults from their control plane, and the `jc-notion` command. Each
 * scenario is a read that is partial, wrong or unconfirmed, and each ends with nobody deactivated
 * and no group deleted that should not be. The tests form one story and run in order.
 */
import { createJumpCloudEmulator, type JumpCloudEmulator } from '../harness/emulators/jumpcloud';
import type { FaultRule } from '../harness/emulators/common/control';
import { createNotionEmulator, type NotionEmulator } from '../harness/emulators/notion';
import { groupStateQuery } from '../contracts/group';
import { EntityGateway } from '../temporal/entities';
import { workflowIds } from '../temporal/ids';
import { runCli } from './support/cli';
import { TEST_SECRETS } from './support/config';
import { checkHistories, productSettings, startProductWorkers, type ProductWorkers } from './support/product';
import { startTestTemporal, type TestTemporal } from './support/temporal';

const APP = '64b7f0c2a1d3e4f5a6b7c8d9';
const CONNECTOR = 'fail-safe-e2e';
const PEOPLE = 500;
const TEAMS = 20;
let temporal: TestTemporal;
let jumpcloud: JumpCloudEmulator;
let notion: NotionEmulator;
let product: ProductWorkers;
let env: NodeJS.ProcessEnv;
let gateway: EntityGateway;
let settings: Record<string, string>;

interface NotionState {
  users: { id: string; userName: string; active: boolean; givenName?: string }[];
  groups: { id: string; displayName: string; members: string[] }[];
}
const nState = () => notion.state() as NotionState;
/** The active members provisioned from JumpCloud (the Notion token owner aside). */
const activeMembers = () =>
  nState()
    .users.filter((u) => u.active && /^p\d+@/.test(u.userName))
    .map((u) => u.userName);
const nUser = (email: string) => nState().users.find((u) => u.userName === email);
const jcGroups = () => jumpcloud.state().groups;
/** Deactivations and group deletions Notion has received since the requests were last cleared. */
const destructive = () => {
  const byRoute = notion.control.requests().byRoute;
  return {
    patches: byRoute['PATCH /scim/v2/Users/{id}'] ?? 0,
    groupDeletes: byRoute['DELETE /scim/v2/Groups/{id}'] ?? 0,
  };
};

async function cli(...args: string[]) {
  const result = await runCli(args, env);
  if (result.code !== 0)
    throw new Error(`jc-notion ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
  return result;
}

async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function count(syncState: string, kind: 'user' | 'group' = 'user'): Promise<number> {
  let n = 0;
  for await (const entity of gateway.find({ connectorId: CONNECTOR, kind, syncState })) if (entity) n += 1;
  return n;
}

const person = (i: number) => ({
  username: `p${String(i).padStart(3, '0')}`,
  email: `p${String(i).padStart(3, '0')}@example.com`,
  firstname: 'Person',
  lastname: String(i),
});

beforeAll(async () => {
  temporal = await startTestTemporal();
  jumpcloud = createJumpCloudEmulator({ apiKey: TEST_SECRETS.JUMPCLOUD_API_KEY, notionAppId: APP });
  notion = createNotionEmulator({ token: TEST_SECRETS.NOTION_SCIM_TOKEN });
  const jcOrigin = await jumpcloud.listen();
  const notionOrigin = await notion.listen();
  const people = Array.from({ length: PEOPLE }, (_, i) => person(i));
  const teams = Array.from({ length: TEAMS }, (_, t) => ({
    name: `Team ${String(t + 1).padStart(2, '0')}`,
    members: people.slice(t * 5, t * 5 + 5).map((p) => p.username),
  }));
  jumpcloud.seed({
    users: people,
    groups: [{ name: 'Everyone', members: people.map((p) => p.username) }, ...teams],
    bindings: [{ groups: ['Everyone', ...teams.map((t) => t.name)] }],
  });
  settings = productSettings(
    temporal,
    CONNECTOR,
    { jumpcloud: jcOrigin, notion: notionOrigin },
    {
      // The change feed stays quiet: each scenario is about what a reconciliation reads.
      POLL_INTERVAL: '1h',
      GROUP_DELETION_CONFIRM_DELAY: '3s',
      NOTION_PROTECTED_USERS: 'boss@example.com',
    },
  );
  product = await startProductWorkers(temporal, settings);
  env = product.env;
  gateway = new EntityGateway(temporal.client);
  await cli('activate', '--approve-creations');
  await cli('sync');
  expect(activeMembers()).toHaveLength(PEOPLE);
});

afterAll(async () => {
  await product?.stop();
  await jumpcloud?.close();
  await notion?.close();
  await temporal?.stop();
});

afterEach(() => {
  jumpcloud.control.setFaults({});
});

test('issue 14: a user deleted in JumpCloud while a reconciliation pages through 500 users is deactivated, and nobody else', async () => {
  const leaver = [...jumpcloud.state().users].sort((a, b) => a._id.localeCompare(b._id))[0]!;
  // Slow pages; the first user goes once the first page has been served, which shifts every
  // later page by one under offset paging.
  const slow = (route: string): FaultRule => ({ route, rate: 1, action: { type: 'latency', ms: 250 } });
  jumpcloud.control.setFaults({
    rules: [slow('GET /api/systemusers'), slow('GET /api/v2/applications/{id}/users')],
  });
  jumpcloud.control.clearRequests();
  notion.control.clearRequests();
  const sync = cli('sync');
  await eventually(
    'the first page',
    () => (jumpcloud.control.requests().byRoute['GET /api/systemusers'] ?? 0) >= 1,
  );
  jumpcloud.deleteUser(leaver._id);
  await sync;
  // `sync` has followed every user it handed over: nobody but the leaver was deactivated...
  expect(activeMembers().filter((email) => email !== leaver.email)).toHaveLength(PEOPLE - 1);
  // ...and the leaver was, on the reconciliation's listing read whole again.
  await eventually('the leaver deactivated', () => nUser(leaver.email)?.active === false);
  expect(activeMembers()).toHaveLength(PEOPLE - 1);
  expect(destructive().patches).toBe(1);
  expect(await count('held')).toBe(0);
});

test('issue 14: every JumpCloud listing cut short without its total during a reconciliation deactivates and holds nobody', async () => {
  const cut = (route: string): FaultRule => ({
    route,
    rate: 1,
    action: { type: 'truncate', keep: 30, dropTotal: true },
  });
  jumpcloud.control.setFaults({
    rules: [
      cut('GET /api/systemusers'),
      cut('GET /api/v2/applications/{id}/users'),
      cut('GET /api/v2/applications/{id}/associations'),
      cut('GET /api/v2/usergroups/{id}/membership'),
      cut('GET /api/v2/users/{id}/memberof'),
    ],
  });
  notion.control.clearRequests();
  const result = await cli('sync');
  expect(`${result.stdout}${result.stderr}`).toMatch(/did not add up|incomplete/);
  jumpcloud.control.setFaults({});
  expect(destructive()).toEqual({ patches: 0, groupDeletes: 0 });
  expect(activeMembers()).toHaveLength(PEOPLE - 1);
  expect(await count('held')).toBe(0);
  const status = await cli('status');
  expect(status.stdout).toMatch(
    /last sync read incomplete JumpCloud listings \(.*without a total.*\): \d+ user\(s\) missing from them left as they are/,
  );
  // Read whole again, the directory is as it was: nothing to do.
  await cli('sync');
  expect(destructive()).toEqual({ patches: 0, groupDeletes: 0 });
});

test('issue 14 (G7): the group endpoint answering 404 once, then normally again, deletes no group', async () => {
  await cli('groups', 'enable');
  await cli('sync');
  await eventually('every group in Notion', () => nState().groups.length === TEAMS + 1);
  notion.control.clearRequests();
  jumpcloud.control.setFaults({
    rules: [
      {
        route: 'GET /api/v2/usergroups/{id}',
        rate: 1,
        count: 1,
        action: { type: 'status', status: 404, detail: 'Not Found' },
      },
    ],
  });
  await cli('sync');
  expect(jumpcloud.control.requests().byStatus['404']).toBeGreaterThanOrEqual(1);
  // The group answered 404 is read again after GROUP_DELETION_CONFIRM_DELAY, found, and in sync.
  await eventually('every group in sync again', async () => (await count('in-sync', 'group')) === TEAMS + 1);
  expect(await count('missing', 'group')).toBe(0);
  expect(nState().groups).toHaveLength(TEAMS + 1);
  expect(destructive()).toEqual({ patches: 0, groupDeletes: 0 });
});

test('issue 14 (G7): a wrong JUMPCLOUD_ORG_ID (every read answers 404) with 20 linked groups deletes none of them and says why', async () => {
  notion.control.clearRequests();
  // What JumpCloud answers for another organisation's id: 404 on every route.
  jumpcloud.control.setFaults({
    rules: [
      { rate: 1, action: { type: 'status', status: 404, detail: 'Not Found: organization not found' } },
    ],
  });
  const sync = await runCli(['sync'], env);
  expect(sync.code).not.toBe(0);
  // Every linked group hears of it, as from the change feed or a member's provisioning.
  const teams = jcGroups().filter((g) => g.name.startsWith('Team '));
  expect(teams).toHaveLength(TEAMS);
  for (const team of teams)
    await gateway.signalGroup(CONNECTOR, team.id, {
      reason: 'test: a wrong organisation',
      groupManagement: true,
    });
  await eventually('every team to report the wrong organisation', async () => {
    const states = await Promise.all(
      teams.map((team) =>
        temporal.client.workflow.getHandle(workflowIds.group(CONNECTOR, team.id)).query(groupStateQuery),
      ),
    );
    return states.every((state) => state.status === 'error' && state.problem?.code === 'ApplicationNotFound');
  });
  const state = await temporal.client.workflow
    .getHandle(workflowIds.group(CONNECTOR, teams[0]!.id))
    .query(groupStateQuery);
  expect(state.problem?.message).toMatch(
    /JUMPCLOUD_ORG_ID or JUMPCLOUD_APP_ID is wrong.*nothing is taken as deleted/,
  );
  expect(nState().groups).toHaveLength(TEAMS + 1);
  expect(destructive()).toEqual({ patches: 0, groupDeletes: 0 });
  expect(activeMembers()).toHaveLength(PEOPLE - 1);

  // The organisation fixed, the next reconciliation finds everything where it was.
  jumpcloud.control.setFaults({});
  await cli('sync');
  await eventually('every group in sync again', async () => (await count('in-sync', 'group')) === TEAMS + 1);
  expect(destructive()).toEqual({ patches: 0, groupDeletes: 0 });
});

test('issue 14 (G7): a group deleted in JumpCloud is still deleted in Notion, once its absence is confirmed', async () => {
  const team = jcGroups().find((g) => g.name === 'Team 20')!;
  jumpcloud.deleteGroup(team.id);
  notion.control.clearRequests();
  await cli('sync');
  await eventually(
    'Team 20 deleted in Notion',
    () => !nState().groups.some((g) => g.displayName === 'Team 20'),
  );
  expect(destructive().groupDeletes).toBe(1);
  // Its members are still in scope through Everyone.
  expect(activeMembers()).toHaveLength(PEOPLE - 1);
});

test('issue 14: two JumpCloud users whose emails differ only by case folding: the second is a conflict, the first keeps its member untouched', async () => {
  const kate = jumpcloud.createUser({
    username: 'kate',
    email: 'Kate@example.com',
    firstname: 'Kate',
    lastname: 'Ash',
  });
  jumpcloud.bind({ type: 'user', id: kate._id });
  await cli('sync');
  const member = nUser('kate@example.com');
  expect(member).toMatchObject({ active: true, givenName: 'Kate' });
  // The same address spelled with U+212A KELVIN SIGN: JumpCloud keeps it as another user.
  const kelvin = jumpcloud.createUser({
    username: 'kelvin',
    email: '\u212Aate@example.com',
    firstname: 'Kelvin',
    lastname: 'Sign',
  });
  jumpcloud.bind({ type: 'user', id: kelvin._id });
  notion.control.clearRequests();
  // Twice: a user that took the member would rename it back and forth on every reconciliation.
  // (`sync` exits non-zero: one user could not be provisioned.)
  await runCli(['sync'], env);
  await runCli(['sync'], env);
  expect(nUser('kate@example.com')).toMatchObject({ id: member!.id, active: true, givenName: 'Kate' });
  expect(nState().users.filter((u) => u.userName === 'kate@example.com')).toHaveLength(1);
  expect(destructive().patches).toBe(0);
  const status = await runCli(['status'], env);
  expect(status.stdout).toMatch(
    /kelvin: IdentityConflict: the Notion member kate@example\.com .* also claimed by JumpCloud user\(s\) kate/,
  );
});

test('issue 14: an address in NFD in JumpCloud matches the NFC member already in Notion: linked, not created twice', async () => {
  notion.seed({ users: [{ userName: 'jos\u00e9@example.com', formatted: 'José Existing' }] });
  const jose = jumpcloud.createUser({
    username: 'jose',
    email: 'Jose\u0301@example.com',
    firstname: 'José',
    lastname: 'Núñez',
  });
  jumpcloud.bind({ type: 'user', id: jose._id });
  notion.control.clearRequests();
  await runCli(['sync'], env);
  const joses = nState().users.filter((u) => u.userName.normalize('NFC') === 'jos\u00e9@example.com');
  expect(joses).toHaveLength(1);
  expect(notion.control.requests().byRoute['POST /scim/v2/Users'] ?? 0).toBe(0);
  await eventually('José linked and named', () => nUser('jos\u00e9@example.com')?.givenName === 'José');
});

test('issue 14 (U6): a protected user whose email changes keeps its protection: the email stays until the new one is listed, and it is never deactivated', async () => {
  const boss = jumpcloud.createUser({
    username: 'boss',
    email: 'boss@example.com',
    firstname: 'Big',
    lastname: 'Boss',
  });
  jumpcloud.bind({ type: 'user', id: boss._id });
  await runCli(['sync'], env);
  const member = nUser('boss@example.com')!;
  expect(member.active).toBe(true);
  // Step one of the bypass: the email changes, which would move the member out of the list.
  jumpcloud.updateUser(boss._id, { email: 'chief@example.com' });
  await runCli(['sync'], env);
  expect(nState().users.find((u) => u.id === member.id)).toMatchObject({
    userName: 'boss@example.com',
    active: true,
  });
  // Step two: the user leaves the application's scope. Still a member.
  jumpcloud.unbind({ type: 'user', id: boss._id });
  notion.control.clearRequests();
  await runCli(['sync'], env);
  expect(nState().users.find((u) => u.id === member.id)).toMatchObject({
    userName: 'boss@example.com',
    active: true,
  });
  expect(destructive().patches).toBe(0);
});

test('issue 14 (U6): a user protected after its deactivation was held, then approved, stays a member', async () => {
  const leavers = Array.from({ length: 30 }, (_, i) => person(300 + i).username);
  const byName = new Map(jumpcloud.state().users.map((u) => [u.username, u._id]));
  for (const username of leavers) jumpcloud.suspendUser(byName.get(username)!);
  await runCli(['sync'], env);
  await eventually('30 deactivations held', async () => (await count('held')) === 30);
  // The admin protects one of them: the workers restart with the new setting.
  await product.stop();
  settings = { ...settings, NOTION_PROTECTED_USERS: 'boss@example.com,p300@example.com' };
  product = await startProductWorkers(temporal, settings);
  env = product.env;
  notion.control.clearRequests();
  await cli('approve', '--expect', '30');
  await eventually('the 29 others deactivated', () =>
    leavers.slice(1).every((username) => nUser(`${username}@example.com`)?.active === false),
  );
  expect(nUser('p300@example.com')?.active).toBe(true);
  await eventually('p300 recorded as protected', async () => (await count('protected')) >= 1);
});

test('§7: every workflow history of this story replays, and holds no secret', async () => {
  expect(await checkHistories(temporal, CONNECTOR)).toBeGreaterThan(PEOPLE);
});
