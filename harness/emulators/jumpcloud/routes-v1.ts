/**
 * The v1 API at `/api`: `systemusers` and `applications`, bodies `{results, totalCount}`. Users are
 * served with their raw fields, if a test set any (`JumpCloudDirectory.setRawUserFields`).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SystemUser, UserCreateInput, UserUpdateInput } from './model';
import { first, paginate, parsePage, projector, sortRows, v1Filter, type QueryString } from './query';
import type { JumpCloudDirectory } from './store';

type Request = FastifyRequest<{ Params: { id: string }; Querystring: QueryString; Body: unknown }>;

/** `filter=username:$eq:x` / `email:$eq:x` alone: answered from the indexes, not by a scan. */
function indexedLookup(directory: JumpCloudDirectory, query: QueryString): SystemUser[] | undefined {
  const keys = Object.keys(query).filter((key) => key.startsWith('filter'));
  const filter = query.filter;
  if (keys.length !== 1 || typeof filter !== 'string') return undefined;
  const match = /^(username|email):\$eq:(.*)$/s.exec(filter);
  if (!match) return undefined;
  const [, field, value] = match as unknown as [string, 'username' | 'email', string];
  const user = field === 'username' ? directory.findUserByUsername(value) : directory.findUserByEmail(value);
  // The indexes ignore case; v1 filter values are case sensitive. (Bodies are validated by the store.)
  return user && user[field] === value ? [user] : [];
}

export function registerV1Routes(app: FastifyInstance, directory: JumpCloudDirectory): void {
  // Clients page through every user with the same sort (`_id`, as JumpCloud advises): sorting
  // 10,000 users once per change instead of once per page keeps paging fast.
  const sorted = new Map<string, SystemUser[]>();
  let sortedRevision = -1;
  const sortedUsers = (sort: string | string[] | undefined): SystemUser[] => {
    if (sortedRevision !== directory.usersRevision) {
      sorted.clear();
      sortedRevision = directory.usersRevision;
    }
    const key = JSON.stringify(sort ?? null);
    let rows = sorted.get(key);
    if (!rows) {
      rows = sortRows(directory.listUsers(), sort);
      sorted.set(key, rows);
    }
    return rows;
  };

  app.get('/api/systemusers', (request: Request) => {
    const query = request.query;
    const page = parsePage(query);
    const filter = v1Filter(query);
    const indexed = indexedLookup(directory, query);
    // Filtering keeps the order, so it can follow the (cached) sort.
    let rows = indexed ? sortRows(indexed, query.sort) : sortedUsers(query.sort);
    if (filter) rows = rows.filter((user) => filter(user as unknown as Record<string, unknown>));
    const project = projector(query.fields, '_id');
    return {
      results: paginate(rows, page).map((user) => project(directory.servedUser(user))),
      totalCount: rows.length,
    };
  });

  app.post('/api/systemusers', (request: Request) =>
    directory.createUser(request.body as UserCreateInput, { clientIp: request.ip }),
  );

  app.get('/api/systemusers/:id', (request: Request) => {
    const user = directory.getUser(request.params.id);
    return projector(request.query.fields, '_id')(directory.servedUser(user));
  });

  app.put('/api/systemusers/:id', (request: Request) =>
    directory.servedUser(
      directory.updateUser(request.params.id, request.body as UserUpdateInput, { clientIp: request.ip }),
    ),
  );

  app.delete('/api/systemusers/:id', (request: Request) =>
    directory.deleteUser(
      request.params.id,
      { cascadeManager: first(request.query.cascade_manager) !== undefined },
      { clientIp: request.ip },
    ),
  );

  app.get('/api/applications', (request: Request) => {
    const query = request.query;
    const page = parsePage(query);
    const filter = v1Filter(query);
    let rows = directory.listApplications() as unknown as Record<string, unknown>[];
    if (filter) rows = rows.filter(filter);
    rows = sortRows(rows, query.sort ?? 'name');
    return { results: paginate(rows, page).map(projector(query.fields, '_id')), totalCount: rows.length };
  });

  app.get('/api/applications/:id', (request: Request) =>
    projector(
      request.query.fields,
      '_id',
    )(directory.application(request.params.id) as unknown as Record<string, unknown>),
  );
}
