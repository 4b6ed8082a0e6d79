/**
 * The change feed (`jcn/<connector>/feed`, SPEC C4): started when the connector is activated and
 * cancelled when it is deactivated. Every POLL_INTERVAL one activity reads Directory Insights from
 * the cursor (minus an overlap window, for events that arrive late), skips the event ids already
 * seen, and signals the affected user and group workflows. The cursor — the newest event time and
 * the ids inside the overlap window — is this workflow's state, carried over by continue-as-new.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { feedInputSchema, feedStateQuery, type FeedInput, type FeedState } from '../contracts/feed';
import type { Activities } from '../activities';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { failureMessage, parseInput } from './entity';
import { handlePermitRequests } from './permits';
import { STEPS } from './summaries';

/** Polls per run: each takes a few history events (its timer and its activity). */
const POLLS_PER_RUN = 200;
/**
 * Issue 15: a run continues-as-new by the size of its history too, well under Temporal's limits
 * (51,200 events, 50 MB): a poll's input and result hold the cursor, whose seen ids grow with a
 * burst of events.
 */
const MAX_HISTORY_EVENTS = 2_000;
const MAX_HISTORY_BYTES = 2_000_000;

export async function feedWorkflow(rawInput: FeedInput): Promise<void> {
  const input = parseInput(feedInputSchema, rawInput, 'feed');
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.connectorId, value: input.connectorId },
    { key: SEARCH_ATTRIBUTES.kind, value: 'feed' },
  ]);
  // Older workers' polls asked this workflow for permits (ADR 0004; now the pacer, ADR 0012).
  handlePermitRequests();
  const { feedSettings } = proxyActivities<Activities>({ startToCloseTimeout: '10 seconds' });
  // An outage (or rejected credentials, C3) only delays the feed: it retries without end, and the
  // overlap window plus the cursor make sure nothing in between is lost.
  const { pollFeed } = proxyActivities<Activities>({
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
  });

  const state: FeedState = {
    cursor: input.cursor,
    totals: input.totals ?? { polls: 0, events: 0, users: 0, groups: 0 },
  };
  setHandler(feedStateQuery, () => state);

  const settings = await feedSettings();
  state.pollIntervalMs = settings.pollIntervalMs;
  const historyFull = () => {
    const info = workflowInfo();
    return (
      info.continueAsNewSuggested ||
      (patched('feed-history-bound') &&
        (info.historyLength > MAX_HISTORY_EVENTS || info.historySize > MAX_HISTORY_BYTES))
    );
  };
  let backlog = false;
  for (let poll = 0; poll < POLLS_PER_RUN && !historyFull(); poll++) {
    // A poll that left events behind (a bulk change) is followed at once by the next.
    if (!backlog || !patched('feed-bounded-polls')) await sleep(settings.pollIntervalMs);
    backlog = false;
    let result;
    try {
      result = await pollFeed.executeWithOptions({ summary: STEPS.feed.poll(state.cursor.watermark) }, [
        { connectorId: input.connectorId, cursor: state.cursor, overlapMs: settings.overlapMs },
      ]);
    } catch (error) {
      // A permanent failure must not end the feed: the cursor stays, the next interval tries again.
      state.lastError = { message: failureMessage(error), at: new Date().toISOString() };
      continue;
    }
    state.lastError = undefined;
    state.cursor = result.cursor;
    state.lastPollAt = new Date().toISOString();
    state.totals.polls += 1;
    state.totals.events += result.fresh;
    state.totals.users += result.users;
    state.totals.groups += result.groups;
    if (result.skipped) state.totals.skipped = (state.totals.skipped ?? 0) + result.skipped;
    backlog = Boolean(result.more);
  }
  await condition(allHandlersFinished);
  await continueAsNew<typeof feedWorkflow>({
    connectorId: input.connectorId,
    cursor: state.cursor,
    totals: state.totals,
  });
}
