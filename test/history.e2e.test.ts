/**
 * Issue 19 end to end: `jc-notion find` and `jc-notion history` as an admin runs them, on a real
 * Temporal dev server with the product's workers and both emulators. One story: a user created,
 * renamed, unbound and re-bound (a sync between each), a group, a user whose workflow continued
 * as new and was terminated, and the errors for an ambiguous and an unknown term. With
 * `RECORD_CLI_OUTPUT=<dir>` the outputs the README shows are written there.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createJumpCloudEmulator, type JumpCloudEmulator } from '../harness/emulators/jumpcloud';
import { createNotionEmulator, type NotionEmulator } from '../harness/emulators/notion';
import { WHAT_WIDTH, type EntityHistory, type HistoryStep } from '../client/commands/history';
import { userStateQuery } from '../contracts/user';
import { workflowIds } from '../temporal/ids';
import { entityTags } from '../temporal/search-attributes';
import { connectorTaskQueue } from '../temporal/task-queues';
import { userWorkflow } from '../workflows/user';
import { runCli } from './support/cli';
import { TEST_SECRETS } from './support/config';
import { productSettings, startProductWorkers, type ProductWorkers } from './support/product';
import { startTestTemporal, type TestTemporal } from './support/temporal';

const APP = '64b7f0c2a1d3e4f5a6b7c8d9';
const CONNECTOR = 'history-e2e';
let temporal: TestTemporal;
let jumpcloud: JumpCloudEmulator;
let notion: NotionEmulator;
let product: ProductWorkers;
let env: NodeJS.ProcessEnv;

const jcUser = (username: string) => jumpcloud.state().users.find((u) => u.username === username)!;
const jcGroup = (name: string) => jumpcloud.state().groups.find((g) => g.name === name)!;
const notionUser = (email: string) =>
  (notion.state() as { users: { userName: string; active: boolean }[] }).users.find(
    (u) => u.userName === email,
  );

async function cli(...args: string[]) {
  const result = await runCli(args, env);
  if (result.code !== 0)
    throw new Error(`jc-notion ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
  return result;
}

/** Writes what a command printed for the README (RECORD_CLI_OUTPUT), as the admin typed it. */
function record(name: string, command: string, output: string): void {
  const dir = process.env.RECORD_CLI_OUTPUT;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${name}.txt`), `$ ${command}\n${output}`);
}

async function history(term: string, recordAs?: string): Promise<EntityHistory> {
  const { stdout } = await cli('history', term, '--json');
  if (recordAs) record(recordAs, `jc-notion history ${term} --json`, stdout);
  return JSON.parse(stdout) as EntityHistory;
}

/** The index of the first step after `from` that matches, or -1. */
function stepIndex(steps: HistoryStep[], match: (step: HistoryStep) => boolean, from = 0): number {
  const index = steps.slice(from).findIndex(match);
  return index < 0 ? -1 : from + index;
}
const activity = (type: string) => (step: HistoryStep) =>
  step.type === 'activity' && step.activityType === type;

beforeAll(async () => {
  temporal = await startTestTemporal();
  jumpcloud = createJumpCloudEmulator({ apiKey: TEST_SECRETS.JUMPCLOUD_API_KEY, notionAppId: APP });
  notion = createNotionEmulator({ token: TEST_SECRETS.NOTION_SCIM_TOKEN });
  const origins = { jumpcloud: await jumpcloud.listen(), notion: await notion.listen() };
  jumpcloud.seed({
    users: [
      { username: 'kate', email: 'kate@example.com', firstname: 'Kate', lastname: 'Lee' },
      { username: 'bob', email: 'bob@example.com', firstname: 'Bob', lastname: 'Stone' },
      // A shared mailbox whose username is also a group's name: `support` names both.
      { username: 'support', email: 'support@example.com', firstname: 'Support', lastname: 'Desk' },
    ],
    groups: [
      { name: 'Design', members: ['bob'] },
      { name: 'support', members: ['support'] },
    ],
    bindings: [{ groups: ['Design', 'support'], users: ['kate'] }],
  });
  const settings = productSettings(temporal, CONNECTOR, origins);
  product = await startProductWorkers(temporal, settings);
  env = product.env;

  // Bob's workflow starts before the first sync with a short history limit (the workflow's test
  // hook), so that it continues as new after converging: its history spans several runs.
  const bob = jcUser('bob')._id;
  await temporal.client.workflow.start(userWorkflow, {
    workflowId: workflowIds.user(CONNECTOR, bob),
    taskQueue: connectorTaskQueue(settings.TEMPORAL_TASK_QUEUE!, CONNECTOR),
    typedSearchAttributes: entityTags('user', CONNECTOR, bob),
    args: [
      {
        connectorId: CONNECTOR,
        jumpcloudUserId: bob,
        policy: { usernameSource: 'email', protectedUsers: [] },
        maxHistoryEvents: 10,
      },
    ],
  });
});

afterAll(async () => {
  await product?.stop();
  await jumpcloud?.close();
  await notion?.close();
  await temporal?.stop();
});

test('issue 19: a user created, renamed, unbound and re-bound (a sync after each), and its groups', async () => {
  await cli('activate', '--approve-creations');
  await cli('groups', 'enable');
  await cli('sync');
  expect(notionUser('kate@example.com')?.active).toBe(true);

  jumpcloud.updateUser(jcUser('kate')._id, { email: 'kate.lee@example.com', firstname: 'Katherine' });
  await cli('sync');
  expect(notionUser('kate.lee@example.com')?.active).toBe(true);

  jumpcloud.unbind({ type: 'user', id: jcUser('kate')._id });
  await cli('sync');
  expect(notionUser('kate.lee@example.com')?.active).toBe(false);

  jumpcloud.bind({ type: 'user', id: jcUser('kate')._id });
  await cli('sync');
  expect(notionUser('kate.lee@example.com')?.active).toBe(true);
});

test('issue 19: `find <email>` names the user, its state and its workflow with a link to the Temporal UI', async () => {
  const kate = jcUser('kate')._id;
  const workflowId = workflowIds.user(CONNECTOR, kate);
  const found = await cli('find', 'kate.lee@example.com');
  record('find', 'jc-notion find kate.lee@example.com', found.stdout);
  expect(found.stdout).toContain(`user kate <kate.lee@example.com> (JumpCloud ${kate}): in-sync, Notion `);
  expect(found.stdout).toContain(`  workflow ${workflowId}`);
  expect(found.stdout).toContain(
    `  http://127.0.0.1:8233/namespaces/default/workflows/${encodeURIComponent(workflowId)}/`,
  );
});

