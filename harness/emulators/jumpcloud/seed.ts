/**
 * The pre-existing state loaded with `POST /_emulator/seed` or `emulator.seed()`. Objects refer
 * to each other by name (usernames, group names), not by id, so that seeds stay readable.
 * Seeding adds to what is there and generates no Directory Insights events.
 */
import { z } from 'zod';
import { USER_STATES, objectIdSchema } from './model';

const seedUserSchema = z.object({
  /** Fixed id; generated when absent. */
  id: objectIdSchema.optional(),
  username: z.string().min(1),
  email: z.string().min(1),
  firstname: z.string().optional(),
  middlename: z.string().optional(),
  lastname: z.string().optional(),
  displayname: z.string().optional(),
  state: z.enum(USER_STATES).default('ACTIVATED'),
  department: z.string().optional(),
  jobTitle: z.string().optional(),
  company: z.string().optional(),
  location: z.string().optional(),
  employeeIdentifier: z.string().optional(),
  employeeType: z.string().optional(),
  /** ISO creation time; now when absent. */
  created: z
    .string()
    .refine((value) => !Number.isNaN(Date.parse(value)), 'must be an ISO time')
    .optional(),
});

const seedGroupSchema = z.object({
  id: objectIdSchema.optional(),
  name: z.string().min(1),
  description: z.string().optional(),
  email: z.string().optional(),
  /** Usernames of the direct user members. */
  members: z.array(z.string()).default([]),
  /** Names of the groups nested in this one (their members are members of this group too). */
  groups: z.array(z.string()).default([]),
});

const seedApplicationSchema = z.object({
  id: objectIdSchema.optional(),
  /** The application's name (`displayLabel` too). */
  name: z.string().min(1),
});

const seedBindingSchema = z.object({
  /** Name or id of the application; the `Notion` application when absent. */
  application: z.string().optional(),
  /** Names of the user groups bound to it. */
  groups: z.array(z.string()).default([]),
  /** Usernames of the users bound to it directly. */
  users: z.array(z.string()).default([]),
});

export const jumpCloudSeedSchema = z.object({
  users: z.array(seedUserSchema).default([]),
  groups: z.array(seedGroupSchema).default([]),
  /** SSO applications besides `Notion`, which always exists. */
  applications: z.array(seedApplicationSchema).default([]),
  bindings: z.array(seedBindingSchema).default([]),
});

/** What a seed may say (defaults filled in when it is loaded). */
export type JumpCloudSeed = z.input<typeof jumpCloudSeedSchema>;
/** A seed as the store loads it. */
export type ParsedJumpCloudSeed = z.output<typeof jumpCloudSeedSchema>;

/** `POST /_emulator/seed` body: a named seed or an explicit one. */
export const seedRequestSchema = z.union([
  z.object({ name: z.literal('demo') }).strict(),
  jumpCloudSeedSchema.strict(),
]);
