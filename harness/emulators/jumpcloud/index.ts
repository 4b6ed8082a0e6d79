/**
 * The JumpCloud emulator: v1 at `/api`, v2 at `/api/v2`, Directory Insights at
 * `/insights/directory/v1`, all behind `x-api-key`, plus the `/_emulator/` test controls.
 * Every mutation made through the API (or the event-generating methods below) appends the
 * matching Directory Insights event.
 */
import { STATUS_CODES } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { installControlPlane, type ControlPlane } from '../common/control';
import { close, listen, type ListenOptions } from '../common/server';
import { JumpCloudError, jumpCloudErrorBody } from './errors';
import type { InsightsEvent } from './journal';
import type {
  GraphConnection,
  GraphObjectWithPaths,
  GroupWriteInput,
  SystemUser,
  UserCreateInput,
  UserGroup,
  UserUpdateInput,
} from './model';
import { registerControlRoutes, resolveSeed } from './routes-control';
import { registerInsightsRoutes } from './routes-insights';
import { registerV1Routes } from './routes-v1';
import { registerV2Routes } from './routes-v2';
import type { JumpCloudSeed } from './seed';
import type { JumpCloudSnapshot } from './snapshot';
import { JumpCloudDirectory, type DirectoryState } from './store';

export type { JumpCloudSeed } from './seed';
export type { InsightsEvent } from './journal';
export type { DirectoryState } from './store';
export type * from './model';
export { JumpCloudDirectory } from './store';
export { JumpCloudError } from './errors';
export type { JumpCloudSnapshot } from './snapshot';
export { SnapshotError } from '../common/snapshot';

export const DEFAULT_API_KEY = 'local-jumpcloud-key';
export const DEFAULT_NOTION_APP_ID = '64b7f0c2a1d3e4f5a6b7c8d9';
/** The organisation id objects and events carry when no `orgId` is given. */
export const DEFAULT_ORG_ID = '5e9a3c7b1d2f4a6b8c0d1e2f';

export interface JumpCloudEmulatorOptions {
  /** The API key accepted in `x-api-key` (default `local-jumpcloud-key`). */
  apiKey?: string;
  /** The organisation id; when set, an `x-org-id` header must name it. */
  orgId?: string;
  /** Id of the `Notion` SSO application (default `64b7f0c2a1d3e4f5a6b7c8d9`). */
  notionAppId?: string;
  /** Fastify's request logging (default off). */
  logger?: boolean;
}

export interface ApiRoute {
  method: string;
  url: string;
}

export interface JumpCloudEmulator {
  app: FastifyInstance;
  control: ControlPlane;
  /** The directory behind the API (reads, and the same mutations as below). */
  directory: JumpCloudDirectory;
  /** Listens and resolves to the origin, e.g. `http://127.0.0.1:8410`. */
  listen(options?: ListenOptions): Promise<string>;
  close(): Promise<void>;
  /** Empty directory and journal; the API key and the `Notion` application stay. */
  reset(): void;
  /** Adds pre-existing objects (no events); `{name: 'demo'}` loads the demo organisation. */
  seed(seed: JumpCloudSeed | { name: 'demo' }): void;
  state(): DirectoryState;
  /**
   * The whole state as a JSON-serialisable document (`version: 1`): users, groups, nested
   * memberships, applications and bindings with their ids and times, the Directory Insights
   * journal (event ids and times, so cursors stay valid) and the insights delay.
   */
  snapshot(): JumpCloudSnapshot;
  /**
   * Replaces the state with a snapshot's, all or nothing; a malformed, inconsistent or foreign
   * snapshot is refused with a `SnapshotError` naming the problem. The API key stays.
   */
  restore(snapshot: unknown): void;
  /** Changes whenever the state does (to save a snapshot only when needed). */
  revision(): number;
  /** The API routes served (not the `/_emulator/` ones). */
  routes(): ApiRoute[];
  /** Hides new events from queries until `ms` after their timestamp (late arrival). */
  setInsightsDelay(ms: number): void;
  /** The whole journal, delayed events included (raw events as they were given). */
  events(): InsightsEvent[];

  // Test controls that serve malformed records, as the real service might; the model stays as it is.
  /**
   * Merges `fields` into the user's JSON as v1 `/systemusers` and `/systemusers/{id}` serve it
   * (e.g. `{state: 'ARCHIVED_SOMEHOW'}`), replacing any set before; `{}` clears them. No event;
   * filters, events and snapshots see the model's user.
   */
  setRawUserFields(id: string, fields: Record<string, unknown>): void;
  /** The raw fields served over a user's record (`{}`: none). */
  rawUserFields(id: string): Record<string, unknown>;
  /**
   * Appends `event` verbatim to Directory Insights (it may lack `timestamp`, `id`…), at the time
   * it is appended, in order with the others; returns that time (ms). Not part of snapshots.
   */
  appendRawEvent(event: Record<string, unknown>): number;

  // Direct, event-generating mutations with the API's semantics (errors are `JumpCloudError`s).
  createUser(input: UserCreateInput): SystemUser;
  updateUser(id: string, input: UserUpdateInput): SystemUser;
  /** Suspends (`true`) or unsuspends a user: a `user_update` plus `user_suspended`/`user_unsuspended`. */
  suspendUser(id: string, suspended?: boolean): SystemUser;
  deleteUser(id: string, options?: { cascadeManager?: boolean }): SystemUser;
  createGroup(input: GroupWriteInput): UserGroup;
  /** A full update, like `PUT /usergroups/{id}`. */
  updateGroup(id: string, input: GroupWriteInput): UserGroup;
  deleteGroup(id: string): UserGroup;
  addGroupMember(groupId: string, member: { type: 'user' | 'user_group'; id: string }): void;
  removeGroupMember(groupId: string, member: { type: 'user' | 'user_group'; id: string }): void;
  /** Binds a user or group to an application (the `Notion` application by default). */
  bind(target: { type: 'user' | 'user_group'; id: string }, appId?: string): void;
  unbind(target: { type: 'user' | 'user_group'; id: string }, appId?: string): void;
  applicationUsers(appId?: string): GraphObjectWithPaths[];
  groupMembers(groupId: string): GraphConnection[];
}

