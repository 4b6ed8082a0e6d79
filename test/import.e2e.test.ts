/**
 * Importing Notion members into JumpCloud end to end (SPEC I1–I3): a real Temporal dev server, the
 * product's workers in this process, both emulators, the mail sink, and the `jc-notion` command as
 * an admin runs it. The tests form one story over one directory and run in order.
 */
import { createJumpCloudEmulator, type JumpCloudEmulator } from '../harness/emulators/jumpcloud';
import { createMailSink, type MailSink } from '../harness/emulators/mail';
import { createNotionEmulator, type NotionEmulator } from '../harness/emulators/notion';
import { workflowIds } from '../temporal/ids';
import { userStateQuery } from '../contracts/user';
import { runCli, spawnCli } from './support/cli';
import { TEST_SECRETS } from './support/config';
import { checkHistories, productSettings, startProductWorkers, type ProductWorkers } from './support/product';
import { startTestTemporal, type TestTemporal } from './support/temporal';

const APP = '64b7f0c2a1d3e4f5a6b7c8d9';
const CONNECTOR = 'import-e2e';
let temporal: TestTemporal;
let jumpcloud: JumpCloudEmulator;
let notion: NotionEmulator;
let mail: MailSink;
let product: ProductWorkers;
let env: NodeJS.ProcessEnv;

interface NotionState {
  users: { id: string; userName: string; active: boolean; givenName?: string; familyName?: string }[];
}
interface ListJson {
  total: number;
  new: number;
  imported: number;
  users: { status: 'New' | 'Imported'; email: string; name: string; jumpcloudUsername?: string }[];
}

const nUsers = () => (notion.state() as NotionState).users;
const jcUsers = () => jumpcloud.state().users;
const jcByEmail = (email: string) => jcUsers().filter((u) => u.email.toLowerCase() === email.toLowerCase());
const jcGroup = (name: string) => jumpcloud.state().groups.find((g) => g.name === name)!;

