/**
 * Notion SCIM 2.0 client (reference/notion-scim.md). Parses leniently what the real service
 * returns (absent name parts, millisecond `meta` strings, the extension without its URN in
 * `schemas`, a bare-array `ResourceTypes`) and strictly what the product relies on (ids,
 * `userName`, `active`, `members`).
 */
import { z } from 'zod';
import { isApiError, type ApiErrorInfo } from './errors';
import { HttpService, type HttpServiceOptions } from './http';
import { pageThrough, recordsOf, type Listing, type ListingResume } from './listing';
import { emailKey, normalizeEmail } from '../contracts/shared';

export type { Listing } from './listing';

export const SCIM_USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const SCIM_GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const SCIM_PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
/** Notion's SCIM user extension, which carries the workspace `role`. */
export const NOTION_USER_EXTENSION = 'urn:ietf:params:scim:schemas:extension:notion:2.0:User';
/** Notion caps `count` at 100. */
export const PAGE_SIZE = 100;

const optionalText = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined);

const userSchema = z
  .looseObject({
    id: z.string().min(1),
    userName: z.string().min(1),
    active: z.boolean(),
    name: z
      .looseObject({ givenName: optionalText, familyName: optionalText, formatted: optionalText })
      .nullish(),
    emails: z.array(z.looseObject({ value: z.string(), primary: z.boolean().nullish() })).nullish(),
    displayName: optionalText,
    [NOTION_USER_EXTENSION]: z.looseObject({ role: z.string().nullish() }).nullish(),
  })
  .transform((u) => ({
    id: u.id,
    // Notion lower-cases emails; compare the same way whatever comes back.
    userName: normalizeEmail(u.userName),
    active: u.active,
    givenName: u.name?.givenName,
    familyName: u.name?.familyName,
    formatted: u.name?.formatted,
    emails: (u.emails ?? []).map((e) => e.value),
    displayName: u.displayName,
    /** Notion's workspace role (its SCIM extension), when it says. */
    role: u[NOTION_USER_EXTENSION]?.role ?? undefined,
  }));
export type NotionUser = z.output<typeof userSchema>;

const groupSchema = z
  .looseObject({
    id: z.string().min(1),
    displayName: z.string(),
    members: z
      .array(z.looseObject({ value: z.string().min(1), display: optionalText }))
      .nullish()
      .transform((m) => m ?? []),
  })
  .transform((g) => ({ id: g.id, displayName: g.displayName, memberIds: g.members.map((m) => m.value) }));
export type NotionGroup = z.output<typeof groupSchema>;

function listResponse<T extends z.ZodType>(item: T) {
  return z.looseObject({
    totalResults: z.number().int().min(0),
    startIndex: z.number().int().optional(),
    itemsPerPage: z.number().int().optional(),
    Resources: z.array(item).optional(),
  });
}

/** A listing page whose resources are parsed one by one (issue 15): a bad record is set aside. */
function pagedRecords<T>(item: z.ZodType<T>) {
  return z.looseObject({
    totalResults: z.number().int().min(0),
    startIndex: z.number().int().optional(),
    itemsPerPage: z.number().int().optional(),
    Resources: recordsOf(item).optional(),
  });
}

/** The Notion user the product wants (SPEC U2), as sent on create. */
export interface NotionUserAttributes {
  userName: string;
  givenName?: string;
  familyName?: string;
  formatted?: string;
  email: string;
}

/** Changes for PATCH replace: only the attributes given are sent; `null` removes one. */
export type NotionUserChanges = Partial<{
  userName: string;
  givenName: string | null;
  familyName: string | null;
  formatted: string | null;
  email: string;
  active: boolean;
}>;

const PATCH_PATHS: Record<keyof NotionUserChanges, string> = {
  userName: 'userName',
  givenName: 'name.givenName',
  familyName: 'name.familyName',
  formatted: 'name.formatted',
  email: 'emails',
  active: 'active',
};