const OBJECT_ID = /^[0-9a-f]{24}$/;

export function createJumpCloudEmulator(options: JumpCloudEmulatorOptions = {}): JumpCloudEmulator {
  const apiKey = options.apiKey ?? DEFAULT_API_KEY;
  const notionAppId = options.notionAppId ?? DEFAULT_NOTION_APP_ID;
  const directory = new JumpCloudDirectory({ organization: options.orgId ?? DEFAULT_ORG_ID, notionAppId });

  const app = Fastify({ logger: options.logger ?? false, exposeHeadRoutes: false });
  const apiRoutes: ApiRoute[] = [];
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/_emulator')) return;
    for (const method of [route.method].flat()) apiRoutes.push({ method, url: route.url });
  });

  // Empty bodies with a JSON content type (as some SDKs send on DELETE) are no body, not a 400.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new JumpCloudError(400, 'Bad Request: the body is not valid JSON'), undefined);
    }
  });

  const control = installControlPlane(app, { errorBody: jumpCloudErrorBody });

  app.addHook('onRequest', async (request, reply) => {
    if (request.url.startsWith('/_emulator')) return;
    if (request.headers['x-api-key'] !== apiKey)
      return reply.code(401).send(jumpCloudErrorBody(401, 'Unauthorized'));
    const refusal = checkOrgId(request, options.orgId);
    if (refusal) return reply.code(refusal.status).send(jumpCloudErrorBody(refusal.status, refusal.message));
  });

  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof JumpCloudError)
      return reply.code(error.statusCode).send(jumpCloudErrorBody(error.statusCode, error.message));
    // Fastify's own refusals (malformed JSON, oversized body, …) keep their status.
    const statusCode = (error as { statusCode?: unknown }).statusCode;
    const status = typeof statusCode === 'number' && statusCode >= 400 ? statusCode : 500;
    const message = status < 500 && error instanceof Error ? error.message : 'Internal Server Error';
    return reply
      .code(status)
      .send(jumpCloudErrorBody(status, `${STATUS_CODES[status] ?? 'Error'}: ${message}`));
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(jumpCloudErrorBody(404, `Not Found: ${request.method} ${request.url.split('?')[0]}`)),
  );

  registerV1Routes(app, directory);
  registerV2Routes(app, directory);
  registerInsightsRoutes(app, directory);
  registerControlRoutes(app, directory);

  const member = (op: 'add' | 'remove', target: { type: 'user' | 'user_group'; id: string }) => ({
    op,
    ...target,
  });

  return {
    app,
    control,
    directory,
    listen: (listenOptions) => listen(app, listenOptions),
    close: () => close(app),
    reset: () => directory.reset(),
    seed: (seed) => directory.seed('name' in seed ? resolveSeed({ name: 'demo' }) : seed),
    state: () => directory.state(),
    snapshot: () => directory.snapshot(),
    restore: (snapshot) => directory.restore(snapshot),
    revision: () => directory.revision,
    routes: () => [...apiRoutes],
    setInsightsDelay: (ms) => directory.journal.setDelay(ms),
    events: () => directory.events(),
    setRawUserFields: (id, fields) => directory.setRawUserFields(id, fields),
    rawUserFields: (id) => {
      directory.getUser(id);
      return directory.rawFieldsOf(id);
    },
    appendRawEvent: (event) => directory.appendRawEvent(event),
    createUser: (input) => directory.createUser(input),
    updateUser: (id, input) => directory.updateUser(id, input),
    suspendUser: (id, suspended = true) =>
      directory.updateUser(id, { state: suspended ? 'SUSPENDED' : 'ACTIVATED' }),
    deleteUser: (id, deleteOptions) => directory.deleteUser(id, deleteOptions),
    createGroup: (input) => directory.createGroup(input),
    updateGroup: (id, input) => directory.updateGroup(id, input),
    deleteGroup: (id) => directory.deleteGroup(id),
    addGroupMember: (groupId, target) => directory.changeGroupMember(groupId, member('add', target)),
    removeGroupMember: (groupId, target) => directory.changeGroupMember(groupId, member('remove', target)),
    bind: (target, appId = notionAppId) => directory.changeAssociation(appId, member('add', target)),
    unbind: (target, appId = notionAppId) => directory.changeAssociation(appId, member('remove', target)),
    applicationUsers: (appId = notionAppId) => directory.applicationUsers(appId),
    groupMembers: (groupId) => directory.groupMembers(groupId),
  };
}

/**
 * `x-org-id` (multi-tenant admins; single-tenant admins may leave it out): when the emulator has
 * an organisation id, a malformed id is a 400 and another organisation's a 404 (PS-V1
 * "Multi-Tenant Portal Headers"). Directory Insights accepts several, comma-joined by Node.
 */
function checkOrgId(
  request: FastifyRequest,
  orgId: string | undefined,
): { status: number; message: string } | undefined {
  const header = request.headers['x-org-id'];
  if (orgId === undefined || header === undefined) return undefined;
  const ids = [header]
    .flat()
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value !== '');
  for (const id of ids) {
    if (!OBJECT_ID.test(id)) return { status: 400, message: 'Bad Request: malformed x-org-id' };
    if (id !== orgId) return { status: 404, message: 'Not Found: organization not found' };
  }
  return undefined;
}
