/**
 * The pacer workflow's contract (`jcn/<connector>/pacer`, ADR 0012): a lease of request permits
 * from a service's cluster-wide rate limit, for the activities that read in bulk.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';

export const pacedServiceSchema = z.lazy(() => z.enum(['notion', 'jumpcloud']));
export type PacedService = z.infer<typeof pacedServiceSchema>;

/** At most this many permits per lease: a lease's permits may be spent at once (ADR 0012). */
export const MAX_LEASE = 10;

export const leaseRequestSchema = z.lazy(() =>
  z.object({
    service: pacedServiceSchema,
    count: z.number().int().min(1).max(MAX_LEASE),
  }),
);
export type LeaseRequest = z.infer<typeof leaseRequestSchema>;

/**
 * Grants `count` permits once the service's rate-limited task queue has dispatched as many no-op
 * activities: each permit is one request the caller may send.
 */
export const leasePermitsUpdate = defineUpdate<number, [LeaseRequest]>('leasePermits');

export const pacerInputSchema = z.lazy(() =>
  z.object({
    connectorId: z.string().min(1),
    /** Totals carried over by continue-as-new. */
    granted: z.object({ notion: z.number(), jumpcloud: z.number() }).optional(),
  }),
);
export type PacerInput = z.infer<typeof pacerInputSchema>;

export interface PacerState {
  granted: { notion: number; jumpcloud: number };
  /** Permits being dispatched now. */
  pending: number;
}
export const pacerStateQuery = defineQuery<PacerState>('state');
