/**
 * JumpCloud client (reference/jumpcloud-api.md, jumpcloud-openapi/): v1 system users and
 * applications, v2 user groups, memberships and the application's graph, and Directory Insights
 * events. `x-api-key` auth, optional `x-org-id`; EU hosts are a matter of base URLs.
 */
import { z } from 'zod';
import { isApiError } from './errors';
import { HttpService, type HttpServiceOptions } from './http';
import {
  pageThrough,
  readComplete,
  recordsOf,
  requireComplete,
  type Listing,
  type ListingResume,
  type RejectedRecord,
} from './listing';
import { emailKey, jumpcloudStateSchema, normalizeEmail } from '../contracts/shared';

/** JumpCloud caps `limit` at 100 on v1 and v2 lists. */
export const JC_PAGE_SIZE = 100;

const optionalText = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined);

const systemUserSchema = z
  .looseObject({
    _id: z.string().min(1),
    username: z.string(),
    email: z.string().nullish(),
    firstname: optionalText,
    lastname: optionalText,
    displayname: optionalText,
    state: jumpcloudStateSchema.nullish(),
    activated: z.boolean().nullish(),
    suspended: z.boolean().nullish(),
  })
  .transform((u) => ({
    id: u._id,
    username: u.username,
    email: u.email ?? undefined,
    firstname: u.firstname,
    lastname: u.lastname,
    displayname: u.displayname,
    // Older records may lack `state`: derive it from the flags as JumpCloud's console does.
    state: u.state ?? (u.suspended ? 'SUSPENDED' : u.activated === false ? 'STAGED' : 'ACTIVATED'),
  }));
export type JumpCloudUser = z.output<typeof systemUserSchema>;

const applicationSchema = z
  .looseObject({
    _id: z.string().min(1),
    name: optionalText,
    displayName: optionalText,
    displayLabel: optionalText,
    ssoUrl: optionalText,
  })
  .transform((a) => ({
    id: a._id,
    name: a.name,
    displayName: a.displayName ?? a.displayLabel,
    ssoUrl: a.ssoUrl,
  }));
export type JumpCloudApplication = z.output<typeof applicationSchema>;

const groupSchema = z
  .looseObject({ id: z.string().min(1), name: z.string(), type: optionalText })
  .transform((g) => ({ id: g.id, name: g.name }));
export type JumpCloudGroup = z.output<typeof groupSchema>;

const graphObject = z.looseObject({ id: z.string().min(1), type: z.string() });
const graphConnection = z.looseObject({ to: graphObject, from: graphObject.nullish() });
const graphObjectWithPaths = z
  .looseObject({
    id: z.string().min(1),
    type: z.string(),
    paths: z.array(z.array(graphConnection)).nullish(),
  })
  .transform((o) => ({
    id: o.id,
    type: o.type,
    paths: (o.paths ?? []).map((path) => path.map((hop) => hop.to)),
  }));
/** A graph object and every path to it (each path a list of hops, `{id, type}`). */
export type JumpCloudGraphObject = z.output<typeof graphObjectWithPaths>;

const eventSchema = z.looseObject({ id: z.string().min(1), event_type: z.string(), timestamp: z.string() });
/** A Directory Insights event; fields beyond these are kept as they came. */
export type InsightsEvent = z.output<typeof eventSchema>;

export interface InsightsQuery {
  service?: string[];
  startTime: string;
  endTime?: string;
  /** Per page (JumpCloud: default 1000, at most 10,000). */
  limit?: number;
  searchTerm?: Record<string, unknown>;
}

export interface InsightsPage {
  events: InsightsEvent[];
  /** Issue 15: events that do not fit the schema (no `timestamp`…), set aside with the reason. */
  rejected: RejectedRecord[];
  /** The cursor for the next page (always sent, even after the last page). */
  searchAfter?: unknown[];
  /** False once a page came back shorter than the limit. */
  more: boolean;
}

/** Fields to create a system user with (import, SPEC I2). */
export interface NewJumpCloudUser {
  username: string;
  email: string;
  firstname?: string;
  lastname?: string;
  state?: 'STAGED' | 'ACTIVATED';
}

