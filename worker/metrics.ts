/**
 * Issue 17: the product's Prometheus metrics (the SDK's own come from its runtime, see
 * worker/http.ts). Counters are this process's; gauges describe the connector and are read from
 * Temporal when scraped (cached briefly), so every worker reports the same values. No label ever
 * holds a name, an email or an id: only services, statuses, activity types and outcomes.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type {
  ActivityExecuteInput,
  ActivityInboundCallsInterceptor,
  ActivityInterceptorsFactory,
  Next,
} from '@temporalio/worker';
import { Counter, Gauge, Registry } from 'prom-client';
import type { ApiService } from '../api/errors';
import { CREDENTIALS_REJECTED } from '../activities/failures';
import { feedStateQuery } from '../contracts/feed';
import { entityQuery } from '../temporal/entities';
import { workflowIds } from '../temporal/ids';

export type ActivityOutcome = 'completed' | 'retryable' | 'permanent' | 'credentials' | 'cancelled';

/** How an activity ended, in the error taxonomy's words (README, "Request rates"). */
export function outcomeOf(error: unknown): ActivityOutcome {
  if (error instanceof CancelledFailure) return 'cancelled';
  if (error instanceof ApplicationFailure) {
    if (error.type === CREDENTIALS_REJECTED) return 'credentials';
    if (error.nonRetryable) return 'permanent';
  }
  return 'retryable';
}

/** The connector's state as gauges show it; undefined: not known (nothing reported). */
export interface ConnectorGauges {
  usersInError?: number;
  heldUsers?: number;
  feedLagSeconds?: number;
}

/** Reads the connector's gauges from Temporal (visibility counts and the feed's state). */
export function connectorGaugeReader(client: Client, connectorId: string): () => Promise<ConnectorGauges> {
  const count = (syncState: string) =>
    client.workflow
      .count(entityQuery({ connectorId, kind: 'user', syncState }))
      .then((r) => r.count)
      .catch(() => undefined);
  return async () => {
    const [usersInError, heldUsers, feedLagSeconds] = await Promise.all([
      count('error'),
      count('held'),
      client.workflow
        .getHandle(workflowIds.feed(connectorId))
        .query(feedStateQuery)
        .then((state) =>
          state.lastPollAt ? Math.max(0, (Date.now() - Date.parse(state.lastPollAt)) / 1000) : undefined,
        )
        .catch(() => undefined),
    ]);
    return { usersInError, heldUsers, feedLagSeconds };
  };
}

export class ProductMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'jcn_api_requests_total',
    help: 'Requests this worker sent to JumpCloud and Notion, by service and HTTP status ("network": no answer)',
    labelNames: ['service', 'status'] as const,
    registers: [this.registry],
  });
  private readonly rateLimited = new Counter({
    name: 'jcn_api_rate_limited_total',
    help: 'Requests answered 429 (rate limited), by service: should stay 0',
    labelNames: ['service'] as const,
    registers: [this.registry],
  });
  private readonly operations = new Counter({
    name: 'jcn_operations_total',
    help: 'Activities this worker ran, by type (operation) and outcome: completed, retryable, permanent, credentials, cancelled',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });
  private gauges: { at: number; value: Promise<ConnectorGauges> } | undefined;

  constructor(
    readGauges: () => Promise<ConnectorGauges> = () => Promise.resolve({}),
    /** Gauges are read from Temporal at most this often, whatever the scrape interval. */
    cacheMs = 10_000,
  ) {
    const cached = () => {
      if (!this.gauges || Date.now() - this.gauges.at > cacheMs)
        this.gauges = { at: Date.now(), value: readGauges() };
      return this.gauges.value;
    };
    const gauge = (name: string, help: string, pick: (g: ConnectorGauges) => number | undefined) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        async collect() {
          const value = pick(await cached());
          if (value === undefined) this.reset();
          else this.set(value);
        },
      });
    gauge(
      'jcn_users_in_error',
      "The connector's users in error (U8, U9, a refused write)",
      (g) => g.usersInError,
    );
    gauge(
      'jcn_held_deactivations',
      "The connector's users whose deactivation (or first creation) awaits `jc-notion approve` (C6)",
      (g) => g.heldUsers,
    );
    gauge(
      'jcn_feed_lag_seconds',
      'Seconds since the change feed last polled Directory Insights (about POLL_INTERVAL when healthy)',
      (g) => g.feedLagSeconds,
    );
  }

  /** For the API clients (`onResponse`). */
  readonly observeResponse = (service: ApiService, status: number | 'network'): void => {
    this.requests.inc({ service, status: String(status) });
    if (status === 429) this.rateLimited.inc({ service });
  };

  /** Counts every activity of the worker by type and outcome. */
  interceptor(): ActivityInterceptorsFactory {
    const operations = this.operations;
    return (context) => ({
      inbound: {
        async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>) {
          const operation = context.info.activityType;
          try {
            const result: unknown = await next(input);
            operations.inc({ operation, outcome: 'completed' });
            return result;
          } catch (error) {
            operations.inc({ operation, outcome: outcomeOf(error) });
            throw error;
          }
        },
      },
    });
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
