/** The SCIM 2.0 API of the Notion emulator, under `/scim/v2`, as the real service answers it. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parse } from 'scim2-parse-filter';
import type { z } from 'zod';
import {
  groupCreateSchema,
  groupPatchChange,
  patchSchema,
  userCreateSchema,
  userPatchChange,
  userReplaceChange,
  userReplaceSchema,
} from './patch';
import {
  LOCATION_BASE,
  RESOURCE_TYPES,
  SCHEMA,
  SCIM_CONTENT_TYPE,
  SERVICE_PROVIDER_CONFIG,
  ScimError,
  groupResource,
  listResponse,
  scimErrorBody,
  userResource,
} from './scim';
import type { GroupRecord, NotionStore, UserFilter, UserRecord } from './store';

export const SCIM_BASE = '/scim/v2';
const MAX_COUNT = 100;

/** Body-less requests (DELETE with a JSON content type) are fine; malformed JSON is `invalidSyntax`. */
function parseJson(
  _request: FastifyRequest,
  body: string,
  done: (error: Error | null, body?: unknown) => void,
) {
  if (body.trim() === '') return done(null, undefined);
  try {
    done(null, JSON.parse(body));
  } catch {
    done(new ScimError(400, 'The request body is not valid JSON', 'invalidSyntax'));
  }
}

function sendScim(reply: FastifyReply, status: number, body: unknown) {
  return reply.code(status).type(SCIM_CONTENT_TYPE).send(body);
}

function queryParam(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] : value;
}

/** 1-based `startIndex` (below 1 means 1) and `count` capped at 100 (RFC 7644 §3.4.2.4). */
function paging(request: FastifyRequest) {
  const int = (name: string) => {
    const raw = queryParam(request, name);
    if (raw === undefined || raw === '') return undefined;
    const value = Number(raw);
    if (!Number.isInteger(value)) throw new ScimError(400, `${name} must be an integer`, 'invalidValue');
    return value;
  };
  const startIndex = Math.max(1, int('startIndex') ?? 1);
  const count = Math.min(MAX_COUNT, Math.max(0, int('count') ?? MAX_COUNT));
  return { startIndex, count };
}