test('issue 19: `history <email>` shows the create, the rename, the deactivation and the reactivation in order, with their outcomes and the requests behind them', async () => {
  const kate = jcUser('kate')._id;
  const workflowId = workflowIds.user(CONNECTOR, kate);
  const log = await history('kate.lee@example.com', 'history-json');
  expect(log.entity).toMatchObject({ kind: 'user', jumpcloudId: kate, workflowId, syncState: 'in-sync' });
  expect(log.runs.length).toBeGreaterThanOrEqual(1);
  expect(log.runs[0]!.url).toContain(encodeURIComponent(workflowId));
  const { steps } = log;
  for (const step of steps) {
    expect(new Date(step.at).toISOString()).toBe(step.at);
    // What a step does is its summary when the workflow gave one, else its activity type.
    if (step.type === 'activity') expect(step.what).toBe(step.summary ?? step.activityType);
  }
  expect(steps[0]).toMatchObject({ type: 'run-started', what: 'workflow started', outcome: 'started' });

  // Each change: the reconciliation's request, then its Notion write, completed.
  const create = stepIndex(steps, activity('notionCreateUser'));
  const update = stepIndex(steps, activity('notionUpdateUser'), create);
  const deactivate = stepIndex(steps, activity('notionDeactivateUser'), update);
  const reactivate = stepIndex(
    steps,
    (step) => activity('notionActivateUser')(step) || activity('notionCreateUser')(step),
    deactivate,
  );
  expect([create, update, deactivate, reactivate].every((i) => i > 0)).toBe(true);
  expect(steps[create]).toMatchObject({ outcome: 'completed', result: 'created' });
  expect(steps[update]).toMatchObject({ outcome: 'completed' });
  expect(steps[deactivate]).toMatchObject({ outcome: 'completed', result: 'deactivated' });
  expect(steps[reactivate]).toMatchObject({ outcome: 'completed' });
  // The activities' summaries (decoded from the history) say whom each step is for.
  expect(steps[create]!.summary).toContain('kate@example.com');
  expect(steps[deactivate]!.summary).toContain('kate.lee@example.com');
  for (const write of [create, update, deactivate, reactivate]) {
    const request = steps
      .slice(0, write)
      .reverse()
      .find((step) => step.type === 'signal');
    expect(request).toMatchObject({
      signal: 'sync',
      reason: 'reconcile',
      what: 'sync request: reconcile',
      outcome: 'received',
      reconcileId: expect.any(String),
      detail: expect.stringMatching(/^reconciliation \S+/),
    });
    expect(steps[write]!.endedAt! >= steps[write]!.at).toBe(true);
  }

  // The same log, aligned, one line per step; by JumpCloud id as by email.
  const printed = await cli('history', 'kate.lee@example.com');
  record('history', 'jc-notion history kate.lee@example.com', printed.stdout);
  const lines = printed.stdout.split('\n');
  expect(lines[0]).toBe(
    `user kate <kate.lee@example.com> (JumpCloud ${kate}): in-sync, Notion ${log.entity.notionId}`,
  );
  expect(lines).toContain(`  workflow ${workflowId}`);
  expect(printed.stdout).toMatch(
    new RegExp(`^  ${log.runs.length} runs?, ${steps.length} steps, oldest first$`, 'm'),
  );
  const stepLines = lines.filter((line) => /^\d{4}-\d\d-\d\dT/.test(line));
  expect(stepLines).toHaveLength(steps.length);
  // Aligned: the outcomes start in one column, after the longest `what` (up to WHAT_WIDTH).
  const width = Math.min(WHAT_WIDTH, Math.max(...steps.map((step) => step.what.length)));
  for (const [i, step] of steps.entries()) {
    expect(stepLines[i]!.startsWith(`${step.at}  ${step.what}`)).toBe(true);
    if (step.what.length <= width)
      expect(stepLines[i]!.slice(step.at.length + 2 + width + 2)).toMatch(
        new RegExp(`^${step.outcome.replace('-', ' ')}`),
      );
  }
  expect(stepLines[create]).toMatch(/ {2}completed \(created\)$/);
  expect(stepLines[deactivate]).toMatch(/ {2}completed \(deactivated\)$/);
  expect((await cli('history', kate)).stdout).toBe(printed.stdout);
});