export interface NotionClientOptions {
  baseUrl: string;
  /** Read at every request: a rotated token is used by the next request. */
  token: () => string;
  beforeRequest?: HttpServiceOptions['beforeRequest'];
  timeouts?: HttpServiceOptions['timeouts'];
  /**
   * Issue 15: each page of a listing is tried this many times (Retry-After honoured) before the
   * listing fails; bulk reads set it, single-request activities leave it to Temporal's retries.
   */
  pageRetry?: HttpServiceOptions['retry'];
  /** C3: the process's circuit breaker on the Notion token. */
  guard?: HttpServiceOptions['guard'];
  /** C2: writes (POST, PATCH, DELETE) are refused once the connector is deactivated. */
  writeGate?: HttpServiceOptions['writeGate'];
  /** Issue 17: each request's outcome, for the worker's metrics. */
  onResponse?: HttpServiceOptions['onResponse'];
}

const scimError = z.looseObject({ detail: z.string().optional(), scimType: z.string().optional() });

/**
 * Notion's exact answers to these refusals are undocumented (reference §"Open questions"): they
 * are recognised by their explanation, whatever the status, so that they are never mistaken for
 * rejected credentials or retried.
 */
function refine(info: ApiErrorInfo): ApiErrorInfo {
  const detail = info.detail ?? '';
  if (info.status === undefined || info.status >= 500) return info;
  if (/domain/i.test(detail) && /verif/i.test(detail))
    return { ...info, class: 'permanent', code: 'UnverifiedDomain' };
  if (/owner/i.test(detail) && /(remove|deactivat|token)/i.test(detail))
    return { ...info, class: 'permanent', code: 'TokenOwner' };
  if (/full access|sole|no one having/i.test(detail))
    return { ...info, class: 'permanent', code: 'GroupDeletionRefused' };
  return info;
}

const none = z.unknown();

export class NotionScimClient {
  private readonly http: HttpService;
  /** Set once the value-array member removal was refused: use the RFC filter path from then on. */
  private removeByFilterPath = false;

  constructor(options: NotionClientOptions) {
    this.http = new HttpService({
      service: 'notion',
      baseUrl: options.baseUrl,
      authHeaders: () => ({ authorization: `Bearer ${options.token()}` }),
      errorDetail: (body) => {
        const parsed = scimError.safeParse(body);
        return parsed.success ? parsed.data : {};
      },
      refine,
      contentType: 'application/scim+json',
      beforeRequest: options.beforeRequest,
      retry: options.pageRetry,
      timeouts: options.timeouts,
      guard: options.guard,
      writeGate: options.writeGate,
      onResponse: options.onResponse,
    });
  }

  close(): Promise<void> {
    return this.http.close();
  }

  /** C1: the token works (`GET /Users?count=1`; ServiceProviderConfig needs no auth, so it proves nothing). */
  async checkCredentials(): Promise<void> {
    await this.http.request({
      probe: true,
      operation: 'verify token',
      method: 'GET',
      path: '/Users',
      query: { startIndex: 1, count: 1 },
      schema: listResponse(none),
    });
  }

  /** The resource types, whether the service answers a bare array (as Notion does) or a ListResponse. */
  async resourceTypes(): Promise<{ id: string; endpoint?: string }[]> {
    const type = z.looseObject({ id: z.string(), endpoint: z.string().optional() });
    const { data } = await this.http.request({
      operation: 'read resource types',
      method: 'GET',
      path: '/ResourceTypes',
      schema: z.union([z.array(type), listResponse(type).transform((l) => l.Resources ?? [])]),
    });
    return data.map(({ id, endpoint }) => ({ id, endpoint }));
  }

  /** Every member; `resume` continues a listing an earlier attempt left off (issue 15). */
  listUsers(resume?: ListingResume<NotionUser>): Promise<Listing<NotionUser>> {
    return this.listAll('/Users', userSchema, 'list users', resume);
  }

  listGroups(): Promise<Listing<NotionGroup>> {
    return this.listAll('/Groups', groupSchema, 'list groups');
  }

  async getUser(id: string): Promise<NotionUser | undefined> {
    return this.getOrUndefined(`/Users/${encodeURIComponent(id)}`, userSchema, 'read user', id);
  }

  async getGroup(id: string): Promise<NotionGroup | undefined> {
    return this.getOrUndefined(`/Groups/${encodeURIComponent(id)}`, groupSchema, 'read group', id);
  }

