/**
 * The JumpCloud objects the emulator holds, shaped after JumpCloud's own OpenAPI specs
 * (v1 `systemuserreturn` / `application`, v2 `UserGroup` / `GraphConnection` /
 * `GraphObjectWithPaths`), and the zod schemas of the request bodies that change them.
 */
import { z } from 'zod';

export type UserState = 'STAGED' | 'ACTIVATED' | 'SUSPENDED';
export const USER_STATES = ['STAGED', 'ACTIVATED', 'SUSPENDED'] as const;

const OBJECT_ID = /^[0-9a-f]{24}$/;
export const isObjectId = (value: string): boolean => OBJECT_ID.test(value);
export const objectIdSchema = z.string().regex(OBJECT_ID, 'must be a 24-hex-character ObjectId');

/**
 * ObjectIds as MongoDB makes them: 4 bytes of seconds, 5 bytes per process, a 3-byte counter,
 * so that ids made later sort later (the journal's `search_after` relies on that).
 */
export class ObjectIdFactory {
  private counter = 0;
  constructor(private readonly processPart = 'e3a1c0ffee') {}

  next(at: number = Date.now()): string {
    this.counter = (this.counter + 1) % 0x1000000;
    const seconds = Math.floor(at / 1000)
      .toString(16)
      .padStart(8, '0');
    return `${seconds}${this.processPart}${this.counter.toString(16).padStart(6, '0')}`;
  }

  /** The counter part of the last id made (for snapshots). */
  get lastCounter(): number {
    return this.counter;
  }

  /** Continues after `counter` (a restored snapshot's), so that new ids stay unique. */
  resumeAfter(counter: number): void {
    this.counter = counter % 0x1000000;
  }
}

export interface Address {
  id: string;
  type?: string;
  poBox?: string;
  extendedAddress?: string;
  streetAddress?: string;
  locality?: string;
  region?: string;
  postalCode?: string;
  country?: string;
}

export interface PhoneNumber {
  id: string;
  type?: string;
  number?: string;
}

export type MfaStatus = 'NOT_ENROLLED' | 'ENROLLED';

/** v1 `systemuserreturn`. */
export interface SystemUser {
  _id: string;
  username: string;
  email: string;
  firstname: string;
  middlename: string;
  lastname: string;
  displayname: string;
  alternateEmail?: string;
  recoveryEmail?: { address: string; verified: boolean; verifiedAt?: string };
  state: UserState;
  activated: boolean;
  suspended: boolean;
  account_locked: boolean;
  account_locked_date: string | null;
  created: string;
  organization: string;
  creationSource: string;
  description: string;
  company: string;
  costCenter: string;
  department: string;
  employeeIdentifier?: string;
  employeeType: string;
  jobTitle: string;
  location: string;
  manager?: string;
  managedAppleId?: string;
  external_dn?: string;
  external_source_type?: string;
  external_password_expiration_date?: string;
  externally_managed: boolean;
  addresses: Address[];
  phoneNumbers: PhoneNumber[];
  attributes: { name: string; value: string }[];
  relationships: { type: string; value: string }[];
  ssh_keys: { _id: string; name: string; public_key: string; create_date: string }[];
  allow_public_key: boolean;
  public_key?: string;
  badLoginAttempts: number;
  disableDeviceMaxLoginAttempts: boolean;
  enable_managed_uid: boolean;
  enable_user_portal_multifactor: boolean;
  ldap_binding_user: boolean;
  mfa: { configured: boolean; exclusion: boolean; exclusionDays?: number; exclusionUntil?: string };
  mfaEnrollment: {
    overallStatus: MfaStatus;
    pushStatus: MfaStatus;
    totpStatus: MfaStatus;
    webAuthnStatus: MfaStatus;
  };
  password_date: string | null;
  password_expiration_date: string | null;
  password_expired: boolean;
  password_never_expires: boolean;
  passwordless_sudo: boolean;
  samba_service_user: boolean;
  sudo: boolean;
  tags?: string[];
  totp_enabled: boolean;
  unix_uid: number;
  unix_guid: number;
}

export type GroupMembershipMethod = 'NOTSET' | 'STATIC' | 'DYNAMIC_REVIEW_REQUIRED' | 'DYNAMIC_AUTOMATED';

/** v2 `UserGroup`. */
export interface UserGroup {
  id: string;
  name: string;
  type: 'user_group';
  description: string;
  email: string;
  attributes: Record<string, unknown>;
  membershipMethod: GroupMembershipMethod;
  membershipAutomated: boolean;
  memberQueryExemptions: GraphObject[];
  memberSuggestionsNotify: boolean;
  suggestionCounts: { add: number; remove: number; total: number };
}

/** v1 `application` (only the SSO applications the emulator holds). */
export interface Application {
  _id: string;
  name: string;
  displayName: string;
  displayLabel: string;
  description: string;
  ssoUrl: string;
  active: boolean;
  beta: boolean;
  color: '';
  created: string;
  organization: string;
  learnMore: string;
  logo: { url: string; color: '' };
  sso: { type: string; jit: boolean; hidden: boolean; beta: boolean };
  config: Record<string, { label: string; type: string; value: string; visible: boolean; readOnly: boolean }>;
  databaseAttributes: Record<string, unknown>[];
}

export type GraphType = 'user' | 'user_group' | 'application';