export interface JumpCloudClientOptions {
  baseUrl: string;
  insightsUrl: string;
  /** Read at every request: a rotated key is used by the next request. */
  apiKey: () => string;
  orgId?: string;
  beforeRequest?: HttpServiceOptions['beforeRequest'];
  timeouts?: HttpServiceOptions['timeouts'];
  /**
   * Issue 15: each page of a listing is tried this many times (Retry-After honoured) before the
   * listing fails; bulk reads set it, single-request activities leave it to Temporal's retries.
   */
  pageRetry?: HttpServiceOptions['retry'];
  /** C3: the process's circuit breaker on the JumpCloud key. */
  guard?: HttpServiceOptions['guard'];
  /** Issue 17: each request's outcome, for the worker's metrics. */
  onResponse?: HttpServiceOptions['onResponse'];
}

const jcError = z.looseObject({ message: z.string().optional(), error: z.string().optional() });

export class JumpCloudClient {
  private readonly api: HttpService;
  private readonly insights: HttpService;

  constructor(options: JumpCloudClientOptions) {
    const common = {
      service: 'jumpcloud' as const,
      authHeaders: () => ({
        'x-api-key': options.apiKey(),
        ...(options.orgId ? { 'x-org-id': options.orgId } : {}),
      }),
      errorDetail: (body: unknown) => {
        const parsed = jcError.safeParse(body);
        return parsed.success ? { detail: parsed.data.message ?? parsed.data.error } : {};
      },
      beforeRequest: options.beforeRequest,
      retry: options.pageRetry,
      timeouts: options.timeouts,
      guard: options.guard,
      onResponse: options.onResponse,
    };
    this.api = new HttpService({ ...common, baseUrl: `${options.baseUrl}/api` });
    this.insights = new HttpService({ ...common, baseUrl: options.insightsUrl });
  }

  async close(): Promise<void> {
    await Promise.all([this.api.close(), this.insights.close()]);
  }

  /** The Notion SSO application (C1 checks it exists). */
  /** C1 (and C3's probe, `probe: true`: sent even while the credential guard is open). */
  async getApplication(appId: string, options: { probe?: boolean } = {}): Promise<JumpCloudApplication> {
    const { data } = await this.api.request({
      probe: options.probe,
      operation: 'read application',
      entity: appId,
      method: 'GET',
      path: `/applications/${encodeURIComponent(appId)}`,
      schema: applicationSchema,
    });
    return data;
  }

  /** U1: users bound to the application, directly or through (nested) groups, with their paths. */
  async listApplicationUsers(appId: string): Promise<JumpCloudGraphObject[]> {
    return requireComplete(await this.readApplicationUserListing(appId), {
      service: 'jumpcloud',
      operation: 'list application users',
      entity: appId,
    });
  }

  /**
   * C5: the same listing for a reconciliation, which acts on what it holds and, when it is not
   * complete, concludes nothing from who is missing.
   */
  readApplicationUserListing(
    appId: string,
    resume?: ListingResume<JumpCloudGraphObject>,
  ): Promise<Listing<JumpCloudGraphObject>> {
    return readComplete(() =>
      this.pageV2(
        `/v2/applications/${encodeURIComponent(appId)}/users`,
        graphObjectWithPaths,
        'list application users',
        appId,
        {},
        resume,
      ),
    );
  }

  /** The user groups reachable from the application (bound directly or through nesting), with paths. */
  listApplicationGroups(appId: string): Promise<JumpCloudGraphObject[]> {
    return this.listV2(
      `/v2/applications/${encodeURIComponent(appId)}/usergroups`,
      graphObjectWithPaths,
      'list application groups',
      appId,
    );
  }

  /** G1: the direct bindings of the application to `user_group`s or `user`s. */
  async listApplicationBindings(
    appId: string,
    targets: 'user' | 'user_group',
  ): Promise<{ id: string; type: string }[]> {
    return requireComplete(await this.readApplicationBindingListing(appId, targets), {
      service: 'jumpcloud',
      operation: `list application ${targets} bindings`,
      entity: appId,
    });
  }

  /** The same bindings for a reconciliation's dispatch, which can use a partial listing. */
  async readApplicationBindingListing(
    appId: string,
    targets: 'user' | 'user_group',
  ): Promise<Listing<{ id: string; type: string }>> {
    const listing = await readComplete(() =>
      this.pageV2(
        `/v2/applications/${encodeURIComponent(appId)}/associations`,
        graphConnection,
        `list application ${targets} bindings`,
        appId,
        { targets },
      ),
    );
    return { ...listing, items: listing.items.map((c) => ({ id: c.to.id, type: c.to.type })) };
  }