  /** U3: the Notion user with this email (`filter=email eq "…"`), if any. */
  async findUserByEmail(email: string): Promise<NotionUser | undefined> {
    const wanted = normalizeEmail(email);
    const key = emailKey(wanted);
    const { data } = await this.http.request({
      operation: 'find user by email',
      entity: wanted,
      method: 'GET',
      path: '/Users',
      query: { filter: `email eq ${JSON.stringify(wanted)}`, startIndex: 1, count: 10 },
      schema: listResponse(userSchema),
    });
    return (data.Resources ?? []).find(
      (user) => emailKey(user.userName) === key || user.emails.some((e) => emailKey(e) === key),
    );
  }

  /** G3: the group whose `displayName` is exactly `name` (the filter may ignore case; this does not). */
  async findGroupByName(name: string): Promise<NotionGroup | undefined> {
    const { data } = await this.http.request({
      operation: 'find group by name',
      entity: name,
      method: 'GET',
      path: '/Groups',
      query: { filter: `displayName eq ${JSON.stringify(name)}`, startIndex: 1, count: PAGE_SIZE },
      schema: listResponse(groupSchema),
    });
    return (data.Resources ?? []).find((group) => group.displayName === name);
  }

  /** U4: `POST /Users`. A current member answers 409 (`Conflict`); a removed one is re-added. */
  async createUser(user: NotionUserAttributes): Promise<NotionUser> {
    const { data } = await this.http.request({
      operation: 'create user',
      entity: user.userName,
      method: 'POST',
      path: '/Users',
      body: {
        schemas: [SCIM_USER_SCHEMA],
        userName: user.userName,
        name: { givenName: user.givenName, familyName: user.familyName, formatted: user.formatted },
        emails: [{ value: user.email, primary: true }],
        active: true,
      },
      schema: userSchema,
    });
    return data;
  }

  /** U5: PATCH replace of only the given attributes (`null` removes one). */
  async patchUser(id: string, changes: NotionUserChanges, entity = id): Promise<NotionUser | undefined> {
    const operations = (Object.keys(changes) as (keyof NotionUserChanges)[])
      .filter((key) => changes[key] !== undefined)
      .map((key) => {
        const value = changes[key];
        const path = PATCH_PATHS[key];
        if (value === null) return { op: 'remove', path };
        return { op: 'replace', path, value: key === 'email' ? [{ value, primary: true }] : value };
      });
    if (operations.length === 0) return undefined;
    const { data } = await this.http.request({
      operation: 'update user',
      entity,
      method: 'PATCH',
      path: `/Users/${encodeURIComponent(id)}`,
      body: { schemas: [SCIM_PATCH_SCHEMA], Operations: operations },
      // RFC 7644 allows 204 without a body.
      schema: z.union([userSchema, z.undefined()]),
    });
    return data;
  }

  /**
   * U6: `PATCH active=false` removes the member from the workspace (never DELETE). A member that
   * is already gone (removed members may vanish from the API) is reported, not an error.
   */
  async deactivateUser(id: string, entity = id): Promise<'deactivated' | 'already-removed'> {
    try {
      await this.patchUser(id, { active: false }, entity);
      return 'deactivated';
    } catch (error) {
      if (isApiError(error, 'NotFound')) return 'already-removed';
      throw error;
    }
  }

  /** U7: `PATCH active=true`; when Notion no longer knows the id, `POST /Users` re-adds the account. */
  async reactivateUser(id: string, user: NotionUserAttributes): Promise<NotionUser> {
    try {
      const patched = await this.patchUser(id, { active: true }, user.userName);
      return patched ?? (await this.getUser(id)) ?? (await this.createUser(user));
    } catch (error) {
      if (!isApiError(error, 'NotFound')) throw error;
      return this.createUser(user);
    }
  }

  async createGroup(displayName: string): Promise<NotionGroup> {
    const { data } = await this.http.request({
      operation: 'create group',
      entity: displayName,
      method: 'POST',
      path: '/Groups',
      body: { schemas: [SCIM_GROUP_SCHEMA], displayName, members: [] },
      schema: groupSchema,
    });
    return data;
  }

