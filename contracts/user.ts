/**
 * The user workflow's contract (`jcn/<connector>/user/<JumpCloud id>`): its input, state, the
 * `sync` signal, the `provision` Update (C8) and the `state` query.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { jumpcloudIdSchema, jumpcloudStateSchema, problemSchema } from './shared';

const notionUserFacts = z.lazy(() =>
  z.object({
    id: z.string(),
    userName: z.string(),
    active: z.boolean(),
    givenName: z.string().optional(),
    familyName: z.string().optional(),
    formatted: z.string().optional(),
    role: z.string().optional(),
  }),
);
const jumpcloudUserFacts = z.lazy(() =>
  z.object({
    id: z.string(),
    username: z.string(),
    email: z.string().optional(),
    firstname: z.string().optional(),
    lastname: z.string().optional(),
    state: jumpcloudStateSchema,
    searchKeys: z.object({ email: z.string().optional(), username: z.string().optional() }).optional(),
  }),
);

/** Facts a reconciliation has just read in bulk, so the workflow need not read them again. */
export const observedSchema = z.lazy(() =>
  z.object({
    jumpcloud: jumpcloudUserFacts.nullable(),
    bound: z.boolean(),
    /** The linked or matched Notion user (null: Notion does not know it). */
    notion: notionUserFacts.nullable(),
  }),
);
export type Observed = z.infer<typeof observedSchema>;

/** The worker's settings that shape a user (SPEC §2), sent with each request: workflows read no environment. */
export const userPolicySchema = z.lazy(() =>
  z.object({
    usernameSource: z.enum(['email', 'username']),
    protectedUsers: z.array(z.string()),
    /** Issue 19 (UI_SUMMARIES_PII): the UI's summaries may name the user; absent: ids only. */
    personalSummaries: z.boolean().optional(),
  }),
);
export type UserPolicy = z.infer<typeof userPolicySchema>;

/**
 * C6: what the mass-deactivation guard has already decided for this request's deactivation:
 * `granted`/`hold` by a reconciliation for all of its deactivations, `approved`/`rejected` by an
 * admin for held ones. Absent: the workflow asks the connector before deactivating.
 */
export const deactivationDirectiveSchema = z.lazy(() => z.enum(['granted', 'hold', 'approved', 'rejected']));

/**
 * C6 (issue 14): the reconciliation's verdict on its creations: `hold` while a first bulk creation
 * above the threshold awaits an admin (whose `approved`/`rejected` comes as `deactivation`).
 */
export const creationDirectiveSchema = z.lazy(() => z.enum(['granted', 'hold']));

export const syncRequestSchema = z.lazy(() =>
  z.object({
    reason: z.string(),
    reconcileId: z.string().optional(),
    /** Every reconciliation among requests that arrived together (merged): each sees it settle. */
    reconcileIds: z.array(z.string()).optional(),
    observed: observedSchema.optional(),
    policy: userPolicySchema.optional(),
    deactivation: deactivationDirectiveSchema.optional(),
    creation: creationDirectiveSchema.optional(),
    /** C6: the users one event affects are decided together. */
    batch: z.object({ id: z.string(), size: z.number().int().positive() }).optional(),
    /**
     * Issue 14: a reconciliation found the Notion member this user maps to claimed by other
     * JumpCloud users as well (emails equal once normalised and case-folded): nothing is written.
     */
    conflict: z.object({ notionId: z.string(), userName: z.string(), with: z.array(z.string()) }).optional(),
  }),
);
export type SyncRequest = z.infer<typeof syncRequestSchema>;

/**
 * `deleted`: deleted in JumpCloud and deactivated in Notion (U10: delete the account by hand).
 * `held`: its deactivation awaits `jc-notion approve` (C6); `rejected`: an admin dropped it.
 */
export const userStatuses = [
  'pending',
  'in-sync',
  'deactivated',
  'deleted',
  'out-of-scope',
  'protected',
  'held',
  'rejected',
  'error',
] as const;
export type UserStatus = (typeof userStatuses)[number];

export const userStateSchema = z.lazy(() =>
  z.object({
    notionId: z.string().optional(),
    /** U3/U11: linked users only are managed. */
    linked: z.boolean(),
    status: z.enum(userStatuses),
    /** C6: the deactivation (or, `kind: create`, the creation) held for approval. */
    held: z
      .object({ reason: z.string(), since: z.string(), kind: z.enum(['deactivate', 'create']).optional() })
      .optional(),
    policy: userPolicySchema.optional(),
    username: z.string().optional(),
    email: z.string().optional(),
    /** Issue 16: what is published instead of username and email (hashed search attributes). */
    searchKeys: z.object({ email: z.string().optional(), username: z.string().optional() }).optional(),
    /** U10: deleted in JumpCloud and deactivated here: the account is to be deleted by hand. */
    deletedInJumpCloud: z.boolean(),
    error: problemSchema.optional(),
    lastSyncAt: z.string().optional(),
    lastReconcileId: z.string().optional(),
    /** Issue 15: the latest reconciliations whose requests this user settled (`JcnReconcileIds`). */
    reconcileIds: z.array(z.string()).optional(),
    /**
     * Issue 18: the linked Notion member as last read or written. A change from the feed is planned
     * against it instead of reading Notion first; a refused write, a reconciliation and `provision`
     * read Notion again.
     */
    notionFacts: notionUserFacts.optional(),
  }),
);
export type UserState = z.infer<typeof userStateSchema>;

export const userWorkflowInputSchema = z.lazy(() =>
  z.object({
    connectorId: z.string().min(1),
    jumpcloudUserId: jumpcloudIdSchema,
    policy: userPolicySchema,
    state: userStateSchema.optional(),
    pending: z.array(syncRequestSchema).optional(),
    /** Test hook: continue-as-new after this many history events (default MAX_HISTORY_EVENTS). */
    maxHistoryEvents: z.number().int().positive().optional(),
  }),
);
export type UserWorkflowInput = z.infer<typeof userWorkflowInputSchema>;

export interface Step {
  step: string;
  outcome: string;
}

/** Asks the user's workflow to converge (events, reconciliation). */
export const syncUserSignal = defineSignal<[SyncRequest]>('sync');
/** C8: converge now and report each step. */
export const provisionUserUpdate = defineUpdate<{ steps: Step[]; state: UserState }, []>('provision');
export const userStateQuery = defineQuery<UserState>('state');