  async getUser(id: string): Promise<JumpCloudUser | undefined> {
    try {
      const { data } = await this.api.request({
        operation: 'read user',
        entity: id,
        method: 'GET',
        path: `/systemusers/${encodeURIComponent(id)}`,
        schema: systemUserSchema,
      });
      return data;
    } catch (error) {
      if (isApiError(error, 'NotFound')) return undefined;
      throw error;
    }
  }

  /** Every system user (or those of a filter), complete or a retryable IncompleteListing error. */
  async listUsers(filter?: string): Promise<JumpCloudUser[]> {
    return requireComplete(await this.readUserListing(filter), {
      service: 'jumpcloud',
      operation: 'list users',
    });
  }

  /**
   * Every system user, sorted by `_id` (JumpCloud's advice for stable skip paging), read again
   * while users come and go under the paging (the `totalCount` changes, or the count disagrees).
   */
  readUserListing(filter?: string, resume?: ListingResume<JumpCloudUser>): Promise<Listing<JumpCloudUser>> {
    return readComplete(() =>
      pageThrough({ key: (user) => user.id, first: 0, resume }, async (skip, pages) => {
        const { data } = await this.api.request({
          operation: 'list users',
          page: true,
          method: 'GET',
          path: '/systemusers',
          query: { limit: JC_PAGE_SIZE, skip, sort: '_id', filter },
          schema: z.looseObject({
            results: recordsOf(systemUserSchema),
            totalCount: z.number().int().min(0).optional(),
          }),
        });
        pages.add(data.results.items, data.totalCount, data.results.rejected);
        const total = data.totalCount;
        const count = data.results.items.length + data.results.rejected.length;
        const last = count < JC_PAGE_SIZE || (total !== undefined && skip + JC_PAGE_SIZE >= total);
        return last ? undefined : skip + JC_PAGE_SIZE;
      }),
    );
  }

  /**
   * The user with this email, compared case-insensitively. JumpCloud keeps emails' case and its
   * `$eq` filter is case-sensitive: the lower-cased form is tried first, then every user is scanned.
   */
  async findUserByEmail(email: string): Promise<JumpCloudUser | undefined> {
    const wanted = normalizeEmail(email);
    const key = emailKey(wanted);
    const matches = (candidates: JumpCloudUser[]) =>
      candidates.find((user) => user.email !== undefined && emailKey(user.email) === key);
    return matches(await this.listUsers(`email:$eq:${wanted}`)) ?? matches(await this.listUsers());
  }

  async getGroup(id: string): Promise<JumpCloudGroup | undefined> {
    try {
      const { data } = await this.api.request({
        operation: 'read group',
        entity: id,
        method: 'GET',
        path: `/v2/usergroups/${encodeURIComponent(id)}`,
        schema: groupSchema,
      });
      return data;
    } catch (error) {
      if (isApiError(error, 'NotFound')) return undefined;
      throw error;
    }
  }

  /**
   * Issue 18: every user group with its name, one paged listing (a reconciliation compares the
   * bound groups from listings instead of reading each).
   */
  readGroupListing(): Promise<Listing<JumpCloudGroup>> {
    return readComplete(() => this.pageV2('/v2/usergroups', groupSchema, 'list user groups', 'usergroups'));
  }

  /** G1: a group's members as JumpCloud resolves them (direct and nested), users only. */
  async listGroupMembership(groupId: string): Promise<JumpCloudGraphObject[]> {
    const all = await this.listV2(
      `/v2/usergroups/${encodeURIComponent(groupId)}/membership`,
      graphObjectWithPaths,
      'list group membership',
      groupId,
    );
    return all.filter((member) => member.type === 'user');
  }

  /** The groups a user belongs to, directly or through nesting. */
  async listUserGroups(userId: string): Promise<JumpCloudGraphObject[]> {
    const all = await this.listV2(
      `/v2/users/${encodeURIComponent(userId)}/memberof`,
      graphObjectWithPaths,
      'list user groups',
      userId,
    );
    return all.filter((group) => group.type === 'user_group');
  }

  /** I2: creates a system user. */
  async createUser(user: NewJumpCloudUser): Promise<JumpCloudUser> {
    const { data } = await this.api.request({
      operation: 'create user',
      entity: user.email,
      method: 'POST',
      path: '/systemusers',
      body: user,
      schema: systemUserSchema,
    });
    return data;
  }

