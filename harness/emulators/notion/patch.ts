/**
 * Request bodies (zod) and SCIM PATCH (RFC 7644 §3.5.2) for Users and Groups, turned into store
 * changes. Op names are case-insensitive (`Add`, `Replace`, `Remove` as Entra and Okta send
 * them); an op without `path` carries an object of attributes.
 *
 * Not built on scim-patch: it misreads an extension URN used as a key of a path-less value
 * (`{"urn:…:notion:2.0:User": {"role": …}}`, the form ConductorOne uses) as a nested path, and
 * group member removal by value must match `{value}` alone whatever else a member carries.
 */
import { parse, type Filter } from 'scim2-parse-filter';
import { z } from 'zod';
import { SCHEMA, ScimError } from './scim';
import { ROLES, type GroupRecord, type Role, type UserChange, type UserRecord } from './store';

const text = z.string().nullable().optional();

const nameSchema = z.looseObject({ formatted: text, givenName: text, familyName: text });

const notionExtensionSchema = z.looseObject({ role: z.enum(ROLES).optional() });

/** POST /Users. Attributes Notion does not map (externalId, phoneNumbers, …) are accepted and ignored. */
export const userCreateSchema = z.looseObject({
  schemas: z.array(z.string()).optional(),
  userName: z.string().min(1),
  name: nameSchema.nullable().optional(),
  title: text,
  active: z.boolean().optional(),
  [SCHEMA.notionUser]: notionExtensionSchema.optional(),
});

/** PUT /Users: userName may be left out (as working clients do); `name`, when given, replaces all parts. */
export const userReplaceSchema = userCreateSchema.extend({ userName: z.string().min(1).optional() });

const memberSchema = z.looseObject({ value: z.string().min(1) });

export const groupCreateSchema = z.looseObject({
  schemas: z.array(z.string()).optional(),
  displayName: z.string(),
  members: z.array(memberSchema).nullable().optional(),
});

export const patchSchema = z.looseObject({
  schemas: z.array(z.string()).optional(),
  Operations: z
    .array(z.looseObject({ op: z.string(), path: z.string().optional(), value: z.unknown().optional() }))
    .min(1),
});

type Op = 'add' | 'remove' | 'replace';
type Operation = { op: Op; path: string | undefined; value: unknown };

function operations(body: z.infer<typeof patchSchema>): Operation[] {
  return body.Operations.map((operation) => {
    const op = operation.op.toLowerCase();
    if (op !== 'add' && op !== 'remove' && op !== 'replace') {
      throw new ScimError(400, `Unsupported PATCH op "${operation.op}"`, 'invalidSyntax');
    }
    const path = operation.path?.trim() || undefined;
    if (!path && op === 'remove') throw new ScimError(400, 'A remove operation needs a path', 'noTarget');
    if (op !== 'remove' && !('value' in operation)) {
      throw new ScimError(400, `The ${operation.op} operation needs a value`, 'invalidValue');
    }
    return { op, path, value: operation.value };
  });
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function objectValue(value: unknown, what: string): Record<string, unknown> {
  if (!isObject(value)) throw new ScimError(400, `${what} must be an object`, 'invalidValue');
  return value;
}

/** Strips a schema URN prefix (`urn:…:core:2.0:User:userName` → `userName`), case-insensitively. */
function stripPrefix(path: string, urn: string): string | undefined {
  return path.toLowerCase().startsWith(`${urn.toLowerCase()}:`) ? path.slice(urn.length + 1) : undefined;
}

// ---- users ---------------------------------------------------------------------------------

type UserDraft = Pick<
  UserRecord,
  'userName' | 'givenName' | 'familyName' | 'formatted' | 'title' | 'role' | 'active'
>;

/** Attributes of the core schema that Notion does not keep (or derives): accepted and ignored. */
const IGNORED_USER_ATTRIBUTES = new Set([
  'schemas',
  'emails',
  'displayname',
  'externalid',
  'nickname',
  'profileurl',
  'phonenumbers',
  'addresses',
  'photos',
  'locale',
  'preferredlanguage',
  'usertype',
  'roles',
  'timezone',
  'x509certificates',
  'entitlements',
  'ims',
  'groups',
]);

const NAME_PARTS: Record<string, 'givenName' | 'familyName' | 'formatted'> = {
  givenname: 'givenName',
  familyname: 'familyName',
  formatted: 'formatted',
};

function optionalText(value: unknown, field: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'string') throw new ScimError(400, `${field} must be a string`, 'invalidValue');
  return value;
}

