/**
 * Messages and shapes of the import workflows (SPEC I1–I3), in a module of their own so that the
 * CLI and the activities can use them without the workflow code.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { z } from 'zod';
import { EMAIL_PATTERN } from './shared';
import { connectorIdSchema, jumpcloudIdSchema, jumpcloudStateSchema } from './shared';
import type { JumpCloudState } from './shared';

/** Under this many selected users, `import run` follows the import and prints each result. */
export const BACKGROUND_THRESHOLD = 100;
/** Users per batch workflow of a background import. */
export const IMPORT_BATCH_SIZE = 100;

/** I1: a Notion member without a JumpCloud user of that email is `New`; otherwise `Imported`. */
export type ImportStatus = 'New' | 'Imported';

/** A user to create in JumpCloud (or found there already), as the import workflows get it. */
export interface ImportCandidate {
  /** The Notion member's email (its `userName`, lower-cased by Notion). */
  email: string;
  firstname: string;
  lastname: string;
  /** Set when JumpCloud already had a user with this email when the import was prepared. */
  existing?: { id: string; username: string; state: JumpCloudState; managed: boolean };
}

/** The outcome for one user (I2). */
export interface ImportResult {
  email: string;
  /** `existing`: JumpCloud already had a user with this email (nothing was created). */
  outcome: 'created' | 'existing' | 'failed';
  username?: string;
  jumpcloudId?: string;
  state?: JumpCloudState;
  /** `--group`: whether the user is now a member of the group. */
  group?: 'added' | 'failed';
  /**
   * I3: in scope of the sync (ACTIVATED, and bound to the application, e.g. through a bound group);
   * undefined when unknown.
   */
  managed?: boolean;
  /** Why it failed (or why the group could not be joined). */
  error?: string;
}

export interface ImportCounts {
  created: number;
  existing: number;
  failed: number;
  /** Imported (created or existing) but not managed by the sync (I3). */
  unmanaged: number;
}

export interface ImportProgress {
  importId: string;
  phase: 'preparing' | 'importing' | 'done' | 'refused';
  /** Users selected (emails given, or the New members for `--all-new`). */
  total: number;
  /** 100 or more: batch workflows do the work and a mail reports the end. */
  background: boolean;
  counts: ImportCounts;
  /** In the foreground, every result so far in completion order; in the background, the failures (capped). */
  results: ImportResult[];
  /** Failures not kept in `results` (background imports keep at most MAX_KEPT_FAILURES). */
  failuresNotListed: number;
  batches?: { total: number; done: number };
  group?: { id: string; name: string };
  /** Refused before anything was created (I3, activation, configuration). */
  reason?: string;
  /** I3: imported users that the sync does not manage, and what to do about it. */
  warning?: string;
  /** Background: how the completion mail went. */
  mail?: string;
}

/** A finished batch of a background import, signalled to the import workflow. */
export interface ImportBatchReport {
  batch: number;
  counts: ImportCounts;
  failures: ImportResult[];
}

/** I1's listing, compact: `encoded` is `common/import-list.ts`'s gzip+base64 of the entries. */
export interface ImportListing {
  total: number;
  newCount: number;
  importedCount: number;
  /** False when Notion's listing was unreliable (ids repeated, counts disagreeing). */
  complete: boolean;
  encoded: string;
}

export const importProgressQuery = defineQuery<ImportProgress>('importProgress');
export const importBatchDoneSignal = defineSignal<[ImportBatchReport]>('importBatchDone');

const importIdSchema = z.lazy(() => z.string().regex(/^[A-Za-z0-9][A-Za-z0-9:._-]{0,79}$/));
const emailSchema = z.lazy(() =>
  z.string().trim().toLowerCase().max(254).regex(EMAIL_PATTERN, 'must be email addresses'),
);

export const importListInputSchema = z.lazy(() => z.object({ connectorId: connectorIdSchema }));
export type ImportListWorkflowInput = z.infer<typeof importListInputSchema>;

export const importInputSchema = z.lazy(() =>
  z
    .object({
      connectorId: connectorIdSchema,
      importId: importIdSchema,
      /** The users to import, by email (`import run <email>…`). */
      emails: z.array(emailSchema).max(100_000).optional(),
      /** Every `New` member (`import run --all-new`). */
      allNew: z.boolean().optional(),
      /** I3: a user group bound to the application, which the imported users join. */
      groupId: jumpcloudIdSchema.optional(),
    })
    .refine((i) => Boolean(i.allNew) !== Boolean(i.emails && i.emails.length > 0), {
      message: 'give either emails or allNew',
    }),
);
export type ImportWorkflowInput = z.input<typeof importInputSchema>;

const candidateSchema = z.lazy(() =>
  z.object({
    email: emailSchema,
    firstname: z.string().max(1024),
    lastname: z.string().max(1024),
    existing: z
      .object({
        id: jumpcloudIdSchema,
        username: z.string(),
        state: jumpcloudStateSchema,
        managed: z.boolean(),
      })
      .optional(),
  }),
);

export const importBatchInputSchema = z.lazy(() =>
  z.object({
    connectorId: connectorIdSchema,
    importId: importIdSchema,
    /** The import workflow, told when this batch is done. */
    parentWorkflowId: z.string().min(1),
    batch: z.number().int().min(0),
    groupId: jumpcloudIdSchema.optional(),
    users: z.array(candidateSchema).max(1000),
  }),
);
export type ImportBatchInput = z.input<typeof importBatchInputSchema>;
