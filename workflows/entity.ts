/**
 * What every entity workflow (user, group) shares: validating its input, and the proxies of the
 * API activities with the same timeouts and retries, their search-attribute identity.
 * Deterministic: workflow code only.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import { type z } from 'zod';
import type { JumpCloudActivities, NotionActivities } from '../activities';
import { entityTags } from '../temporal/search-attributes';
import { taskQueues } from '../temporal/task-queues';

/** How many of the latest reconciliations an entity remembers settling (`JcnReconcileIds`). */
const RECENT_RECONCILES = 5;

/** The reconciliations an entity has settled, newest first, after settling `ids` (issue 15). */
export function rememberReconciles(
  previous: readonly string[] | undefined,
  ids: readonly string[],
): string[] {
  const fresh = ids.filter((id) => id);
  return [...new Set([...fresh.reverse(), ...(previous ?? [])])].slice(0, RECENT_RECONCILES);
}

/** The message an admin needs from a failure: the API error's, not Temporal's wrapper. */
export function failureMessage(error: unknown): string {
  if (error instanceof Error && error.cause instanceof Error) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * An entity's error as it records and shows it: the failure type (`InvalidData`, `Conflict`,
 * `CredentialsRejected`…, or the Temporal failure's name such as a timeout) and the API's message.
 */
export function describeFailure(error: unknown): { code: string; message: string } {
  const cause = error instanceof ActivityFailure && error.cause ? error.cause : error;
  const code =
    cause instanceof ApplicationFailure
      ? (cause.type ?? 'Error')
      : error instanceof ActivityFailure && cause instanceof Error
        ? cause.name
        : 'Error';
  return { code, message: cause instanceof Error ? cause.message : String(cause) };
}

/** The failure type of an activity's error, if it carries one. */
export function failureType(error: unknown): string | undefined {
  if (error instanceof ApplicationFailure) return error.type ?? undefined;
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure)
    return error.cause.type ?? undefined;
  if (error instanceof ActivityFailure && error.cause) return error.cause.name;
  return undefined;
}

/** Invalid input fails the workflow at once (a retry would never fix it). */
export function parseInput<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `invalid ${what} input: ${parsed.error.issues[0]?.message}`,
      'InvalidInput',
    );
  }
  return parsed.data;
}

/**
 * One request per activity: its HTTP timeouts stay within ~40 s, so a worker that dies mid-activity
 * is noticed after 45 s; a retryable failure (an outage) is retried for an hour before it is
 * recorded as the entity's error.
 */
export const API_ACTIVITY_OPTIONS = {
  startToCloseTimeout: '45 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
} satisfies ActivityOptions;

/** The API activities on their rate-limited task queues (temporal/task-queues.ts). */
export function apiActivities(overrides: ActivityOptions = {}) {
  const queues = taskQueues(workflowInfo().taskQueue);
  return {
    notion: proxyActivities<NotionActivities>({
      ...API_ACTIVITY_OPTIONS,
      ...overrides,
      taskQueue: queues.notion,
    }),
    jumpcloud: proxyActivities<JumpCloudActivities>({
      ...API_ACTIVITY_OPTIONS,
      ...overrides,
      taskQueue: queues.jumpcloud,
    }),
  };
}

/**
 * Tags an entity workflow for the Temporal UI: connector, kind and JumpCloud id (SPEC §7). The
 * gateway sets them at start too (temporal/entities.ts: findable before the first task runs), but
 * the workflow upserts them always: during a rolling upgrade an older worker may run the first
 * task of a workflow a newer one started, and skipping the upsert when the start carries the tags
 * would then fail its replay (test/replay.test.ts, "issue 18 (rolling upgrade)").
 */
export function tagEntity(kind: 'user' | 'group', connectorId: string, jumpcloudId: string): void {
  upsertSearchAttributes(entityTags(kind, connectorId, jumpcloudId));
}