function role(value: unknown): Role {
  if (typeof value === 'string' && (ROLES as readonly string[]).includes(value)) return value as Role;
  throw new ScimError(400, `role must be one of ${ROLES.join(', ')}`, 'invalidValue');
}

/** Entra sends booleans as the strings "True"/"False". */
function boolean(value: unknown, field: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw new ScimError(400, `${field} must be a boolean`, 'invalidValue');
}

function applyNotionExtension(draft: UserDraft, op: Op, attribute: string | undefined, value: unknown) {
  if (attribute === undefined) {
    if (op === 'remove') return;
    for (const [key, inner] of Object.entries(objectValue(value, SCHEMA.notionUser))) {
      applyNotionExtension(draft, op, key, inner);
    }
    return;
  }
  if (attribute.toLowerCase() !== 'role') {
    throw new ScimError(400, `Unknown attribute ${SCHEMA.notionUser}:${attribute}`, 'invalidPath');
  }
  if (op !== 'remove') draft.role = role(value);
}

function applyUserPath(draft: UserDraft, op: Op, rawPath: string, value: unknown) {
  if (rawPath.toLowerCase() === SCHEMA.notionUser.toLowerCase())
    return applyNotionExtension(draft, op, undefined, value);
  const extension = stripPrefix(rawPath, SCHEMA.notionUser);
  if (extension !== undefined) return applyNotionExtension(draft, op, extension, value);
  const lower = rawPath.toLowerCase();
  // The enterprise extension's attributes are kept by Notion but play no part here.
  if (
    lower === SCHEMA.enterpriseUser.toLowerCase() ||
    stripPrefix(rawPath, SCHEMA.enterpriseUser) !== undefined
  )
    return;
  const path = stripPrefix(rawPath, SCHEMA.user) ?? rawPath;

  const match = /^([A-Za-z][\w$-]*)(\[[^\]]*\])?(?:\.([A-Za-z][\w$-]*))?$/.exec(path);
  if (!match) throw new ScimError(400, `Invalid path "${rawPath}"`, 'invalidPath');
  const attribute = match[1]!.toLowerCase();
  const sub = match[3]?.toLowerCase();
  if (IGNORED_USER_ATTRIBUTES.has(attribute)) return;
  if (match[2] !== undefined) throw new ScimError(400, `Invalid path "${rawPath}"`, 'invalidPath');

  switch (attribute) {
    case 'username':
      if (sub !== undefined) break;
      if (op === 'remove')
        throw new ScimError(400, 'userName is required and cannot be removed', 'mutability');
      if (typeof value !== 'string' || !value)
        throw new ScimError(400, 'userName must be a string', 'invalidValue');
      draft.userName = value;
      return;
    case 'active':
      if (sub !== undefined) break;
      if (op === 'remove') throw new ScimError(400, 'active cannot be removed', 'mutability');
      draft.active = boolean(value, 'active');
      return;
    case 'title':
      if (sub !== undefined) break;
      draft.title = op === 'remove' ? undefined : optionalText(value, 'title');
      return;
    case 'name': {
      if (sub !== undefined) {
        const part = NAME_PARTS[sub];
        if (!part) break;
        draft[part] = op === 'remove' ? undefined : optionalText(value, `name.${part}`);
        return;
      }
      if (op === 'remove') {
        draft.givenName = draft.familyName = draft.formatted = undefined;
        return;
      }
      // A complex value sets the sub-attributes it names and leaves the others (RFC 7644 §3.5.2.3).
      for (const [key, inner] of Object.entries(objectValue(value, 'name'))) {
        const part = NAME_PARTS[key.toLowerCase()];
        if (part) draft[part] = optionalText(inner, `name.${part}`);
      }
      return;
    }
  }
  throw new ScimError(400, `Unsupported attribute path "${rawPath}"`, 'invalidPath');
}

/** The change a PATCH body makes to a user (atomic: computed before anything is applied). */
export function userPatchChange(user: UserRecord, body: z.infer<typeof patchSchema>): UserChange {
  const draft: UserDraft = {
    userName: user.userName,
    givenName: user.givenName,
    familyName: user.familyName,
    formatted: user.formatted,
    title: user.title,
    role: user.role,
    active: user.active,
  };
  for (const { op, path, value } of operations(body)) {
    if (path) {
      applyUserPath(draft, op, path, value);
      continue;
    }
    for (const [key, inner] of Object.entries(objectValue(value, 'A PATCH value without path'))) {
      applyUserPath(draft, op, key, inner);
    }
  }
  const change: UserChange = {};
  if (draft.userName !== user.userName) change.userName = draft.userName;
  for (const field of ['givenName', 'familyName', 'formatted', 'title'] as const) {
    if (draft[field] !== user[field]) change[field] = draft[field] ?? null;
  }
  if (draft.role !== user.role) change.role = draft.role;
  if (draft.active !== user.active) change.active = draft.active;
  return change;
}