export interface GraphObject {
  id: string;
  type: GraphType;
}

export interface GraphConnection {
  to: GraphObject;
}

export interface GraphObjectWithPaths {
  id: string;
  type: GraphType;
  paths: GraphConnection[][];
}

// ---- request bodies ---------------------------------------------------------------------------

const text = z.string().max(1024);
const address = z.object({
  type: text.optional(),
  poBox: text.optional(),
  extendedAddress: text.optional(),
  streetAddress: text.optional(),
  locality: text.optional(),
  region: text.optional(),
  postalCode: text.optional(),
  country: text.optional(),
});
const phoneNumber = z.object({ type: text.optional(), number: text.optional() });

/** The fields of `systemuserputpost` / `systemuserput` the emulator keeps (others are ignored). */
const userFields = {
  username: z.string().trim().min(1).max(1024),
  email: z.string().trim().min(1).max(1024),
  firstname: text.optional(),
  middlename: text.optional(),
  lastname: text.optional(),
  displayname: text.optional(),
  alternateEmail: text.optional(),
  description: text.optional(),
  company: text.optional(),
  costCenter: text.optional(),
  department: text.optional(),
  employeeIdentifier: z.string().max(256).optional(),
  employeeType: text.optional(),
  jobTitle: text.optional(),
  location: text.optional(),
  manager: z.string().optional(),
  managedAppleId: text.optional(),
  external_dn: z.string().optional(),
  external_source_type: z.string().optional(),
  external_password_expiration_date: z.string().optional(),
  externally_managed: z.boolean().optional(),
  account_locked: z.boolean().optional(),
  allow_public_key: z.boolean().optional(),
  disableDeviceMaxLoginAttempts: z.boolean().optional(),
  enable_managed_uid: z.boolean().optional(),
  enable_user_portal_multifactor: z.boolean().optional(),
  ldap_binding_user: z.boolean().optional(),
  password_never_expires: z.boolean().optional(),
  passwordless_sudo: z.boolean().optional(),
  samba_service_user: z.boolean().optional(),
  sudo: z.boolean().optional(),
  suspended: z.boolean().optional(),
  unix_uid: z.number().int().min(1).optional(),
  unix_guid: z.number().int().min(1).optional(),
  addresses: z.array(address).optional(),
  phoneNumbers: z.array(phoneNumber).optional(),
  attributes: z.array(z.object({ name: z.string(), value: text })).optional(),
  relationships: z.array(z.object({ type: z.string(), value: z.string() })).optional(),
  tags: z.array(z.string()).optional(),
  public_key: z.string().optional(),
  recoveryEmail: z.object({ address: z.string() }).optional(),
  mfa: z
    .object({
      configured: z.boolean().optional(),
      exclusion: z.boolean().optional(),
      exclusionDays: z.number().int().min(1).optional(),
      exclusionUntil: z.string().optional(),
    })
    .optional(),
  /** Accepted and never stored or returned, like the real service. */
  password: z.string().optional(),
};

/** POST /systemusers: `username` and `email` required. */
export const userCreateSchema = z.object({
  ...userFields,
  state: z.enum(USER_STATES).optional(),
  activated: z.boolean().optional(),
});
export type UserCreateInput = z.input<typeof userCreateSchema>;

/** PUT /systemusers/{id}: a partial update; `state` only ACTIVATED or SUSPENDED. */
export const userUpdateSchema = z.object({
  ...userFields,
  username: userFields.username.optional(),
  email: userFields.email.optional(),
  state: z.enum(['ACTIVATED', 'SUSPENDED']).optional(),
});
export type UserUpdateInput = z.input<typeof userUpdateSchema>;

const graphObjectSchema = z.object({ id: z.string(), type: z.string() });

const groupFields = {
  name: z.string().trim().min(1).max(1024),
  description: z.string().optional(),
  email: z.string().optional(),
  attributes: z.record(z.string(), z.unknown()).optional(),
  membershipMethod: z.enum(['NOTSET', 'STATIC', 'DYNAMIC_REVIEW_REQUIRED', 'DYNAMIC_AUTOMATED']).optional(),
  membershipAutomated: z.boolean().optional(),
  memberQueryExemptions: z.array(graphObjectSchema).optional(),
  memberSuggestionsNotify: z.boolean().optional(),
};

/** POST /usergroups (`UserGroupPost`) and PUT /usergroups/{id} (`UserGroupPut`, a full update): `name` required. */
export const groupWriteSchema = z.object(groupFields);
export type GroupWriteInput = z.input<typeof groupWriteSchema>;

/** `GraphOperation-UserGroup-Member`; `user_group` members make nested groups. */
export const memberOperationSchema = z.object({
  op: z.enum(['add', 'remove', 'update']),
  type: z.enum(['user', 'user_group']),
  id: z.string(),
  attributes: z.record(z.string(), z.unknown()).optional(),
});
export type MemberOperation = z.infer<typeof memberOperationSchema>;

/** `GraphOperation-Application`. */
export const applicationOperationSchema = z.object({
  op: z.enum(['add', 'remove', 'update']),
  type: z.enum(['user', 'user_group']),
  id: z.string(),
  attributes: z.record(z.string(), z.unknown()).optional(),
});
export type ApplicationOperation = z.infer<typeof applicationOperationSchema>;
