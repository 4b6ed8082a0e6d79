/**
 * The JumpCloud emulator's snapshot (version 1): the directory as the API shows it (users,
 * groups, applications with every field, ids and creation times), the direct memberships and
 * bindings in the order they were made, the id counters, and the Directory Insights journal with
 * each event's time and visibility, so that a `search_after` cursor stays valid after a restore.
 */
import { z } from 'zod';
import { USER_STATES, objectIdSchema, type Application, type SystemUser, type UserGroup } from './model';

const isoTime = z.string().refine((value) => !Number.isNaN(Date.parse(value)), 'must be an ISO time');
const mfaStatus = z.enum(['NOT_ENROLLED', 'ENROLLED']);

const addressSchema = z.strictObject({
  id: z.string(),
  type: z.string().optional(),
  poBox: z.string().optional(),
  extendedAddress: z.string().optional(),
  streetAddress: z.string().optional(),
  locality: z.string().optional(),
  region: z.string().optional(),
  postalCode: z.string().optional(),
  country: z.string().optional(),
});

/** v1 `systemuserreturn`, exactly the fields the emulator keeps. */
export const systemUserSchema = z.strictObject({
  _id: objectIdSchema,
  username: z.string().min(1),
  email: z.string().min(1),
  firstname: z.string(),
  middlename: z.string(),
  lastname: z.string(),
  displayname: z.string(),
  alternateEmail: z.string().optional(),
  recoveryEmail: z
    .strictObject({ address: z.string(), verified: z.boolean(), verifiedAt: z.string().optional() })
    .optional(),
  state: z.enum(USER_STATES),
  activated: z.boolean(),
  suspended: z.boolean(),
  account_locked: z.boolean(),
  account_locked_date: z.string().nullable(),
  created: isoTime,
  organization: z.string(),
  creationSource: z.string(),
  description: z.string(),
  company: z.string(),
  costCenter: z.string(),
  department: z.string(),
  employeeIdentifier: z.string().optional(),
  employeeType: z.string(),
  jobTitle: z.string(),
  location: z.string(),
  manager: z.string().optional(),
  managedAppleId: z.string().optional(),
  external_dn: z.string().optional(),
  external_source_type: z.string().optional(),
  external_password_expiration_date: z.string().optional(),
  externally_managed: z.boolean(),
  addresses: z.array(addressSchema),
  phoneNumbers: z.array(
    z.strictObject({ id: z.string(), type: z.string().optional(), number: z.string().optional() }),
  ),
  attributes: z.array(z.strictObject({ name: z.string(), value: z.string() })),
  relationships: z.array(z.strictObject({ type: z.string(), value: z.string() })),
  ssh_keys: z.array(
    z.strictObject({ _id: z.string(), name: z.string(), public_key: z.string(), create_date: z.string() }),
  ),
  allow_public_key: z.boolean(),
  public_key: z.string().optional(),
  badLoginAttempts: z.number().int().min(0),
  disableDeviceMaxLoginAttempts: z.boolean(),
  enable_managed_uid: z.boolean(),
  enable_user_portal_multifactor: z.boolean(),
  ldap_binding_user: z.boolean(),
  mfa: z.strictObject({
    configured: z.boolean(),
    exclusion: z.boolean(),
    exclusionDays: z.number().int().optional(),
    exclusionUntil: z.string().optional(),
  }),
  mfaEnrollment: z.strictObject({
    overallStatus: mfaStatus,
    pushStatus: mfaStatus,
    totpStatus: mfaStatus,
    webAuthnStatus: mfaStatus,
  }),
  password_date: z.string().nullable(),
  password_expiration_date: z.string().nullable(),
  password_expired: z.boolean(),
  password_never_expires: z.boolean(),
  passwordless_sudo: z.boolean(),
  samba_service_user: z.boolean(),
  sudo: z.boolean(),
  tags: z.array(z.string()).optional(),
  totp_enabled: z.boolean(),
  unix_uid: z.number().int(),
  unix_guid: z.number().int(),
});

const memberRefSchema = z.strictObject({ id: objectIdSchema, type: z.enum(['user', 'user_group']) });

