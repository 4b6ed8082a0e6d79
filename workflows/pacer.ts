/**
 * The pacer (`jcn/<connector>/pacer`, ADR 0012): the one place bulk reads take their share of a
 * service's cluster-wide request rate. An activity that reads in bulk leases permits a few at a
 * time (the `leasePermits` Update); for each permit the pacer runs a no-op activity on the
 * service's rate-limited task queue, which the Temporal server dispatches no faster than
 * NOTION_MAX_RPS / JUMPCLOUD_MAX_RPS allow, together with every single-request activity. So the
 * cost in history of pacing falls here, bounded per run by continue-as-new, and never on the
 * reconciliation or the change feed that read. Started by the first lease (update-with-start);
 * ends after a while without one.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { HandlerUnfinishedPolicy } from '@temporalio/common';
import {
  leasePermitsUpdate,
  leaseRequestSchema,
  pacerInputSchema,
  pacerStateQuery,
  type PacerInput,
  type PacerState,
} from '../contracts/pacer';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { parseInput } from './entity';
import { permitActivities } from './permits';

/** A run's history stays small: about four events per permit. */
const MAX_HISTORY_EVENTS = 4_000;
/** With no lease for this long the pacer ends; the next lease starts it again. */
const IDLE_MS = 5 * 60_000;
/**
 * Closing (continue-as-new, or idle), leases under way get this long to finish. A permit waits
 * behind the whole backlog of its queue, which can take minutes: those not granted by then are
 * abandoned (their permits go unused, which is only ever slower), and their callers ask again.
 */
const CLOSING_GRACE_MS = 10_000;

export async function pacerWorkflow(rawInput: PacerInput): Promise<void> {
  const input = parseInput(pacerInputSchema, rawInput, 'pacer');
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.connectorId, value: input.connectorId },
    { key: SEARCH_ATTRIBUTES.kind, value: 'pacer' },
  ]);
  // A permit is dispatched when the server's limiter allows: waiting for it is the point.
  const permits = permitActivities();

  const state: PacerState = { granted: input.granted ?? { notion: 0, jumpcloud: 0 }, pending: 0 };
  let lastLeaseAt = Date.now();
  let closing = false;
  setHandler(pacerStateQuery, () => state);
  setHandler(
    leasePermitsUpdate,
    async ({ service, count }) => {
      state.pending += count;
      lastLeaseAt = Date.now();
      try {
        const one = permits[service];
        await Promise.all(Array.from({ length: count }, () => one()));
      } finally {
        state.pending -= count;
      }
      state.granted[service] += count;
      lastLeaseAt = Date.now();
      return count;
    },
    {
      validator: (request) => {
        leaseRequestSchema.parse(request);
        // The caller asks again and reaches the next run (or starts a new pacer).
        if (closing) throw new Error('the pacer is closing: ask again');
      },
      unfinishedPolicy: HandlerUnfinishedPolicy.ABANDON,
    },
  );

  const historyFull = () =>
    workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS;
  for (;;) {
    if (await condition(historyFull, IDLE_MS)) break;
    if (state.pending === 0 && Date.now() - lastLeaseAt >= IDLE_MS) {
      closing = true;
      await condition(allHandlersFinished, CLOSING_GRACE_MS);
      return;
    }
  }
  closing = true;
  await condition(allHandlersFinished, CLOSING_GRACE_MS);
  await continueAsNew<typeof pacerWorkflow>({ connectorId: input.connectorId, granted: state.granted });
}