test('issue 19: `provision` is in the log as the request it is, with the state it left', async () => {
  await cli('provision', 'kate');
  const { steps } = await history(jcUser('kate')._id);
  const provision = stepIndex(steps, (step) => step.type === 'update');
  expect(steps[provision]).toMatchObject({
    update: 'provision',
    what: 'provision request (jc-notion provision)',
    outcome: 'completed',
    result: 'in-sync',
  });
  // It read the user from both sides: those steps follow the request.
  expect(stepIndex(steps, activity('jumpcloudGetUser'), provision)).toBeGreaterThan(provision);
});

test('issue 19: a group’s history by its name', async () => {
  const design = jcGroup('Design').id;
  const printed = await cli('history', 'Design');
  record('history-group', 'jc-notion history Design', printed.stdout);
  expect(printed.stdout.split('\n')[0]).toMatch(
    new RegExp(`^group "Design" \\(JumpCloud ${design}\\): in-sync, Notion \\S+$`),
  );
  const { entity, steps } = await history('Design');
  expect(entity).toMatchObject({
    kind: 'group',
    jumpcloudId: design,
    workflowId: workflowIds.group(CONNECTOR, design),
  });
  const create = stepIndex(steps, activity('notionCreateGroup'));
  expect(steps[create]).toMatchObject({ outcome: 'completed' });
  expect(steps[stepIndex(steps, activity('notionAddGroupMembers'), create)]).toMatchObject({
    outcome: 'completed',
  });
  expect(steps.slice(0, create).some((step) => step.signal === 'sync')).toBe(true);
});