  /** I3: adds a user to a group (idempotent where JumpCloud answers 409 for an existing member). */
  async addUserToGroup(groupId: string, userId: string): Promise<void> {
    try {
      await this.api.request({
        operation: 'add user to group',
        entity: `${userId} → ${groupId}`,
        method: 'POST',
        path: `/v2/usergroups/${encodeURIComponent(groupId)}/members`,
        body: { op: 'add', type: 'user', id: userId },
        schema: z.unknown(),
      });
    } catch (error) {
      if (!isApiError(error, 'Conflict')) throw error;
    }
  }

  /** C4: one page of Directory Insights events, oldest first. */
  async eventsPage(query: InsightsQuery, searchAfter?: unknown[]): Promise<InsightsPage> {
    const limit = query.limit ?? 1000;
    const { data, headers } = await this.insights.request({
      operation: 'read directory events',
      page: true,
      method: 'POST',
      path: '/events',
      body: {
        service: query.service ?? ['directory'],
        start_time: query.startTime,
        ...(query.endTime ? { end_time: query.endTime } : {}),
        limit,
        sort: 'ASC',
        ...(query.searchTerm ? { search_term: query.searchTerm } : {}),
        ...(searchAfter ? { search_after: searchAfter } : {}),
      },
      schema: recordsOf(eventSchema),
    });
    const returned = data.items.length + data.rejected.length;
    const count = Number(header(headers['x-result-count']) ?? returned);
    const served = Number(header(headers['x-limit']) ?? limit);
    return {
      events: data.items,
      rejected: data.rejected,
      searchAfter: parseCursor(header(headers['x-search_after'])),
      more: count >= served && returned > 0,
    };
  }

  /** C4: every event of the query, paging with `search_after` until a page is short. */
  async events(query: InsightsQuery, maxPages = 1000): Promise<InsightsEvent[]> {
    const out: InsightsEvent[] = [];
    let cursor: unknown[] | undefined;
    for (let page = 0; page < maxPages; page++) {
      const result = await this.eventsPage(query, cursor);
      out.push(...result.events);
      if (!result.more || !result.searchAfter) break;
      cursor = result.searchAfter;
    }
    return out;
  }

  /** v2 lists that must be whole (read again a few times, else a retryable IncompleteListing error). */
  private async listV2<T>(
    path: string,
    item: z.ZodType<T>,
    operation: string,
    entity: string,
    query: Record<string, string> = {},
  ): Promise<T[]> {
    const listing = await readComplete(() => this.pageV2(path, item, operation, entity, query));
    return requireComplete(listing, { service: 'jumpcloud', operation, entity });
  }

  /**
   * One pass over a v2 list: `limit`/`skip`, the total in `x-total-count` (the header JumpCloud's
   * own PowerShell module pages by), until the total is reached or a page comes back short.
   */
  private pageV2<T>(
    path: string,
    item: z.ZodType<T>,
    operation: string,
    entity: string,
    query: Record<string, string> = {},
    resume?: ListingResume<T>,
  ): Promise<Listing<T>> {
    return pageThrough({ key: graphKey, first: 0, resume }, async (skip, pages) => {
      const { data, headers } = await this.api.request({
        operation,
        entity,
        page: true,
        method: 'GET',
        path,
        query: { ...query, limit: JC_PAGE_SIZE, skip },
        schema: z.array(item),
      });
      const total = parseTotal(header(headers['x-total-count']));
      pages.add(data, total);
      const last = data.length < JC_PAGE_SIZE || (total !== undefined && skip + JC_PAGE_SIZE >= total);
      return last ? undefined : skip + JC_PAGE_SIZE;
    });
  }
}

/** A graph object's or connection's identity (`id`, or `to.id` for associations). */
function graphKey(entry: unknown): string {
  const value = entry as { id?: unknown; to?: { id?: unknown; type?: unknown } };
  if (typeof value.id === 'string') return value.id;
  if (value.to && typeof value.to.id === 'string') return `${String(value.to.type)}:${value.to.id}`;
  return JSON.stringify(entry);
}

function parseTotal(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value);
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function parseCursor(value: string | undefined): unknown[] | undefined {
  if (!value) return undefined;
  try {
    const parsed = JSON.parse(value) as unknown;
    return Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}
