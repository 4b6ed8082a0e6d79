/**
 * Issue 16, end to end: personal data encrypted at rest in Temporal. Workers with
 * PAYLOAD_ENCRYPTION_KEYS and SEARCH_ATTRIBUTES_PII=hashed run a whole story (activation, a
 * reconciliation with groups, the change feed with a per-user failure, an import from Notion).
 * Then every history of the connector and its visibility records, read raw from the server without
 * the codec, hold no email, name or username of anyone (scanned byte by byte); through the codec
 * server the same histories show them. `jc-notion find` still finds a user by email. Rotation: a
 * key added in front encrypts what follows, and histories written under the old one still decode
 * and replay.
 */
import { createJumpCloudEmulator, type JumpCloudEmulator } from '../harness/emulators/jumpcloud';
import { createNotionEmulator, type NotionEmulator } from '../harness/emulators/notion';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import { userStateQuery } from '../contracts/user';
import { parseConfig, type Config } from '../config/config';
import { startCodecServer, type CodecServer } from '../temporal/codec-server';
import { clientOn } from '../temporal/connection';
import { EncryptionCodec, parseEncryptionKeys } from '../temporal/encryption-codec';
import { workflowIds } from '../temporal/ids';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { usernameFor } from '../workflows/import-plan';
import { MAX_USERNAME_ATTEMPTS } from '../workflows/import-user';
import { runCli } from './support/cli';
import { TEST_PRIVACY, TEST_SECRETS } from './support/config';
import { keyIdsOf, payloadsOf, type RawPayload } from './support/payloads';
import { checkHistories, productSettings, startProductWorkers, type ProductWorkers } from './support/product';
import { startTestTemporal, uniqueTaskQueue, type TestTemporal } from './support/temporal';

const CONNECTOR = 'privacy-e2e';
const UI_ORIGIN = 'http://127.0.0.1:8233';

/** Names no ciphertext or hash could hold by chance. */
const PEOPLE = [
  {
    username: 'zephyrine.quillfeather',
    email: 'Zephyrine.Quillfeather@example.com',
    firstname: 'Zephyrine',
    lastname: 'Quillfeather',
  },
  {
    username: 'bartholomew.ashgrove',
    email: 'bartholomew.ashgrove@example.com',
    firstname: 'Bartholomew',
    lastname: 'Ashgrove',
  },
  {
    username: 'philippa.vantongeren',
    email: 'philippa.vantongeren@example.com',
    firstname: 'Philippa',
    lastname: 'Vantongeren',
  },
  // U8: Notion refuses this one's profile changes (a domain it has not verified): a failure.
  {
    username: 'leocadia.fenwright',
    email: 'leocadia.fenwright@fenwrightholdings.org',
    firstname: 'Leocadia',
    lastname: 'Fenwright',
  },
];
const GROUP = 'Marrowdale Cartographers';
const NOTION_ONLY = {
  userName: 'ignatius.marchbanks@example.com',
  givenName: 'Ignatius',
  familyName: 'Marchbanks',
  formatted: 'Ignatius Marchbanks',
};
/** Every username her import could take is taken: her import fails in workflow code. */
const NOTION_BLOCKED = {
  userName: 'octavian.pemberton@example.com',
  givenName: 'Octavian',
  familyName: 'Pemberton',
  formatted: 'Octavian Pemberton',
};
const RENAMED = 'Quillfeather-Okonkwo';
const ROTATED = 'Vantongeren-Abernethy';

/** Every personal value of the story: none may be in clear anywhere in Temporal. */
const PERSONAL = [
  ...PEOPLE.flatMap((p) => [p.username, p.email, p.firstname, p.lastname]),
  GROUP,
  NOTION_ONLY.userName,
  NOTION_ONLY.givenName,
  NOTION_ONLY.familyName,
  NOTION_BLOCKED.userName,
  NOTION_BLOCKED.givenName,
  NOTION_BLOCKED.familyName,
  RENAMED,
  ROTATED,
];

let temporal: TestTemporal;
let jumpcloud: JumpCloudEmulator;
let notion: NotionEmulator;
let origins: { jumpcloud: string; notion: string };
let workers: ProductWorkers | undefined;
const servers: CodecServer[] = [];

