/**
 * The group workflow's contract (`jcn/<connector>/group/<JumpCloud id>`): its input, state, the
 * `sync` signal and the `state` query.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { z } from 'zod';
import { jumpcloudIdSchema, problemSchema } from './shared';

export const groupSyncRequestSchema = z.lazy(() =>
  z.object({
    reason: z.string(),
    /** G8, as the connector has it when the request is made. */
    groupManagement: z.boolean(),
    reconcileId: z.string().optional(),
    /** Every reconciliation among requests that arrived together (merged): each sees it settle. */
    reconcileIds: z.array(z.string()).optional(),
    /**
     * Members just provisioned (JumpCloud id → Notion id), known before visibility shows their
     * links (G9 after a provisioning outside reconciliations).
     */
    provisioned: z.record(z.string(), z.string()).optional(),
    /** JumpCloud's `group_delete` event for this group: its 404 needs no second read (G7). */
    deletedEvent: z.boolean().optional(),
    /**
     * G7 (GROUP_DELETION_CONFIRM_DELAY, sent by the workers, which read the configuration): how
     * long a 404 must last before the Notion group is deleted without a `group_delete` event.
     */
    deletionConfirmMs: z.number().int().min(0).optional(),
    /** C6 (issue 14): an admin's decision on this group's held creation or deletion. */
    decision: z.enum(['approved', 'rejected']).optional(),
    /** Issue 19 (UI_SUMMARIES_PII): the UI's summaries may name the group; absent: ids only. */
    personalSummaries: z.boolean().optional(),
  }),
);
export type GroupSyncRequest = z.infer<typeof groupSyncRequestSchema>;

export const groupStatuses = [
  'pending',
  'in-sync',
  'empty',
  'unbound',
  /** JumpCloud answers 404; deleted in Notion only once that is confirmed (G7, issue 14). */
  'missing',
  'deleted',
  'rename-conflict',
  'deletion-refused',
  /** C6: its creation or deletion awaits `jc-notion approve` (issue 14); `rejected`: dropped. */
  'held',
  'rejected',
  'disabled',
  'error',
] as const;
export type GroupStatus = (typeof groupStatuses)[number];

export const groupStateSchema = z.lazy(() =>
  z.object({
    notionId: z.string().optional(),
    name: z.string().optional(),
    /** Issue 16: what is published instead of the name (hashed search attributes). */
    nameKey: z.string().optional(),
    status: z.enum(groupStatuses),
    /** The JumpCloud members seen at the last sync while bound (who to nudge on G6/G7). */
    lastMemberIds: z.array(z.string()),
    problem: problemSchema.optional(),
    lastSyncAt: z.string().optional(),
    lastReconcileId: z.string().optional(),
    /** Issue 15: the latest reconciliations whose requests this group settled (`JcnReconcileIds`). */
    reconcileIds: z.array(z.string()).optional(),
    lastGroupManagement: z.boolean().optional(),
    /** Since when JumpCloud answers 404 for the group (G7: a deletion not yet confirmed). */
    missingSince: z.string().optional(),
    /** When that 404 was confirmed as a deletion (kept while a refused deletion is retried). */
    deletionConfirmedAt: z.string().optional(),
    /** C6: the creation or deletion held for an admin's decision. */
    held: z
      .object({ change: z.enum(['create', 'delete']), reason: z.string(), since: z.string() })
      .optional(),
    /** The confirmation delay the last request carried. */
    deletionConfirmMs: z.number().int().min(0).optional(),
    /** Issue 19: what the last request said of naming the group in the UI's summaries. */
    personalSummaries: z.boolean().optional(),
  }),
);
export type GroupState = z.infer<typeof groupStateSchema>;

export const groupWorkflowInputSchema = z.lazy(() =>
  z.object({
    connectorId: z.string().min(1),
    jumpcloudGroupId: jumpcloudIdSchema,
    state: groupStateSchema.optional(),
    pending: z.array(groupSyncRequestSchema).optional(),
    /** Test hook: how long before a refused deletion is tried again (default 1 hour). */
    retryDelayMs: z.number().int().positive().optional(),
  }),
);
export type GroupWorkflowInput = z.infer<typeof groupWorkflowInputSchema>;

export const syncGroupSignal = defineSignal<[GroupSyncRequest]>('sync');
export const groupStateQuery = defineQuery<GroupState>('state');