/** v2 `UserGroup`, with its direct members (users and nested groups) in the order they were added. */
export const snapshotGroupSchema = z.strictObject({
  id: objectIdSchema,
  name: z.string().min(1),
  type: z.literal('user_group'),
  description: z.string(),
  email: z.string(),
  attributes: z.record(z.string(), z.unknown()),
  membershipMethod: z.enum(['NOTSET', 'STATIC', 'DYNAMIC_REVIEW_REQUIRED', 'DYNAMIC_AUTOMATED']),
  membershipAutomated: z.boolean(),
  // Stored as the API accepted them (any `type` string).
  memberQueryExemptions: z.array(z.strictObject({ id: z.string(), type: z.string() })),
  memberSuggestionsNotify: z.boolean(),
  suggestionCounts: z.strictObject({ add: z.number(), remove: z.number(), total: z.number() }),
  members: z.array(memberRefSchema),
});

const configFieldSchema = z.strictObject({
  label: z.string(),
  type: z.string(),
  value: z.string(),
  visible: z.boolean(),
  readOnly: z.boolean(),
  required: z.boolean().optional(),
  position: z.number().optional(),
});

/** v1 `application`. */
export const applicationSchema = z.strictObject({
  _id: z.string().min(1),
  name: z.string().min(1),
  displayName: z.string(),
  displayLabel: z.string(),
  description: z.string(),
  ssoUrl: z.string(),
  active: z.boolean(),
  beta: z.boolean(),
  color: z.literal(''),
  created: isoTime,
  organization: z.string(),
  learnMore: z.string(),
  logo: z.strictObject({ url: z.string(), color: z.literal('') }),
  sso: z.strictObject({ type: z.string(), jit: z.boolean(), hidden: z.boolean(), beta: z.boolean() }),
  config: z.record(z.string(), configFieldSchema),
  databaseAttributes: z.array(z.record(z.string(), z.unknown())),
});

/** A Directory Insights event (`additionalProperties: true`). */
const eventSchema = z.looseObject({
  id: z.string().min(1),
  event_type: z.string().min(1),
  timestamp: isoTime,
  service: z.string().min(1),
});

const epochMs = z.number().int().min(0);

export const jumpCloudSnapshotSchema = z.strictObject({
  version: z.literal(1),
  emulator: z.literal('jumpcloud'),
  organization: z.string(),
  notionAppId: z.string(),
  /** `nextUid`: the next user's `unix_uid`; `objectIds`: the ObjectId counter (ids stay unique and ordered). */
  counters: z.strictObject({
    nextUid: z.number().int().min(1),
    objectIds: z.number().int().min(0).max(0xffffff),
  }),
  applications: z.array(applicationSchema),
  users: z.array(systemUserSchema),
  groups: z.array(snapshotGroupSchema),
  /** User or group id → the groups it is a direct member of, in the order it joined them. */
  memberOf: z.record(objectIdSchema, z.array(objectIdSchema)),
  /** Each application's directly bound users and groups, in the order they were bound. */
  bindings: z.array(z.strictObject({ application: z.string(), members: z.array(memberRefSchema) })),
  insights: z.strictObject({
    /** The late-arrival delay new events get. */
    delayMs: z.number().int().min(0),
    /** The journal in (time, id) order; `at` is the event's time, `visibleAt` when queries see it. */
    events: z.array(z.strictObject({ at: epochMs, visibleAt: epochMs, event: eventSchema })),
  }),
});

/** What `snapshot()` returns and `restore()` reads (JSON-serialisable). */
export type JumpCloudSnapshot = z.output<typeof jumpCloudSnapshotSchema>;

// The schemas must name every field of the objects they restore (and no other).
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never]
  ? true
  : false;
const _usersComplete: SameKeys<SystemUser, z.output<typeof systemUserSchema>> = true;
const _groupsComplete: SameKeys<
  UserGroup & { members: unknown },
  z.output<typeof snapshotGroupSchema>
> = true;
const _applicationsComplete: SameKeys<Application, z.output<typeof applicationSchema>> = true;