let queue: string | undefined;

/** The workers' settings with these keys (the same task queue across the rotation). */
function settings(keys: string): Record<string, string> {
  queue ??= uniqueTaskQueue(CONNECTOR);
  return productSettings(temporal, CONNECTOR, origins, {
    TEMPORAL_TASK_QUEUE: queue,
    PAYLOAD_ENCRYPTION_KEYS: keys,
    SEARCH_ATTRIBUTES_PII: 'hashed',
    SEARCH_ATTRIBUTES_HMAC_KEY: TEST_PRIVACY.HMAC_KEY,
    CODEC_SERVER_TOKEN: TEST_PRIVACY.CODEC_SERVER_TOKEN,
    TEMPORAL_UI_URL: UI_ORIGIN,
    POLL_INTERVAL: '2s',
  });
}

function privacyOf(keys: string): Config['privacy'] {
  return parseConfig(settings(keys), 'client').privacy;
}

async function cli(env: NodeJS.ProcessEnv, ...args: string[]) {
  const result = await runCli(args, env);
  if (result.code !== 0)
    throw new Error(`jc-notion ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
  return result;
}

async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 240_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const members = () =>
  (
    notion.state() as {
      users: { userName: string; active: boolean; familyName?: string; givenName?: string }[];
    }
  ).users;
const member = (email: string) => members().find((m) => m.userName === email.toLowerCase());
const jcUser = (username: string) => jumpcloud.state().users.find((u) => u.username === username)!;

/** The connector's workflow runs, each history as the server holds it (no codec). */
async function rawHistories(): Promise<{ workflowId: string; history: proto.api.history.v1.IHistory }[]> {
  const found: { workflowId: string; history: proto.api.history.v1.IHistory }[] = [];
  const query = `${SEARCH_ATTRIBUTES.connectorId.name} = "${CONNECTOR}"`;
  for await (const execution of temporal.client.workflow.list({ query })) {
    const history = await temporal.client.workflow
      .getHandle(execution.workflowId, execution.runId)
      .fetchHistory();
    found.push({ workflowId: execution.workflowId, history });
  }
  return found;
}

/** The personal values found in `bytes` (compared case-insensitively). */
function personalIn(bytes: Uint8Array): string[] {
  const text = Buffer.from(bytes).toString('latin1').toLowerCase();
  return PERSONAL.filter((value) => text.includes(value.toLowerCase()));
}

/** Every failure our code raised (ApplicationFailure), wherever it is in a history. */
function applicationFailuresOf(value: unknown, into: proto.api.failure.v1.IFailure[] = []) {
  if (!value || typeof value !== 'object' || value instanceof Uint8Array) return into;
  const object = value as Record<string, unknown>;
  if (object.applicationFailureInfo) into.push(object);
  for (const child of Object.values(object)) applicationFailuresOf(child, into);
  return into;
}

const b64 = (bytes: Uint8Array | null | undefined) =>
  Buffer.from(bytes ?? new Uint8Array()).toString('base64');

/** Decodes payloads through the codec server's HTTP API, as the Temporal UI does. */
async function decodeThrough(
  server: CodecServer,
  payloads: RawPayload[],
): Promise<{ status: number; text: string; body: unknown }> {
  const texts: string[] = [];
  for (let at = 0; at < payloads.length; at += 200) {
    const chunk = payloads.slice(at, at + 200).map((p) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])),
      data: b64(p.data),
    }));
    const response = await fetch(`${server.url}/decode`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${TEST_PRIVACY.CODEC_SERVER_TOKEN}`,
        origin: UI_ORIGIN,
        'x-namespace': temporal.namespace,
      },
      body: JSON.stringify({ payloads: chunk }),
    });
    const body = (await response.json()) as { payloads?: { data?: string }[] };
    if (response.status !== 200) return { status: response.status, text: '', body };
    for (const p of body.payloads ?? []) texts.push(Buffer.from(p.data ?? '', 'base64').toString('utf8'));
  }
  return { status: 200, text: texts.join('\n'), body: undefined };
}