test('issue 19: runs that continued as new, a termination and the run started after it are one log, oldest first', async () => {
  const bob = jcUser('bob')._id;
  const workflowId = workflowIds.user(CONNECTOR, bob);
  // The first sync created bob, then its workflow continued as new (history limit 10).
  const handle = temporal.client.workflow.getHandle(workflowId);
  await handle.terminate('history e2e: stopped by hand');
  await cli('provision', 'bob@example.com');
  expect((await handle.query(userStateQuery)).status).toBe('in-sync');

  const log = await history('bob@example.com');
  const { steps, runs } = log;
  expect(runs.length).toBeGreaterThanOrEqual(3);
  expect(runs.map((run) => run.startedAt)).toEqual([...runs.map((run) => run.startedAt)].sort());
  expect(runs[0]!.status).toBe('continued-as-new');
  expect(runs.at(-2)!.status).toBe('terminated');
  expect(runs.at(-1)!.status).toBe('running');
  const kinds = steps.map((step) => step.type);
  const continued = kinds.indexOf('continued-as-new');
  expect(steps[continued]).toMatchObject({ outcome: 'continued', detail: `in run ${runs[1]!.runId}` });
  expect(steps[continued + 1]).toMatchObject({
    type: 'run-started',
    what: `run continued from ${runs[0]!.runId}`,
    runId: runs[1]!.runId,
  });
  const terminated = stepIndex(steps, (step) => step.outcome === 'terminated');
  expect(steps[terminated]).toMatchObject({
    what: 'workflow terminated',
    detail: 'history e2e: stopped by hand',
  });
  expect(steps[terminated + 1]).toMatchObject({
    type: 'run-started',
    what: 'workflow started',
    runId: runs.at(-1)!.runId,
  });
  const provision = stepIndex(steps, (step) => step.type === 'update');
  expect(steps[provision]).toMatchObject({
    runId: runs.at(-1)!.runId,
    outcome: 'completed',
    result: 'in-sync',
  });
  expect(stepIndex(steps, activity('notionCreateUser'))).toBeLessThan(continued);

  const printed = (await cli('history', 'bob@example.com')).stdout;
  expect(printed).toMatch(/ {2}continued in run \S+\n/);
  expect(printed).toMatch(/workflow terminated +terminated: history e2e: stopped by hand\n/);
});

test('issue 19: a term that names several entities is refused with the list; the JumpCloud id settles it; an unknown term is an error', async () => {
  const user = jcUser('support')._id;
  const group = jcGroup('support').id;
  const ambiguous = await runCli(['history', 'support'], env);
  expect(ambiguous.code).not.toBe(0);
  const reason = ambiguous.stderr.trim();
  record('history-ambiguous', 'jc-notion history support', ambiguous.stderr);
  expect(reason.split('\n')).toHaveLength(1);
  expect(reason).toMatch(/^jc-notion: "support" matches 2 users and groups of connector "history-e2e": /);
  expect(reason).toContain(`user support <support@example.com> (JumpCloud ${user})`);
  expect(reason).toContain(`group "support" (JumpCloud ${group})`);
  expect(reason).toMatch(/Pass the JumpCloud id of the one you mean: jc-notion history <JumpCloud id>$/);

  const byId = await history(user);
  expect(byId.entity).toMatchObject({ kind: 'user', jumpcloudId: user });
  expect((await history(group)).entity).toMatchObject({ kind: 'group', jumpcloudId: group });

  const unknown = await runCli(['history', 'nobody@example.com'], env);
  expect(unknown.code).not.toBe(0);
  expect(unknown.stderr.trim()).toBe(
    'jc-notion: no user or group of connector "history-e2e" matches "nobody@example.com" (an email, a username, a JumpCloud id or an exact group name)',
  );
});
