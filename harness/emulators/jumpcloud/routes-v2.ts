/**
 * The v2 API at `/api/v2`: user groups, their members and resolved membership, a user's groups,
 * application associations and the application traversals. Lists are bare JSON arrays with the
 * total in `x-total-count`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest } from './errors';
import type { ApplicationOperation, GroupWriteInput, MemberOperation } from './model';
import { paginate, parsePage, projector, sortRows, v2Filter, type QueryString } from './query';
import type { JumpCloudDirectory } from './store';

type Request = FastifyRequest<{ Params: { id: string }; Querystring: QueryString; Body: unknown }>;
type Row = Record<string, unknown>;

/** Graph results filter on `object_id` as well as `id` (PS-V2 `/membership` filter fields). */
const GRAPH_ALIASES = { object_id: 'id' };

function sendList<T>(
  reply: FastifyReply,
  query: QueryString,
  rows: T[],
  aliases: Record<string, string> = {},
): T[] {
  const page = parsePage(query);
  const filter = v2Filter(query, aliases);
  let selected = filter ? rows.filter((row) => filter(row as Row)) : rows;
  selected = sortRows(selected, query.sort);
  void reply.header('x-total-count', String(selected.length));
  return paginate(selected, page);
}

const TARGETS = new Set(['user', 'user_group']);

function parseTargets(value: string | string[] | undefined): ('user' | 'user_group')[] {
  const targets = (Array.isArray(value) ? value : value === undefined ? [] : [value]).flatMap((item) =>
    item.split(','),
  );
  if (targets.length === 0) throw badRequest('targets is required (user, user_group)');
  for (const target of targets)
    if (!TARGETS.has(target)) throw badRequest(`invalid target '${target}' (user, user_group)`);
  return [...new Set(targets)] as ('user' | 'user_group')[];
}

export function registerV2Routes(app: FastifyInstance, directory: JumpCloudDirectory): void {
  const context = (request: Request) => ({ clientIp: request.ip });

  app.get('/api/v2/usergroups', (request: Request, reply) => {
    const page = sendList(reply, request.query, directory.listGroups());
    return page.map((group) => projector(request.query.fields, 'id')(group as unknown as Row));
  });

  app.post('/api/v2/usergroups', (request: Request, reply) =>
    reply.code(201).send(directory.createGroup(request.body as GroupWriteInput, context(request))),
  );

  app.get('/api/v2/usergroups/:id', (request: Request) => directory.getGroup(request.params.id));

  app.put('/api/v2/usergroups/:id', (request: Request) =>
    directory.updateGroup(request.params.id, request.body as GroupWriteInput, context(request)),
  );

  app.delete('/api/v2/usergroups/:id', (request: Request) =>
    directory.deleteGroup(request.params.id, context(request)),
  );

  app.get('/api/v2/usergroups/:id/members', (request: Request, reply) =>
    sendList(reply, request.query, directory.groupMembers(request.params.id)),
  );

  app.post('/api/v2/usergroups/:id/members', (request: Request, reply) => {
    directory.changeGroupMember(request.params.id, request.body as MemberOperation, context(request));
    return reply.code(204).send();
  });

  app.get('/api/v2/usergroups/:id/membership', (request: Request, reply) =>
    sendList(reply, request.query, directory.groupMembership(request.params.id), GRAPH_ALIASES),
  );

  app.get('/api/v2/users/:id/memberof', (request: Request, reply) =>
    sendList(reply, request.query, directory.userMemberOf(request.params.id), GRAPH_ALIASES),
  );

  app.get('/api/v2/applications/:id/associations', (request: Request, reply) => {
    const targets = parseTargets(request.query.targets);
    return sendList(reply, request.query, directory.applicationAssociations(request.params.id, targets));
  });

  app.post('/api/v2/applications/:id/associations', (request: Request, reply) => {
    directory.changeAssociation(request.params.id, request.body as ApplicationOperation, context(request));
    return reply.code(204).send();
  });

  app.get('/api/v2/applications/:id/users', (request: Request, reply) =>
    sendList(reply, request.query, directory.applicationUsers(request.params.id), GRAPH_ALIASES),
  );

  app.get('/api/v2/applications/:id/usergroups', (request: Request, reply) =>
    sendList(reply, request.query, directory.applicationGroups(request.params.id), GRAPH_ALIASES),
  );
}