async function codecServer(keys: string): Promise<CodecServer> {
  const server = await startCodecServer({
    codec: new EncryptionCodec(parseEncryptionKeys(keys)),
    token: TEST_PRIVACY.CODEC_SERVER_TOKEN,
    allowedOrigin: UI_ORIGIN,
    namespace: temporal.namespace,
  });
  servers.push(server);
  return server;
}

let client: Client;

beforeAll(async () => {
  temporal = await startTestTemporal();
  jumpcloud = createJumpCloudEmulator({
    apiKey: TEST_SECRETS.JUMPCLOUD_API_KEY,
    notionAppId: '64b7f0c2a1d3e4f5a6b7c8d9',
  });
  notion = createNotionEmulator({ token: TEST_SECRETS.NOTION_SCIM_TOKEN });
  origins = { jumpcloud: await jumpcloud.listen(), notion: await notion.listen() };
  jumpcloud.seed({
    users: [
      ...PEOPLE,
      // Out of scope (bound to nothing): they only hold every username her import could take.
      ...Array.from({ length: MAX_USERNAME_ATTEMPTS }, (_, i) => ({
        username: usernameFor(NOTION_BLOCKED.userName, i),
        email: `holder${i}@elsewhere.example.com`,
      })),
    ],
    groups: [{ name: GROUP, members: PEOPLE.map((p) => p.username) }],
    bindings: [{ groups: [GROUP] }],
  });
  notion.seed({ users: [NOTION_ONLY, NOTION_BLOCKED] });
  client = clientOn(temporal.connection, parseConfig(settings(TEST_PRIVACY.K1), 'client'));
});

afterAll(async () => {
  await workers?.stop();
  for (const server of servers) await server.close();
  await jumpcloud?.close();
  await notion?.close();
  await temporal?.stop();
});