/** The change a PUT body makes to a user. */
export function userReplaceChange(body: z.infer<typeof userReplaceSchema>): UserChange {
  const change: UserChange = {};
  if (body.userName !== undefined) change.userName = body.userName;
  if (body.name !== undefined) {
    change.givenName = body.name?.givenName ?? null;
    change.familyName = body.name?.familyName ?? null;
    change.formatted = body.name?.formatted ?? null;
  }
  if (body.title !== undefined) change.title = body.title;
  if (body.active !== undefined) change.active = body.active;
  const extensionRole = body[SCHEMA.notionUser]?.role;
  if (extensionRole) change.role = extensionRole;
  return change;
}

// ---- groups --------------------------------------------------------------------------------

/** `[{"value": id}]` or a single `{"value": id}`. */
function memberIds(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((item) => {
    const parsed = memberSchema.safeParse(item);
    if (!parsed.success)
      throw new ScimError(400, 'members must be a list of {"value": "<user id>"}', 'invalidValue');
    return parsed.data.value;
  });
}

function displayName(value: unknown): string {
  if (typeof value !== 'string') throw new ScimError(400, 'displayName must be a string', 'invalidValue');
  return value;
}

function memberFilter(path: string, expression: string): Filter {
  try {
    return parse(expression);
  } catch {
    throw new ScimError(400, `Invalid filter in path "${path}"`, 'invalidPath');
  }
}

/** Does the member match the value filter (`value eq "…"`, also `and`/`or`)? */
function memberMatches(filter: Filter, id: string, display: string | undefined): boolean {
  if (filter.op === 'and') return filter.filters.every((f) => memberMatches(f, id, display));
  if (filter.op === 'or') return filter.filters.some((f) => memberMatches(f, id, display));
  if (filter.op === 'eq' && 'compValue' in filter) {
    const attribute = filter.attrPath.toLowerCase();
    if (attribute === 'value') return filter.compValue === id;
    if (attribute === 'display') return filter.compValue === display;
  }
  throw new ScimError(400, 'Only "value eq" filters are supported on members', 'invalidFilter');
}

export function groupPatchChange(
  group: GroupRecord,
  body: z.infer<typeof patchSchema>,
  userName: (id: string) => string | undefined,
): { displayName?: string; members?: string[] } {
  let name = group.displayName;
  const members = new Set(group.members);

  const apply = (op: Op, path: string, value: unknown) => {
    const attributePath = stripPrefix(path, SCHEMA.group) ?? path;
    const filtered = /^members\[(.*)\]$/i.exec(attributePath);
    if (filtered) {
      if (op !== 'remove') throw new ScimError(400, `Only remove is supported on "${path}"`, 'invalidPath');
      const filter = memberFilter(path, filtered[1]!);
      for (const id of [...members]) if (memberMatches(filter, id, userName(id))) members.delete(id);
      return;
    }
    switch (attributePath.toLowerCase()) {
      case 'members':
        if (op === 'add') for (const id of memberIds(value)) members.add(id);
        else if (op === 'replace') {
          members.clear();
          for (const id of value === null ? [] : memberIds(value)) members.add(id);
        } else if (value === undefined) members.clear();
        else for (const id of memberIds(value)) members.delete(id);
        return;
      case 'displayname':
        if (op === 'remove')
          throw new ScimError(400, 'displayName is required and cannot be removed', 'mutability');
        name = displayName(value);
        return;
      case 'externalid':
      case 'schemas':
        return;
    }
    throw new ScimError(400, `Unsupported attribute path "${path}"`, 'invalidPath');
  };

  for (const { op, path, value } of operations(body)) {
    if (path) apply(op, path, value);
    else
      for (const [key, inner] of Object.entries(objectValue(value, 'A PATCH value without path')))
        apply(op, key, inner);
  }

  const change: { displayName?: string; members?: string[] } = {};
  if (name !== group.displayName) change.displayName = name;
  const changed = members.size !== group.members.size || [...members].some((id) => !group.members.has(id));
  if (changed) change.members = [...members];
  return change;
}
