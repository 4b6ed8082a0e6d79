/** The change feed workflow's contract (`jcn/<connector>/feed`, C4): its input, cursor and state query. */
import { defineQuery } from '@temporalio/workflow';
import { z } from 'zod';

export const cursorSchema = z.lazy(() =>
  z.object({ watermark: z.iso.datetime(), seen: z.array(z.string()) }),
);

export const feedInputSchema = z.lazy(() =>
  z.object({
    connectorId: z.string().min(1),
    cursor: cursorSchema,
    /** Totals carried over by continue-as-new. */
    totals: z
      .object({
        polls: z.number(),
        events: z.number(),
        users: z.number(),
        groups: z.number(),
        /** Issue 15: events that did not fit the schema, skipped with a logged reason. */
        skipped: z.number().optional(),
      })
      .optional(),
  }),
);
export type FeedInput = z.infer<typeof feedInputSchema>;

export interface FeedState {
  cursor: z.infer<typeof cursorSchema>;
  totals: { polls: number; events: number; users: number; groups: number; skipped?: number };
  lastPollAt?: string;
  pollIntervalMs?: number;
  /** The last poll that failed for good (a permanent error): shown by `status`, tried again next interval. */
  lastError?: { message: string; at: string };
}

export const feedStateQuery = defineQuery<FeedState>('state');