test('issue 16: with encryption on and hashed search attributes, a whole story (sync, groups, feed, a failure, import) leaves no personal data in clear in any history or visibility record', async () => {
  workers = await startProductWorkers(temporal, settings(TEST_PRIVACY.K1));
  const env = workers.env;
  await cli(env, 'activate', '--approve-creations');
  await cli(env, 'groups', 'enable');
  await cli(env, 'sync', '--timeout', '240');
  for (const p of PEOPLE) await eventually(`${p.username} in Notion`, () => member(p.email)?.active === true);
  await eventually('the group in Notion', () =>
    (notion.state() as { groups: { displayName: string; members: unknown[] }[] }).groups.some(
      (g) => g.displayName === GROUP && g.members.length === PEOPLE.length,
    ),
  );

  // The change feed: a rename reaches Notion; the unverified domain's rename fails (U8).
  jumpcloud.updateUser(jcUser(PEOPLE[0]!.username)._id, { lastname: RENAMED });
  jumpcloud.updateUser(jcUser(PEOPLE[3]!.username)._id, { firstname: 'Leocadia-Marie' });
  await eventually('the rename', () => member(PEOPLE[0]!.email)?.familyName === RENAMED);
  const failing = client.workflow.getHandle(workflowIds.user(CONNECTOR, jcUser(PEOPLE[3]!.username)._id));
  await eventually('the U8 failure', async () => (await failing.query(userStateQuery)).status === 'error');

  // An import from Notion (I2) through its workflow; one whose usernames are all taken fails
  // in workflow code (a failure the workflow bundle's converter encodes).
  await cli(env, 'import', 'run', NOTION_ONLY.userName);
  expect(jumpcloud.state().users.some((u) => u.email === NOTION_ONLY.userName)).toBe(true);
  const blocked = await runCli(['import', 'run', NOTION_BLOCKED.userName], env);
  expect(blocked.code).not.toBe(0);
  expect(blocked.stderr).toMatch(/no free JumpCloud username: octavian\.pemberton/);

  // A workflow failing in its own code (here: an input it refuses): the workflow bundle's
  // converter encodes that failure too, and a client with the keys reads it.
  const refused = await client.workflow.start('userWorkflow', {
    workflowId: workflowIds.user(CONNECTOR, 'not-a-jumpcloud-id'),
    taskQueue: parseConfig(settings(TEST_PRIVACY.K1), 'client').temporal.taskQueue,
    args: [
      {
        connectorId: CONNECTOR,
        jumpcloudUserId: NOTION_BLOCKED.userName,
        policy: { usernameSource: 'email', protectedUsers: [] },
      },
    ],
  });
  const outcome = await refused.result().then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(WorkflowFailedError);
  expect((outcome as WorkflowFailedError).cause?.message).toMatch(/^invalid user workflow input/);

  // Found by email although the search attributes hold only hashes: id and UI link printed.
  const zephyrine = jcUser(PEOPLE[0]!.username);
  const found = await cli(env, 'find', PEOPLE[0]!.email.toUpperCase());
  const workflowId = workflowIds.user(CONNECTOR, zephyrine._id);
  expect(found.stdout).toContain(`workflow ${workflowId}`);
  expect(found.stdout).toContain(
    `${UI_ORIGIN}/namespaces/${temporal.namespace}/workflows/${encodeURIComponent(workflowId)}/`,
  );
  // …and shown by name: the CLI decodes the workflow's state with the keys.
  expect(found.stdout).toContain(PEOPLE[0]!.email.toLowerCase());
  const group = await cli(env, 'find', GROUP, '--json');
  expect(JSON.parse(group.stdout)).toMatchObject({ matches: [{ kind: 'group', name: GROUP }] });

  // Raw, without the codec: no personal value in any history, failures included.
  const histories = await rawHistories();
  expect(histories.length).toBeGreaterThan(PEOPLE.length + 3);
  const leaks = histories
    .map(({ workflowId: id, history }) => ({
      id,
      values: personalIn(proto.api.history.v1.History.encode(history).finish()),
    }))
    .filter((leak) => leak.values.length > 0);
  expect(leaks).toEqual([]);
  expect(keyIdsOf(histories.map((h) => h.history))).toMatchObject({ ids: ['k1'] });
  // Every failure our code raised (activities' and workflows' alike, causes included) is there
  // with its message and stack encoded and encrypted: the U8 activity failure, the import's.
  // (The refused workflow failed before tagging itself with its connector: fetched by id.)
  const everything = [
    ...histories,
    { workflowId: refused.workflowId, history: await refused.fetchHistory() },
  ];
  expect(personalIn(proto.api.history.v1.History.encode(everything.at(-1)!.history).finish())).toEqual([]);
  const failures = everything.flatMap(({ history }) => applicationFailuresOf(history));
  expect(failures.length).toBeGreaterThan(0);
  for (const failure of failures) {
    expect([failure.message, failure.stackTrace]).toEqual(['Encoded failure', '']);
    expect(failure.encodedAttributes?.metadata?.['encryption-key-id']).toBeDefined();
  }
  const eventTypes = (type: keyof proto.api.history.v1.IHistoryEvent) =>
    everything.flatMap(({ history }) => (history.events ?? []).filter((e) => e[type]));
  expect(eventTypes('activityTaskFailedEventAttributes').length).toBeGreaterThan(0);
  expect(eventTypes('workflowExecutionFailedEventAttributes').length).toBeGreaterThan(0);
  // Visibility: the search attributes (and memos) of every run, as the server lists them.
  const listed = await temporal.client.workflowService.listWorkflowExecutions({
    namespace: temporal.namespace,
    query: `${SEARCH_ATTRIBUTES.connectorId.name} = "${CONNECTOR}"`,
    pageSize: 1000,
  });
  expect(listed.executions?.length).toBe(histories.length);
  expect(
    personalIn(proto.api.workflowservice.v1.ListWorkflowExecutionsResponse.encode(listed).finish()),
  ).toEqual([]);
  const description = await temporal.client.workflow.getHandle(workflowId).describe();
  expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.email)).toMatch(/^hmac1:/);

  // Through the codec server, as the Temporal UI reads them: every one of them is there.
  const server = await codecServer(TEST_PRIVACY.K1);
  const decoded = await decodeThrough(
    server,
    histories.flatMap(({ history }) => payloadsOf(history)),
  );
  expect(decoded.status).toBe(200);
  const shown = decoded.text.toLowerCase();
  expect(PERSONAL.filter((value) => value !== ROTATED && !shown.includes(value.toLowerCase()))).toEqual([]);
  // The failures' messages are readable there too (U8's unverified domain, the import's).
  expect(shown).toMatch(/not verified/);
  expect(shown).toMatch(/no free jumpcloud username: octavian\.pemberton/);

  // Issue 19: the UI's summaries, decoded as the UI shows them, name nobody (UI_SUMMARIES_PII is
  // `omitted` by default here): the steps and workflows are named by their ids.
  const summaries = await decodeThrough(
    server,
    histories.flatMap(({ history }) =>
      (history.events ?? []).flatMap((event) =>
        [event.userMetadata?.summary, event.userMetadata?.details].filter(
          (payload): payload is proto.api.common.v1.IPayload => Boolean(payload),
        ),
      ),
    ),
  );
  expect(summaries.status).toBe(200);
  expect(summaries.text).toContain(`create JumpCloud user ${zephyrine._id} in Notion`);
  expect(PERSONAL.filter((value) => summaries.text.toLowerCase().includes(value.toLowerCase()))).toEqual([]);
  const details = await clientOn(temporal.connection, parseConfig(settings(TEST_PRIVACY.K1), 'client'))
    .workflow.getHandle(workflowId)
    .query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  expect(details.currentDetails).toContain(`User ${zephyrine._id} (JumpCloud id)`);
  expect(
    PERSONAL.filter((value) => details.currentDetails!.toLowerCase().includes(value.toLowerCase())),
  ).toEqual([]);

  expect(await checkHistories(temporal, CONNECTOR, fixtureName, privacyOf(TEST_PRIVACY.K1))).toBe(
    histories.length,
  );
});