  /** G5: rename in place (PATCH replace `displayName`; a PUT could clear members). */
  async renameGroup(id: string, displayName: string): Promise<void> {
    await this.patchGroup(
      id,
      [{ op: 'replace', path: 'displayName', value: displayName }],
      'rename group',
      displayName,
    );
  }

  /** G4: adds members in batches (one PATCH per batch, value-array form). */
  async addMembers(groupId: string, userIds: string[], batchSize = PAGE_SIZE): Promise<number> {
    let requests = 0;
    for (const batch of chunks(userIds, batchSize)) {
      await this.patchGroup(
        groupId,
        [{ op: 'add', path: 'members', value: batch.map((value) => ({ value })) }],
        'add group members',
        groupId,
      );
      requests += 1;
    }
    return requests;
  }

  /**
   * G4: removes members in batches: the value-array form IdPs use, falling back to the RFC
   * filter-path form (`members[value eq "…"]`, one operation per member) where it is refused.
   */
  async removeMembers(groupId: string, userIds: string[], batchSize = PAGE_SIZE): Promise<number> {
    let requests = 0;
    for (const batch of chunks(userIds, batchSize)) {
      if (!this.removeByFilterPath) {
        try {
          await this.patchGroup(
            groupId,
            [{ op: 'remove', path: 'members', value: batch.map((value) => ({ value })) }],
            'remove group members',
            groupId,
          );
          requests += 1;
          continue;
        } catch (error) {
          if (!isApiError(error, 'BadRequest')) throw error;
          this.removeByFilterPath = true;
        }
      }
      await this.patchGroup(
        groupId,
        batch.map((value) => ({ op: 'remove', path: `members[value eq ${JSON.stringify(value)}]` })),
        'remove group members',
        groupId,
      );
      requests += 1;
    }
    return requests;
  }

  /** G7: deletes a group; one already gone counts as deleted. */
  async deleteGroup(id: string, entity = id): Promise<'deleted' | 'already-gone'> {
    try {
      await this.http.request({
        operation: 'delete group',
        entity,
        method: 'DELETE',
        path: `/Groups/${encodeURIComponent(id)}`,
        schema: none,
      });
      return 'deleted';
    } catch (error) {
      if (isApiError(error, 'NotFound')) return 'already-gone';
      throw error;
    }
  }

  private async patchGroup(
    id: string,
    operations: unknown[],
    operation: string,
    entity: string,
  ): Promise<void> {
    await this.http.request({
      operation,
      entity,
      method: 'PATCH',
      path: `/Groups/${encodeURIComponent(id)}`,
      body: { schemas: [SCIM_PATCH_SCHEMA], Operations: operations },
      schema: none,
    });
  }

  private async getOrUndefined<T>(
    path: string,
    schema: z.ZodType<T>,
    operation: string,
    entity: string,
  ): Promise<T | undefined> {
    try {
      return (await this.http.request({ operation, entity, method: 'GET', path, schema })).data;
    } catch (error) {
      if (isApiError(error, 'NotFound')) return undefined;
      throw error;
    }
  }

  /**
   * Pages of 100 (next `startIndex` = previous + `itemsPerPage`), de-duplicated by id. The order
   * is not guaranteed across pages, so repeated ids or a count that disagrees with `totalResults`
   * mark the listing incomplete instead of being trusted.
   */
  private listAll<T extends { id: string }>(
    path: string,
    item: z.ZodType<T>,
    operation: string,
    resume?: ListingResume<T>,
  ): Promise<Listing<T>> {
    return pageThrough({ key: (entry) => entry.id, first: 1, resume }, async (startIndex, pages) => {
      const { data } = await this.http.request({
        operation,
        page: true,
        method: 'GET',
        path,
        query: { startIndex, count: PAGE_SIZE },
        schema: pagedRecords(item),
      });
      const { items, rejected } = data.Resources ?? { items: [], rejected: [] };
      pages.add(items, data.totalResults, rejected);
      const count = items.length + rejected.length;
      const step = data.itemsPerPage && data.itemsPerPage > 0 ? data.itemsPerPage : count;
      if (count === 0 || step === 0 || startIndex + step > data.totalResults) return undefined;
      return startIndex + step;
    });
  }
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += Math.max(1, size)) out.push(items.slice(i, i + Math.max(1, size)));
  return out;
}