async function cli(...args: string[]) {
  const result = await runCli(args, env);
  if (result.code !== 0)
    throw new Error(`jc-notion ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
  return result;
}

/** Runs the command and notes when each stdout line arrived (ms after the start). */
function runCliTimed(
  args: string[],
): Promise<{ code: number | null; lines: { at: number; text: string }[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const child = spawnCli(args, env);
    const lines: { at: number; text: string }[] = [];
    let pending = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      const parts = (pending + chunk.toString()).split('\n');
      pending = parts.pop()!;
      for (const text of parts) lines.push({ at: Date.now() - start, text });
    });
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, lines, stderr }));
  });
}

const FIVE = [
  {
    userName: 'ada.lovelace@example.com',
    givenName: 'Ada',
    familyName: 'Lovelace',
    formatted: 'Ada Lovelace',
  },
  { userName: 'mary.smith@example.com', formatted: 'Mary Ann Smith' },
  { userName: 'ludwig@example.com', formatted: 'Ludwig van Beethoven' },
  { userName: 'zoe.delacruz@example.com', givenName: 'Zoë', familyName: 'de la Cruz' },
  { userName: 'ann.lee@example.com', formatted: 'Lee, Ann' },
];
const BULK = Array.from({ length: 150 }, (_, i) => ({
  userName: `bulk${String(i).padStart(3, '0')}@example.com`,
  givenName: 'Bulk',
  familyName: `Member ${i}`,
}));

beforeAll(async () => {
  temporal = await startTestTemporal();
  jumpcloud = createJumpCloudEmulator({ apiKey: TEST_SECRETS.JUMPCLOUD_API_KEY, notionAppId: APP });
  notion = createNotionEmulator({ token: TEST_SECRETS.NOTION_SCIM_TOKEN, verifiedDomains: ['example.com'] });
  mail = createMailSink();
  const jcOrigin = await jumpcloud.listen();
  const notionOrigin = await notion.listen();
  const { smtpUrl } = await mail.listen();

  jumpcloud.seed({
    users: [
      // The same person as Notion's imported.case@example.com: emails compare case-insensitively.
      { username: 'casey', email: 'Imported.Case@Example.com', firstname: 'Casey', lastname: 'Case' },
      // Holds the username Notion's ann@example.com would get first.
      { username: 'ann', email: 'ann@other.org', firstname: 'Ann', lastname: 'Other' },
    ],
    groups: [
      { name: 'Notion Users', members: [] },
      { name: 'Outsiders', members: [] },
    ],
    bindings: [{ groups: ['Notion Users'] }],
  });
  notion.seed({
    users: [
      {
        userName: 'imported.case@example.com',
        givenName: 'Casey',
        familyName: 'Case',
        formatted: 'Casey Case',
      },
      ...FIVE,
      { userName: 'ann@example.com', givenName: 'Ann', familyName: 'Newcomer', formatted: 'Ann Newcomer' },
      { userName: 'grace@example.com', givenName: 'Grace', familyName: 'Hopper', formatted: 'Grace Hopper' },
      { userName: 'gone@example.com', formatted: 'Removed Member', active: false },
      ...BULK,
    ],
  });

  const settings = productSettings(
    temporal,
    CONNECTOR,
    { jumpcloud: jcOrigin, notion: notionOrigin },
    {
      NOTION_PROTECTED_USERS: 'owner@example.com',
      NOTIFY_SMTP_URL: smtpUrl,
      NOTIFY_EMAIL: 'identity-admins@example.com',
      // The change feed stays quiet: this story is about import.
      POLL_INTERVAL: '1h',
    },
  );

  product = await startProductWorkers(temporal, settings);
  env = product.env;
});

afterAll(async () => {
  await product?.stop();
  await jumpcloud?.close();
  await notion?.close();
  await mail?.close();
  await temporal?.stop();
});

test('I1: import list shows every active Notion member as New or Imported with name and email; an email differing only in case is Imported; --new-first puts New first', async () => {
  const listed = JSON.parse((await cli('import', 'list', '--json')).stdout) as ListJson;
  const active = nUsers().filter((u) => u.active);
  expect(listed.total).toBe(active.length);
  expect(listed.users.map((u) => u.email).sort()).toEqual(active.map((u) => u.userName).sort());
  expect(listed.users.find((u) => u.email === 'gone@example.com')).toBeUndefined();
  expect(listed.users.find((u) => u.email === 'imported.case@example.com')).toEqual({
    status: 'Imported',
    email: 'imported.case@example.com',
    name: 'Casey Case',
    jumpcloudUsername: 'casey',
  });
  expect(listed.users.find((u) => u.email === 'ann@example.com')).toEqual({
    status: 'New',
    email: 'ann@example.com',
    name: 'Ann Newcomer',
  });
  expect(listed.users.find((u) => u.email === 'mary.smith@example.com')).toMatchObject({
    status: 'New',
    name: 'Mary Ann Smith',
  });
  expect(listed).toMatchObject({ new: active.length - 1, imported: 1 });

  // Human output: by email (the Imported member sits among the others) …
  const plain = (await cli('import', 'list')).stdout.split('\n');
  const rowOf = (lines: string[], email: string) => lines.findIndex((l) => l.includes(` ${email} `));
  expect(rowOf(plain, 'imported.case@example.com')).toBeLessThan(rowOf(plain, 'mary.smith@example.com'));
  expect(plain.find((l) => l.includes('imported.case@example.com'))).toMatch(
    /^Imported\s+imported\.case@example\.com\s+Casey Case\s+\(JumpCloud: casey\)$/,
  );
  expect(plain.find((l) => l.includes('ann@example.com'))).toMatch(/^New\s+ann@example\.com\s+Ann Newcomer$/);
  // … and with --new-first every New member comes before the Imported one.
  const first = (await cli('import', 'list', '--new-first')).stdout.split('\n');
  const statuses = first.filter((l) => /^(New|Imported) /.test(l)).map((l) => l.split(' ')[0]);
  expect(statuses.lastIndexOf('New')).toBeLessThan(statuses.indexOf('Imported'));
  expect(statuses.filter((s) => s === 'Imported')).toHaveLength(1);
});

test('I2: import run is refused before activation; nothing is created', async () => {
  const before = jcUsers().length;
  const refused = await runCli(['import', 'run', 'ada.lovelace@example.com'], env);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toMatch(
    /import refused: the connector is not activated: run `jc-notion activate` first/,
  );
  expect(refused.stderr.trim().split('\n')).toHaveLength(1);
  expect(jcUsers()).toHaveLength(before);
  await cli('activate', '--approve-creations');
});

test('I3: --group with a group not bound to the application is refused, with the reason, before anything is created', async () => {
  jumpcloud.control.clearRequests();
  const before = jcUsers().length;
  const outsiders = jcGroup('Outsiders');
  const refused = await runCli(
    ['import', 'run', ...FIVE.map((u) => u.userName), '--group', outsiders.id],
    env,
  );
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toMatch(
    new RegExp(
      `group "Outsiders" \\(${outsiders.id}\\) is not bound to the Notion application .*nothing was imported`,
    ),
  );
  expect(refused.stderr).toContain(`"Notion Users" (${jcGroup('Notion Users').id})`);
  const unknown = await runCli(['import', 'run', 'ada.lovelace@example.com', '--group', 'f'.repeat(24)], env);
  expect(unknown.code).not.toBe(0);
  expect(unknown.stderr).toMatch(/no JumpCloud user group has the id f{24}/);
  expect(jcUsers()).toHaveLength(before);
  expect(jumpcloud.control.requests().byRoute['POST /api/systemusers']).toBeUndefined();
});

test('I2: importing 5 users prints 5 results as each is done and creates exactly 5 JumpCloud users (names from Notion, usernames from the email); I3: it warns they are not managed yet', async () => {
  const before = jcUsers().length;
  // One create is slow: the other results must be printed while it is still under way.
  jumpcloud.control.setFaults({
    rules: [{ route: 'POST /api/systemusers', count: 1, action: { type: 'latency', ms: 2500 } }],
  });
  const result = await runCliTimed(['import', 'run', ...FIVE.map((u) => u.userName)]);
  jumpcloud.control.setFaults({});
  expect(result.code).toBe(0);
  const timed = result.lines.filter((l) => /^\s+(created|exists|failed)\s+\S+@/.test(l.text));
  const lines = timed.map((l) => l.text);
  expect(lines).toHaveLength(5);
  for (const { userName } of FIVE) expect(lines.filter((l) => l.includes(` ${userName} → `))).toHaveLength(1);
  expect(timed[4]!.at - timed[0]!.at).toBeGreaterThan(1500);
  expect(result.stderr).toMatch(/warning: 5 imported user\(s\) are not managed by the sync/);
  expect(result.stderr).toMatch(/--group <group id>/);

  expect(jcUsers()).toHaveLength(before + 5);
  const created = (email: string) => {
    const [user, ...more] = jcByEmail(email);
    expect(more).toHaveLength(0);
    return { username: user!.username, firstname: user!.firstname, lastname: user!.lastname };
  };
  expect(created('ada.lovelace@example.com')).toEqual({
    username: 'ada.lovelace',
    firstname: 'Ada',
    lastname: 'Lovelace',
  });
  expect(created('mary.smith@example.com')).toEqual({
    username: 'mary.smith',
    firstname: 'Mary Ann',
    lastname: 'Smith',
  });
  expect(created('ludwig@example.com')).toEqual({
    username: 'ludwig',
    firstname: 'Ludwig',
    lastname: 'van Beethoven',
  });
  expect(created('zoe.delacruz@example.com')).toEqual({
    username: 'zoe.delacruz',
    firstname: 'Zoë',
    lastname: 'de la Cruz',
  });
  expect(created('ann.lee@example.com')).toEqual({ username: 'ann.lee', firstname: 'Ann', lastname: 'Lee' });
  expect(lines.find((l) => l.includes('ada.lovelace@example.com'))).toMatch(
    new RegExp(
      `created\\s+ada\\.lovelace@example\\.com → ada\\.lovelace \\(${jcByEmail('ada.lovelace@example.com')[0]!._id}\\)`,
    ),
  );
});

test('I2: re-running is harmless: already imported users (case-insensitive email) are reported, not duplicated', async () => {
  jumpcloud.control.clearRequests();
  const before = jcUsers().length;
  const result = await cli(
    'import',
    'run',
    ...FIVE.map((u) => u.userName),
    'IMPORTED.case@example.com',
    '--json',
  );
  const output = JSON.parse(result.stdout) as {
    created: number;
    existing: number;
    failed: number;
    results: { email: string; outcome: string; username?: string }[];
  };
  expect(output).toMatchObject({ created: 0, existing: 6, failed: 0 });
  expect(output.results.find((r) => r.email === 'imported.case@example.com')).toMatchObject({
    outcome: 'existing',
    username: 'casey',
  });
  expect(jcUsers()).toHaveLength(before);
  expect(jumpcloud.control.requests().byRoute['POST /api/systemusers']).toBeUndefined();
});

test('I2: a username collision is resolved: the next free candidate is taken and the other user is untouched', async () => {
  jumpcloud.control.clearRequests();
  const result = await cli('import', 'run', 'ann@example.com');
  expect(result.stdout).toMatch(/created\s+ann@example\.com → ann2 \(/);
  expect(jcByEmail('ann@example.com')).toMatchObject([
    { username: 'ann2', firstname: 'Ann', lastname: 'Newcomer' },
  ]);
  expect(jcByEmail('ann@other.org')).toMatchObject([{ username: 'ann', lastname: 'Other' }]);
  // JumpCloud refused `ann` (taken), then accepted `ann2`.
  expect(jumpcloud.control.requests().byRoute['POST /api/systemusers']).toBe(2);
});

test('I3: --group with a bound group adds the imported user; the sync then manages it, linking its Notion user instead of creating another', async () => {
  const bound = jcGroup('Notion Users');
  const result = await cli('import', 'run', 'grace@example.com', '--group', bound.id);
  expect(result.stdout).toMatch(/joining group "Notion Users"/);
  expect(result.stdout).toMatch(/created\s+grace@example\.com → grace \(.*\), added to the group/);
  expect(result.stderr).not.toMatch(/warning/);
  const [grace] = jcByEmail('grace@example.com');
  expect(jcGroup('Notion Users').members).toEqual([{ id: grace!._id, type: 'user' }]);

  const seeded = nUsers().find((u) => u.userName === 'grace@example.com')!;
  notion.control.clearRequests();
  await cli('sync');
  expect(nUsers().filter((u) => u.userName === 'grace@example.com')).toEqual([
    expect.objectContaining({ id: seeded.id, active: true, givenName: 'Grace', familyName: 'Hopper' }),
  ]);
  // Linked, not created: Notion received no POST /Users (and nothing needed changing).
  const writes = Object.keys(notion.control.requests().byRoute).filter((route) => !route.startsWith('GET '));
  expect(writes).toEqual([]);
  const state = await temporal.client.workflow
    .getHandle(workflowIds.user(CONNECTOR, grace!._id))
    .query(userStateQuery);
  expect(state).toMatchObject({ linked: true, status: 'in-sync', notionId: seeded.id });
});

test('I2: importing 150 or more runs in the background: the command prints the workflow id and returns; a completion mail reports the counts', async () => {
  mail.clear();
  const before = jcUsers().length;
  // Slow creates: the import outlives the command, which does not wait for it.
  jumpcloud.control.setFaults({
    rules: [{ route: 'POST /api/systemusers', action: { type: 'latency', ms: 150 } }],
  });
  const result = await cli('import', 'run', '--all-new', '--json');
  const started = JSON.parse(result.stdout) as { workflowId: string; background: boolean; total: number };
  const handle = temporal.client.workflow.getHandle(started.workflowId);
  expect((await handle.describe()).status.name).toBe('RUNNING');
  // The New members now: the 150 bulk ones and the workspace owner.
  expect(started).toMatchObject({ background: true, total: 151 });
  expect(started.workflowId).toMatch(new RegExp(`^jcn/${CONNECTOR}/import/`));

  const message = await mail.waitFor((m) => m.subject.includes('finished'), 120_000);
  jumpcloud.control.setFaults({});
  expect(message.to).toEqual(['identity-admins@example.com']);
  expect(message.subject).toMatch(/import .* finished: 151 created, 0 already imported, 0 failed/);
  expect(message.text).toContain(started.workflowId);
  expect(message.text).toMatch(/Created in JumpCloud: +151\n/);
  expect(message.text).toMatch(/Failed: +0\n/);
  expect(message.text).toMatch(/Warning: 151 imported user\(s\) are not managed by the sync/);

  expect(jcUsers()).toHaveLength(before + 151);
  for (const { userName } of BULK) expect(jcByEmail(userName)).toHaveLength(1);
  expect(jcByEmail('bulk007@example.com')[0]).toMatchObject({
    username: 'bulk007',
    firstname: 'Bulk',
    lastname: 'Member 7',
  });
  const final = await handle.result();
  expect(final).toMatchObject({
    phase: 'done',
    counts: { created: 151, failed: 0 },
    batches: { total: 2, done: 2 },
  });

  const listed = JSON.parse((await cli('import', 'list', '--json')).stdout) as ListJson;
  expect(listed).toMatchObject({ new: 0, imported: listed.total });
});

test('§7/§2: every workflow history of this story replays deterministically and holds no secret', async () => {
  expect(await checkHistories(temporal, CONNECTOR)).toBeGreaterThan(5);
});