test('issue 16: rotation: with a new key added in front, what follows is encrypted with it and every history written under the old key still decodes and replays', async () => {
  await workers?.stop();
  const rotated = `${TEST_PRIVACY.K2},${TEST_PRIVACY.K1}`;
  workers = await startProductWorkers(temporal, settings(rotated));
  const philippa = jcUser(PEOPLE[2]!.username);
  jumpcloud.updateUser(philippa._id, { lastname: ROTATED });
  await eventually('the rename under the new key', () => member(PEOPLE[2]!.email)?.familyName === ROTATED);
  // The workers read the old payloads (their state, queries) as well as the new ones.
  const rotatedClient = clientOn(temporal.connection, parseConfig(settings(rotated), 'client'));
  const state = await rotatedClient.workflow
    .getHandle(workflowIds.user(CONNECTOR, philippa._id))
    .query(userStateQuery);
  expect(state).toMatchObject({ status: 'in-sync', email: PEOPLE[2]!.email });

  const histories = await rawHistories();
  expect(keyIdsOf(histories.map((h) => h.history))).toMatchObject({ ids: ['k1', 'k2'] });
  const leaks = histories.filter(
    ({ history }) => personalIn(proto.api.history.v1.History.encode(history).finish()).length > 0,
  );
  expect(leaks.map((h) => h.workflowId)).toEqual([]);
  const payloads = histories.flatMap(({ history }) => payloadsOf(history));
  // Both keys listed: everything decodes; the new key alone cannot read the old histories.
  const both = await decodeThrough(await codecServer(rotated), payloads);
  expect(both.status).toBe(200);
  expect(both.text).toContain(ROTATED);
  const newOnly = await decodeThrough(await codecServer(TEST_PRIVACY.K2), payloads);
  expect(newOnly.status).toBe(400);
  expect((newOnly.body as { error?: string }).error).toMatch(/key "k1"/);
  expect(await checkHistories(temporal, CONNECTOR, fixtureName, privacyOf(rotated))).toBe(histories.length);
});

/** `RECORD_HISTORIES=test/fixtures/histories-encrypted`: the encrypted replay fixtures. */
function fixtureName(execution: { workflowId: string; searchAttributes?: unknown }): string | undefined {
  const kind = /^jcn\/[^/]+\/([a-z]+)/.exec(execution.workflowId)?.[1];
  return kind ? `${kind}-encrypted` : undefined;
}
