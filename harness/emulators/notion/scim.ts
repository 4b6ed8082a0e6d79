/** SCIM wire constants, the error type and resource shapes of the Notion emulator. */
import type { GroupRecord, UserRecord } from './store';

export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

export const SCHEMA = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  enterpriseUser: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  notionUser: 'urn:ietf:params:scim:schemas:extension:notion:2.0:User',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  serviceProviderConfig: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
} as const;

/** Responses name this host in `meta.location`, whatever host was called (as the real service does). */
export const LOCATION_BASE = 'https://app.notion.com/scim/v2';

export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

/** An error answered in the SCIM error schema (RFC 7644 §3.12). */
export class ScimError extends Error {
  override name = 'ScimError';
  constructor(
    readonly status: number,
    detail: string,
    readonly scimType?: ScimType,
  ) {
    super(detail);
  }
}

/** RFC 7644 §3.12: `status` is a string. */
export function scimErrorBody(status: number, detail: string, scimType?: ScimType) {
  return {
    schemas: [SCHEMA.error],
    status: String(status),
    ...(scimType ? { scimType } : {}),
    detail,
  };
}

export function displayNameOf(user: UserRecord): string {
  if (user.formatted) return user.formatted;
  const joined = [user.givenName, user.familyName].filter((part) => part).join(' ');
  return joined || user.userName;
}

/**
 * The shape observed on the real service: `name` holds only the parts that were set, the Notion
 * extension object is present but its URN is missing from `schemas`, `meta` times are
 * millisecond-epoch strings and there is no `meta.version`.
 */
export function userResource(user: UserRecord) {
  const name: { formatted?: string; givenName?: string; familyName?: string } = {};
  if (user.formatted !== undefined) name.formatted = user.formatted;
  if (user.givenName !== undefined) name.givenName = user.givenName;
  if (user.familyName !== undefined) name.familyName = user.familyName;
  return {
    schemas: [SCHEMA.user],
    id: user.id,
    userName: user.userName,
    ...(Object.keys(name).length > 0 ? { name } : {}),
    emails: [{ value: user.userName, primary: true }],
    displayName: displayNameOf(user),
    ...(user.title !== undefined ? { title: user.title } : {}),
    active: user.active,
    meta: {
      resourceType: 'User',
      created: String(user.created),
      lastModified: String(user.lastModified),
      location: `${LOCATION_BASE}/Users/${user.id}`,
    },
    photos: [],
    [SCHEMA.notionUser]: { role: user.role },
  };
}

export function groupResource(group: GroupRecord, userName: (id: string) => string | undefined) {
  const members: { value: string; display?: string }[] = [];
  for (const id of group.members) {
    const display = userName(id);
    members.push(display === undefined ? { value: id } : { value: id, display });
  }
  return {
    schemas: [SCHEMA.group],
    id: group.id,
    displayName: group.displayName,
    members,
    meta: {
      resourceType: 'Group',
      created: String(group.created),
      lastModified: String(group.lastModified),
      location: `${LOCATION_BASE}/Groups/${group.id}`,
    },
  };
}

/** One page of a ListResponse; only the page's records are turned into resources. */
export function listResponse<T, R>(
  all: readonly T[],
  startIndex: number,
  count: number,
  resource: (item: T) => R,
) {
  const page = all.slice(startIndex - 1, startIndex - 1 + count).map(resource);
  return {
    schemas: [SCHEMA.listResponse],
    totalResults: all.length,
    startIndex,
    itemsPerPage: page.length,
    Resources: page,
  };
}

export const SERVICE_PROVIDER_CONFIG = {
  schemas: [SCHEMA.serviceProviderConfig],
  documentationUri: 'https://www.notion.com/help/provision-users-and-groups-with-scim',
  patch: { supported: true },
  bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
  filter: { supported: true, maxResults: 100 },
  changePassword: { supported: false },
  sort: { supported: false },
  etag: { supported: false },
  authenticationSchemes: [
    {
      type: 'oauthbearertoken',
      name: 'OAuth Bearer Token',
      description: 'Authentication scheme using the OAuth Bearer Token Standard',
      primary: true,
    },
  ],
  meta: { resourceType: 'ServiceProviderConfig', location: `${LOCATION_BASE}/ServiceProviderConfig` },
};

/** A bare JSON array, not a ListResponse: that is what the real service answers. */
export const RESOURCE_TYPES = [
  {
    schemas: [SCHEMA.resourceType],
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description: 'User Account',
    schema: SCHEMA.user,
    schemaExtensions: [
      { schema: SCHEMA.enterpriseUser, required: false },
      { schema: SCHEMA.notionUser, required: false },
    ],
    meta: { resourceType: 'ResourceType', location: `${LOCATION_BASE}/ResourceTypes/User` },
  },
  {
    schemas: [SCHEMA.resourceType],
    id: 'Group',
    name: 'Group',
    endpoint: '/Groups',
    description: 'Group',
    schema: SCHEMA.group,
    meta: { resourceType: 'ResourceType', location: `${LOCATION_BASE}/ResourceTypes/Group` },
  },
];