function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ScimError(400, 'The request body must be a JSON object', 'invalidSyntax');
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`);
    throw new ScimError(400, `Invalid request body: ${issues.join('; ')}`, 'invalidValue');
  }
  return parsed.data;
}

/**
 * `attr eq "value"` only. Notion's own examples leave the value unquoted
 * (`displayName eq Designers`), so that form is read as well.
 */
function parseEqFilter(raw: string, supported: string): { attribute: string; value: string } {
  const refuse = () =>
    new ScimError(
      400,
      `Unsupported filter ${JSON.stringify(raw)}: supported are ${supported}`,
      'invalidFilter',
    );
  try {
    const filter = parse(raw);
    if (filter.op !== 'eq' || !('compValue' in filter) || typeof filter.compValue !== 'string')
      throw refuse();
    return { attribute: filter.attrPath.toLowerCase(), value: filter.compValue };
  } catch (error) {
    if (error instanceof ScimError) throw error;
    const unquoted = /^\s*([\w.:-]+)\s+eq\s+([^"\s][^"]*?)\s*$/i.exec(raw);
    if (unquoted) return { attribute: unquoted[1]!.toLowerCase(), value: unquoted[2]! };
    throw refuse();
  }
}

/** Notion documents `email`, `given_name`, `family_name`; `userName` is what Entra relies on. */
const USER_FILTER_ATTRIBUTES: Record<string, UserFilter['attribute']> = {
  email: 'userName',
  username: 'userName',
  given_name: 'givenName',
  family_name: 'familyName',
};

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

export interface ScimRouteOptions {
  token: string;
}

export function registerScimRoutes(
  app: FastifyInstance,
  store: NotionStore,
  options: ScimRouteOptions,
): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(['application/json', 'application/scim+json'], { parseAs: 'string' }, parseJson);

  const authenticate = (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match)
      return done(new ScimError(401, 'Missing bearer token: send Authorization: Bearer <SCIM token>'));
    // A revoked token looks like any unknown token.
    if (match[1] !== options.token || !store.config.tokenValid)
      return done(new ScimError(401, 'Invalid or revoked token'));
    done();
  };
  const authed = { onRequest: authenticate };

  const order = <T>(items: readonly T[]) => (store.config.unstableOrdering ? shuffled(items) : items);
  const visibleUser = (id: string): UserRecord => {
    const user = store.visibleUser(id);
    if (!user) throw new ScimError(404, `User ${id} not found`);
    return user;
  };
  const existingGroup = (id: string): GroupRecord => {
    const group = store.group(id);
    if (!group) throw new ScimError(404, `Group ${id} not found`);
    return group;
  };
  /** A member as served: malformed on purpose for the ids the test configured (issue 15). */
  const servedUser = (user: UserRecord) => {
    const resource: Record<string, unknown> = { ...userResource(user) };
    if (store.config.malformedUserIds?.includes(user.id)) delete resource.userName;
    return resource;
  };
  const userNameOf = (id: string) => store.userNameOf(id);
  const toGroup = (group: GroupRecord) => groupResource(group, userNameOf);

  // Discovery answers without authentication, as on the real service.
  app.get(`${SCIM_BASE}/ServiceProviderConfig`, (_request, reply) =>
    sendScim(reply, 200, SERVICE_PROVIDER_CONFIG),
  );
  app.get(`${SCIM_BASE}/ResourceTypes`, (_request, reply) => sendScim(reply, 200, RESOURCE_TYPES));

  // ---- Users ----

  app.get(`${SCIM_BASE}/Users`, authed, (request, reply) => {
    const { startIndex, count } = paging(request);
    const raw = queryParam(request, 'filter');
    let filter: UserFilter | undefined;
    if (raw !== undefined && raw.trim() !== '') {
      const { attribute, value } = parseEqFilter(
        raw,
        'email, given_name, family_name (and userName) with eq',
      );
      const mapped = USER_FILTER_ATTRIBUTES[attribute];
      if (!mapped) {
        throw new ScimError(
          400,
          `Unsupported filter attribute "${attribute}": use email, given_name or family_name`,
          'invalidFilter',
        );
      }
      filter = { attribute: mapped, value };
    }
    return sendScim(reply, 200, listResponse(order(store.listUsers(filter)), startIndex, count, servedUser));
  });

  app.get<{ Params: { id: string } }>(`${SCIM_BASE}/Users/:id`, authed, (request, reply) =>
    sendScim(reply, 200, servedUser(visibleUser(request.params.id))),
  );

  app.post(`${SCIM_BASE}/Users`, authed, (request, reply) => {
    const body = parseBody(userCreateSchema, request.body);
    const role = body[SCHEMA.notionUser]?.role;
    // POST always adds to the workspace: `active` in the body is not read.
    const user = store.createUser({
      userName: body.userName,
      ...(body.name?.givenName != null ? { givenName: body.name.givenName } : {}),
      ...(body.name?.familyName != null ? { familyName: body.name.familyName } : {}),
      ...(body.name?.formatted != null ? { formatted: body.name.formatted } : {}),
      ...(body.title != null ? { title: body.title } : {}),
      ...(role ? { role } : {}),
    });
    void reply.header('location', `${LOCATION_BASE}/Users/${user.id}`);
    return sendScim(reply, 201, userResource(user));
  });

  app.put<{ Params: { id: string } }>(`${SCIM_BASE}/Users/:id`, authed, (request, reply) => {
    const user = visibleUser(request.params.id);
    const change = userReplaceChange(parseBody(userReplaceSchema, request.body));
    return sendScim(reply, 200, userResource(store.updateUser(user, change)));
  });

  app.patch<{ Params: { id: string } }>(`${SCIM_BASE}/Users/:id`, authed, (request, reply) => {
    const user = visibleUser(request.params.id);
    const change = userPatchChange(user, parseBody(patchSchema, request.body));
    return sendScim(reply, 200, userResource(store.updateUser(user, change)));
  });

  app.delete<{ Params: { id: string } }>(`${SCIM_BASE}/Users/:id`, authed, (request, reply) => {
    store.deleteUser(visibleUser(request.params.id));
    return reply.code(204).send();
  });

  // ---- Groups ----

  app.get(`${SCIM_BASE}/Groups`, authed, (request, reply) => {
    const { startIndex, count } = paging(request);
    const raw = queryParam(request, 'filter');
    let displayName: string | undefined;
    if (raw !== undefined && raw.trim() !== '') {
      const { attribute, value } = parseEqFilter(raw, 'displayName eq');
      if (attribute !== 'displayname') {
        throw new ScimError(
          400,
          `Unsupported filter attribute "${attribute}": use displayName`,
          'invalidFilter',
        );
      }
      displayName = value;
    }
    return sendScim(
      reply,
      200,
      listResponse(order(store.listGroups(displayName)), startIndex, count, toGroup),
    );
  });

  app.get<{ Params: { id: string } }>(`${SCIM_BASE}/Groups/:id`, authed, (request, reply) =>
    sendScim(reply, 200, toGroup(existingGroup(request.params.id))),
  );

  app.post(`${SCIM_BASE}/Groups`, authed, (request, reply) => {
    const body = parseBody(groupCreateSchema, request.body);
    const group = store.createGroup(
      body.displayName,
      (body.members ?? []).map((member) => member.value),
    );
    void reply.header('location', `${LOCATION_BASE}/Groups/${group.id}`);
    return sendScim(reply, 201, toGroup(group));
  });

  app.put<{ Params: { id: string } }>(`${SCIM_BASE}/Groups/:id`, authed, (request, reply) => {
    const group = existingGroup(request.params.id);
    const body = parseBody(groupCreateSchema, request.body);
    // Members are replaced only when given: a rename by PUT keeps them.
    const members =
      body.members === undefined ? undefined : (body.members ?? []).map((member) => member.value);
    return sendScim(
      reply,
      200,
      toGroup(store.updateGroup(group, { displayName: body.displayName, ...(members ? { members } : {}) })),
    );
  });

  // Answers 200 with the group (RFC 7644 allows 200 or 204).
  app.patch<{ Params: { id: string } }>(`${SCIM_BASE}/Groups/:id`, authed, (request, reply) => {
    const group = existingGroup(request.params.id);
    const change = groupPatchChange(group, parseBody(patchSchema, request.body), userNameOf);
    return sendScim(reply, 200, toGroup(store.updateGroup(group, change)));
  });

  app.delete<{ Params: { id: string } }>(`${SCIM_BASE}/Groups/:id`, authed, (request, reply) => {
    store.deleteGroup(existingGroup(request.params.id));
    return reply.code(204).send();
  });
}

/** SCIM-shaped errors for the API; plain JSON for `/_emulator/` routes. */
export function installErrorHandlers(app: FastifyInstance): void {
  const isControl = (request: FastifyRequest) => request.url.startsWith('/_emulator');

  app.setErrorHandler((error: unknown, request, reply) => {
    if (error instanceof ScimError) {
      return sendScim(reply, error.status, scimErrorBody(error.status, error.message, error.scimType));
    }
    const status =
      typeof error === 'object' &&
      error !== null &&
      'statusCode' in error &&
      typeof error.statusCode === 'number'
        ? error.statusCode
        : 500;
    const detail = error instanceof Error ? error.message : String(error);
    if (isControl(request)) return reply.code(status).send({ error: detail });
    if (status >= 500) request.log.error(error);
    return sendScim(
      reply,
      status,
      scimErrorBody(
        status,
        status >= 500 ? 'Internal server error' : detail,
        status === 400 ? 'invalidSyntax' : undefined,
      ),
    );
  });

  app.setNotFoundHandler((request, reply) => {
    if (isControl(request))
      return reply.code(404).send({ error: `no control route ${request.method} ${request.url}` });
    return sendScim(reply, 404, scimErrorBody(404, `Resource ${request.url.split('?')[0]} not found`));
  });
}
