/**
 * OpenAPI contract of the JumpCloud emulator: every operation it serves is called over HTTP and
 * its status and body are validated against that operation's response in JumpCloud's own specs
 * (verbatim extracts in `jumpcloud-openapi/`: the raw OpenAPI 3 conversions for v1 and v2, the
 * Swagger 2.0 spec for Directory Insights). Error statuses an operation does not declare are
 * validated against the spec's shared `Error` schema. The table below drives the test; a route
 * the emulator serves without a table entry fails it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { Dispatcher } from 'undici';
import { createJumpCloudEmulator, type JumpCloudEmulator } from '../../../harness/emulators/jumpcloud';
import { NOTION_APP_ID, caller, type CallOptions, type Reply } from './jumpcloud-http';

type SpecName = 'v1' | 'v2' | 'di';
type Json = Record<string, unknown>;

const SPEC_FILES: Record<SpecName, string> = { v1: 'v1.json', v2: 'v2.json', di: 'directory-insights.json' };
const specs = Object.fromEntries(
  Object.entries(SPEC_FILES).map(([name, file]) => [
    name,
    JSON.parse(fs.readFileSync(path.join(__dirname, 'jumpcloud-openapi', file), 'utf8')) as Json,
  ]),
) as Record<SpecName, Json>;
const specId = (name: SpecName) => `https://jumpcloud.example/openapi/${name}.json`;

const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
addFormats(ajv);
for (const name of Object.keys(specs) as SpecName[]) ajv.addSchema(specs[name], specId(name));

/** Points a schema's local `$ref`s into its spec document. */
function anchored(schema: unknown, spec: SpecName): Json {
  return JSON.parse(JSON.stringify(schema).replace(/"\$ref":"#\//g, `"$ref":"${specId(spec)}#/`)) as Json;
}

function resolve(spec: SpecName, value: unknown): Json {
  let node = value as Json;
  while (typeof node.$ref === 'string') {
    // `#/…` is local; `<spec id>#/…` points into another spec.
    const [uri, pointer = ''] = node.$ref.split('#');
    const name = uri
      ? (Object.keys(specs) as SpecName[]).find((candidate) => specId(candidate) === uri)
      : spec;
    if (!name) throw new Error(`unresolvable $ref ${node.$ref}`);
    node = pointer
      .slice(1)
      .split('/')
      .reduce<Json>(
        (at, segment) => at[segment.replace(/~1/g, '/').replace(/~0/g, '~')] as Json,
        specs[name],
      );
  }
  return node;
}

interface Expectation {
  /** Whether the operation declares this status itself (else: an error checked against `Error`). */
  declared: boolean;
  validate?: ValidateFunction;
  schema?: unknown;
}

/** A schema with its `allOf` parts, `$ref`s resolved. */
function parts(spec: SpecName, schema: unknown): Json[] {
  const node = resolve(spec, schema);
  return [node, ...((node.allOf as unknown[] | undefined) ?? []).flatMap((part) => parts(spec, part))];
}

/**
 * Fields of a body that the spec does not declare (where it lists an object's properties and does
 * not allow others): the emulator must not invent fields a client could come to rely on.
 */
function undeclaredFields(spec: SpecName, schema: unknown, value: unknown, at = '$'): string[] {
  if (schema === undefined || value === null || typeof value !== 'object') return [];
  const nodes = parts(spec, schema);
  if (Array.isArray(value)) {
    const items = nodes.find((node) => node.items)?.items;
    return value.flatMap((item, index) => undeclaredFields(spec, items, item, `${at}[${index}]`));
  }
  if (nodes.some((node) => node.additionalProperties) || !nodes.some((node) => node.properties)) return [];
  const properties: Json = Object.assign({}, ...nodes.map((node) => node.properties ?? {})) as Json;
  return Object.entries(value as Json).flatMap(([key, inner]) =>
    key in properties ? undeclaredFields(spec, properties[key], inner, `${at}.${key}`) : [`${at}.${key}`],
  );
}

const compiled = new Map<string, Expectation>();

function expectation(spec: SpecName, operation: string, status: number): Expectation {
  const key = `${spec} ${operation} ${status}`;
  const known = compiled.get(key);
  if (known) return known;
  const [method, specPath] = operation.split(' ') as [string, string];
  const paths = specs[spec].paths as Record<string, Json>;
  const op = paths[specPath]?.[method.toLowerCase()] as Json | undefined;
  if (!op) throw new Error(`${operation} is not in JumpCloud's ${spec} spec`);
  const responses = op.responses as Json;
  const declaredResponse = responses[String(status)] ?? (status >= 400 ? responses.default : undefined);
  let schema: unknown;
  if (declaredResponse) {
    const response = resolve(spec, declaredResponse);
    schema = spec === 'di' ? response.schema : (response.content as Json | undefined)?.['application/json'];
    if (spec !== 'di' && schema) schema = (schema as Json).schema;
  }
  // An error without a declared body schema is checked against the shared `Error` schema.
  const errorSchema = spec === 'v1' ? 'v1' : 'v2';
  if (!schema && status >= 400) schema = { $ref: `${specId(errorSchema)}#/components/schemas/Error` };
  const result: Expectation = {
    declared: declaredResponse !== undefined,
    validate: schema ? ajv.compile(anchored(schema, spec)) : undefined,
    schema,
  };
  compiled.set(key, result);
  return result;
}

// ---- the emulator and its fixture -----------------------------------------------------------

let emulator: JumpCloudEmulator;
let origin = '';
const call = caller(() => origin);
const ids: Record<string, string> = {};

beforeAll(async () => {
  emulator = createJumpCloudEmulator();
  origin = await emulator.listen();
  emulator.seed({
    users: [
      { username: 'alice', email: 'alice@example.com', firstname: 'Alice', lastname: 'Liddell' },
      { username: 'bob', email: 'bob@example.com', firstname: 'Bob', lastname: 'Builder' },
      {
        username: 'carol',
        email: 'carol@example.com',
        firstname: 'Carol',
        lastname: 'Danvers',
        state: 'STAGED',
      },
      { username: 'dave', email: 'dave@example.com', firstname: 'Dave', lastname: 'Lister' },
    ],
    groups: [
      { name: 'Engineering', members: ['alice'], groups: ['Platform'] },
      { name: 'Platform', members: ['bob', 'carol'] },
      { name: 'Doomed', members: ['dave'] },
    ],
    bindings: [{ groups: ['Engineering'], users: ['dave'] }],
  });
  for (const user of emulator.state().users) ids[user.username] = user._id;
  for (const group of emulator.state().groups) ids[group.name] = group.id;
  // Alice manages Bob, so deleting Alice is refused (409).
  emulator.updateUser(ids.bob!, { manager: ids.alice });
});
afterAll(() => emulator.close());

// ---- the table --------------------------------------------------------------------------------

interface ContractCall {
  /** The emulator's route: `METHOD /fastify/url`. */
  route: string;
  spec: SpecName;
  /** The operation in the spec: `METHOD /spec/path`. */
  operation: string;
  title: string;
  status: number;
  request: () => [Dispatcher.HttpMethod, string, CallOptions?];
}

const app = `/api/v2/applications/${NOTION_APP_ID}`;
const since = { service: ['directory'], start_time: '2020-01-01T00:00:00Z' };
const noKey: CallOptions = { headers: {} };

const CALLS: ContractCall[] = [
  // v1 system users
  {
    route: 'GET /api/systemusers',
    spec: 'v1',
    operation: 'GET /systemusers',
    title: 'lists users',
    status: 200,
    request: () => ['GET', '/api/systemusers'],
  },
  {
    route: 'GET /api/systemusers',
    spec: 'v1',
    operation: 'GET /systemusers',
    title: 'lists with filter, sort and fields',
    status: 200,
    request: () => [
      'GET',
      '/api/systemusers?filter=state:$eq:ACTIVATED&sort=-username&fields=username%20email',
    ],
  },
  {
    route: 'GET /api/systemusers',
    spec: 'v1',
    operation: 'GET /systemusers',
    title: 'refuses a request without x-api-key',
    status: 401,
    request: () => ['GET', '/api/systemusers', noKey],
  },
  {
    route: 'GET /api/systemusers',
    spec: 'v1',
    operation: 'GET /systemusers',
    title: 'refuses limit above 100',
    status: 400,
    request: () => ['GET', '/api/systemusers?limit=101'],
  },
  {
    route: 'POST /api/systemusers',
    spec: 'v1',
    operation: 'POST /systemusers',
    title: 'creates a user',
    status: 200,
    request: () => [
      'POST',
      '/api/systemusers',
      { body: { username: 'erin', email: 'erin@example.com', firstname: 'Erin', lastname: 'Brockovich' } },
    ],
  },
  {
    route: 'POST /api/systemusers',
    spec: 'v1',
    operation: 'POST /systemusers',
    title: 'refuses an existing username',
    status: 400,
    request: () => ['POST', '/api/systemusers', { body: { username: 'alice', email: 'other@example.com' } }],
  },
  {
    route: 'POST /api/systemusers',
    spec: 'v1',
    operation: 'POST /systemusers',
    title: 'refuses a user without email',
    status: 400,
    request: () => ['POST', '/api/systemusers', { body: { username: 'nomail' } }],
  },
  {
    route: 'GET /api/systemusers/:id',
    spec: 'v1',
    operation: 'GET /systemusers/{id}',
    title: 'reads a user',
    status: 200,
    request: () => ['GET', `/api/systemusers/${ids.alice}`],
  },
  {
    route: 'GET /api/systemusers/:id',
    spec: 'v1',
    operation: 'GET /systemusers/{id}',
    title: 'answers 404 for an unknown user',
    status: 404,
    request: () => ['GET', '/api/systemusers/0123456789abcdef01234567'],
  },
  {
    route: 'PUT /api/systemusers/:id',
    spec: 'v1',
    operation: 'PUT /systemusers/{id}',
    title: 'suspends a user',
    status: 200,
    request: () => [
      'PUT',
      `/api/systemusers/${ids.bob}`,
      { body: { state: 'SUSPENDED', jobTitle: 'Builder' } },
    ],
  },
  {
    route: 'PUT /api/systemusers/:id',
    spec: 'v1',
    operation: 'PUT /systemusers/{id}',
    title: "refuses another user's email",
    status: 400,
    request: () => ['PUT', `/api/systemusers/${ids.bob}`, { body: { email: 'alice@example.com' } }],
  },
  {
    route: 'DELETE /api/systemusers/:id',
    spec: 'v1',
    operation: 'DELETE /systemusers/{id}',
    title: 'refuses to delete a manager',
    status: 409,
    request: () => ['DELETE', `/api/systemusers/${ids.alice}`],
  },
  // v1 applications
  {
    route: 'GET /api/applications',
    spec: 'v1',
    operation: 'GET /applications',
    title: 'lists applications',
    status: 200,
    request: () => ['GET', '/api/applications'],
  },
  {
    route: 'GET /api/applications/:id',
    spec: 'v1',
    operation: 'GET /applications/{id}',
    title: 'reads the Notion application',
    status: 200,
    request: () => ['GET', `/api/applications/${NOTION_APP_ID}`],
  },
  {
    route: 'GET /api/applications/:id',
    spec: 'v1',
    operation: 'GET /applications/{id}',
    title: 'answers 404 for an unknown application',
    status: 404,
    request: () => ['GET', '/api/applications/0123456789abcdef01234567'],
  },
  // v2 user groups
  {
    route: 'GET /api/v2/usergroups',
    spec: 'v2',
    operation: 'GET /usergroups',
    title: 'lists groups',
    status: 200,
    request: () => ['GET', '/api/v2/usergroups?filter=name:eq:Engineering&sort=-name'],
  },
  {
    route: 'GET /api/v2/usergroups',
    spec: 'v2',
    operation: 'GET /usergroups',
    title: 'refuses limit above 100',
    status: 400,
    request: () => ['GET', '/api/v2/usergroups?limit=500'],
  },
  {
    route: 'POST /api/v2/usergroups',
    spec: 'v2',
    operation: 'POST /usergroups',
    title: 'creates a group',
    status: 201,
    request: () => ['POST', '/api/v2/usergroups', { body: { name: 'Design', description: 'Designers' } }],
  },
  {
    route: 'POST /api/v2/usergroups',
    spec: 'v2',
    operation: 'POST /usergroups',
    title: 'refuses an existing group name',
    status: 409,
    request: () => ['POST', '/api/v2/usergroups', { body: { name: 'Engineering' } }],
  },
  {
    route: 'GET /api/v2/usergroups/:id',
    spec: 'v2',
    operation: 'GET /usergroups/{id}',
    title: 'reads a group',
    status: 200,
    request: () => ['GET', `/api/v2/usergroups/${ids.Engineering}`],
  },
  {
    route: 'PUT /api/v2/usergroups/:id',
    spec: 'v2',
    operation: 'PUT /usergroups/{id}',
    title: 'renames a group',
    status: 200,
    request: () => ['PUT', `/api/v2/usergroups/${ids.Platform}`, { body: { name: 'Platform Engineering' } }],
  },
  {
    route: 'PUT /api/v2/usergroups/:id',
    spec: 'v2',
    operation: 'PUT /usergroups/{id}',
    title: 'refuses an update without name',
    status: 400,
    request: () => ['PUT', `/api/v2/usergroups/${ids.Platform}`, { body: { description: 'no name' } }],
  },
  {
    route: 'GET /api/v2/usergroups/:id/members',
    spec: 'v2',
    operation: 'GET /usergroups/{group_id}/members',
    title: 'lists direct members',
    status: 200,
    request: () => ['GET', `/api/v2/usergroups/${ids.Engineering}/members`],
  },
  {
    route: 'POST /api/v2/usergroups/:id/members',
    spec: 'v2',
    operation: 'POST /usergroups/{group_id}/members',
    title: 'adds a member',
    status: 204,
    request: () => [
      'POST',
      `/api/v2/usergroups/${ids.Engineering}/members`,
      { body: { op: 'add', type: 'user', id: ids.dave } },
    ],
  },
  {
    route: 'POST /api/v2/usergroups/:id/members',
    spec: 'v2',
    operation: 'POST /usergroups/{group_id}/members',
    title: 'refuses to add an existing member',
    status: 409,
    request: () => [
      'POST',
      `/api/v2/usergroups/${ids.Engineering}/members`,
      { body: { op: 'add', type: 'user', id: ids.alice } },
    ],
  },
  {
    route: 'GET /api/v2/usergroups/:id/membership',
    spec: 'v2',
    operation: 'GET /usergroups/{group_id}/membership',
    title: 'lists resolved membership',
    status: 200,
    request: () => ['GET', `/api/v2/usergroups/${ids.Engineering}/membership`],
  },
  {
    route: 'GET /api/v2/users/:id/memberof',
    spec: 'v2',
    operation: 'GET /users/{user_id}/memberof',
    title: "lists a user's groups",
    status: 200,
    request: () => ['GET', `/api/v2/users/${ids.bob}/memberof`],
  },
  {
    route: 'GET /api/v2/applications/:id/associations',
    spec: 'v2',
    operation: 'GET /applications/{application_id}/associations',
    title: 'lists bound groups',
    status: 200,
    request: () => ['GET', `${app}/associations?targets=user_group`],
  },
  {
    route: 'GET /api/v2/applications/:id/associations',
    spec: 'v2',
    operation: 'GET /applications/{application_id}/associations',
    title: 'lists bound users',
    status: 200,
    request: () => ['GET', `${app}/associations?targets=user`],
  },
  {
    route: 'GET /api/v2/applications/:id/associations',
    spec: 'v2',
    operation: 'GET /applications/{application_id}/associations',
    title: 'refuses a request without targets',
    status: 400,
    request: () => ['GET', `${app}/associations`],
  },
  {
    route: 'POST /api/v2/applications/:id/associations',
    spec: 'v2',
    operation: 'POST /applications/{application_id}/associations',
    title: 'binds a group',
    status: 204,
    request: () => [
      'POST',
      `${app}/associations`,
      { body: { op: 'add', type: 'user_group', id: ids.Doomed } },
    ],
  },
  {
    route: 'GET /api/v2/applications/:id/users',
    spec: 'v2',
    operation: 'GET /applications/{application_id}/users',
    title: 'lists users bound directly and through groups',
    status: 200,
    request: () => ['GET', `${app}/users?limit=100`],
  },
  {
    route: 'GET /api/v2/applications/:id/usergroups',
    spec: 'v2',
    operation: 'GET /applications/{application_id}/usergroups',
    title: 'lists groups bound directly and nested',
    status: 200,
    request: () => ['GET', `${app}/usergroups`],
  },
  // Directory Insights
  {
    route: 'POST /insights/directory/v1/events',
    spec: 'di',
    operation: 'POST /events',
    title: 'queries events',
    status: 200,
    request: () => ['POST', '/insights/directory/v1/events', { body: { ...since, limit: 5, sort: 'DESC' } }],
  },
  {
    route: 'POST /insights/directory/v1/events',
    spec: 'di',
    operation: 'POST /events',
    title: 'refuses a query without start_time',
    status: 400,
    request: () => ['POST', '/insights/directory/v1/events', { body: { service: ['directory'] } }],
  },
  {
    route: 'POST /insights/directory/v1/events/count',
    spec: 'di',
    operation: 'POST /events/count',
    title: 'counts events',
    status: 200,
    request: () => [
      'POST',
      '/insights/directory/v1/events/count',
      { body: { ...since, search_term: { and: [{ event_type: 'user_update' }] } } },
    ],
  },
  // Deletions last: they remove fixture objects.
  {
    route: 'DELETE /api/v2/usergroups/:id',
    spec: 'v2',
    operation: 'DELETE /usergroups/{id}',
    title: 'deletes a group',
    status: 200,
    request: () => ['DELETE', `/api/v2/usergroups/${ids.Doomed}`],
  },
  {
    route: 'DELETE /api/systemusers/:id',
    spec: 'v1',
    operation: 'DELETE /systemusers/{id}',
    title: 'deletes a user',
    status: 200,
    request: () => ['DELETE', `/api/systemusers/${ids.dave}`],
  },
];

describe('JumpCloud emulator: OpenAPI contract', () => {
  test.each(CALLS.map((entry) => [`${entry.route} ${entry.title} (${entry.status})`, entry] as const))(
    '%s',
    async (_title, entry) => {
      const [method, url, options] = entry.request();
      const reply: Reply = await call(method, url, options);
      expect({ status: reply.status, body: reply.body }).toMatchObject({ status: entry.status });
      const { declared, validate, schema } = expectation(entry.spec, entry.operation, entry.status);
      if (entry.status < 400) expect(declared).toBe(true);
      if (validate) {
        const valid = validate(reply.body);
        expect({ valid, errors: validate.errors ?? [] }).toEqual({ valid: true, errors: [] });
        expect(undeclaredFields(entry.spec, schema, reply.body)).toEqual([]);
      } else {
        expect(reply.body).toBeUndefined();
      }
    },
  );

  test('every API route the emulator serves has a contract entry with a successful call', () => {
    const served = emulator.routes().map((route) => `${route.method} ${route.url}`);
    const covered = new Set(CALLS.filter((entry) => entry.status < 300).map((entry) => entry.route));
    expect(served.filter((route) => !covered.has(route))).toEqual([]);
    expect([...covered].filter((route) => !served.includes(route))).toEqual([]);
  });

  test('every contract entry names an operation of its spec', () => {
    for (const entry of CALLS)
      expect(() => expectation(entry.spec, entry.operation, entry.status)).not.toThrow();
  });

  test('the extracts are what JumpCloud publishes: x-api-key auth, the emulated base paths', () => {
    for (const spec of [specs.v1, specs.v2])
      expect((spec.components as Json).securitySchemes).toMatchObject({
        'x-api-key': { in: 'header', name: 'x-api-key' },
      });
    expect(specs.di.securityDefinitions).toMatchObject({ 'x-api-key': { in: 'header', name: 'x-api-key' } });
    expect(specs.di.basePath).toBe('/insights/directory/v1');
  });

  test('the validator rejects bodies that break the spec (it is not vacuous)', () => {
    const listed = expectation('v1', 'GET /systemusers', 200);
    const users = listed.validate!;
    expect(
      undeclaredFields('v1', listed.schema, { results: [{ _id: 'x', id: 'x' }], totalCount: 1 }),
    ).toEqual(['$.results[0].id']);
    expect(users({ results: [{ _id: 'x', state: 'DELETED' }], totalCount: 1 })).toBe(false);
    expect(users({ results: 'none', totalCount: 0 })).toBe(false);
    const groups = expectation('v2', 'GET /usergroups', 200).validate!;
    expect(groups([{ id: 'x', type: 'group' }])).toBe(false);
    const paths = expectation('v2', 'GET /applications/{application_id}/users', 200).validate!;
    expect(paths([{ id: 'x', type: 'user' }])).toBe(false);
    expect(paths([{ id: 'x', type: 'user', paths: [[{ to: { id: 'y' } }]] }])).toBe(false);
  });
});
