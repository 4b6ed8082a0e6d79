/**
 * What every entity workflow (user, group) shares: validating its input, and the proxies of the
 * API activities with the same timeouts and retries, their search-attribute identity.
 * Deterministic: workflow code only.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  patched,
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
 * Issue 18: an entity workflow's patches behind one baseline patch. Each `patched()` call of a new
 * workflow records a marker and, by sdk-core, a `TemporalChangeVersion` upsert (a visibility write
 * in the server), all in its first task. A run whose first task runs this code records only the
 * baseline, which stands for every patch it covers: they are all in. A history without it (a run
 * started before, or whose first task an older worker ran during a rolling upgrade) asks each
 * patch on its own, as that code did, so it replays the way it ran. The baseline is asked once, at
 * the run's start: `patched()` answers true to any new call once the run is past its replay. A
 * patch added later is asked with `patched()` on its own until a new baseline covers it.
 */
export interface EntityPatches<P extends string> {
  /** This run's first task ran the code of the baseline. */
  readonly current: boolean;
  /** Whether the run has patch `id`: with the baseline, yes, without a marker of its own. */
  has(id: P): boolean;
}

/** Asks the baseline patch: call it in the workflow function, before anything else. */
export function entityPatches<P extends string>(baseline: string): EntityPatches<P> {
  const current = patched(baseline);
  return { current, has: (id) => current || patched(id) };
}

/**
 * Tags an entity workflow for the Temporal UI: connector, kind and JumpCloud id (SPEC §7). The
 * gateway sets them at start (temporal/entities.ts: findable before the first task runs). A run
 * with the baseline patch (`entityPatches`) upserts them only when its start did not carry them
 * (issue 18: one visibility write less per workflow). A run without it upserts them always, as the
 * code before did: during a rolling upgrade an older worker may run the first task of a workflow a
 * newer one started with its tags, and its history must replay (test/replay.test.ts, "issue 18").
 */
export function tagEntity(
  kind: 'user' | 'group',
  connectorId: string,
  jumpcloudId: string,
  patches: EntityPatches<string>,
): void {
  const tags = entityTags(kind, connectorId, jumpcloudId);
  const atStart = workflowInfo().typedSearchAttributes;
  if (patches.current && tags.every(({ key, value }) => atStart.get(key) === value)) return;
  upsertSearchAttributes(tags);
}
