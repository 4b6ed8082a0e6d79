/**
 * `jc-notion history <email | username | JumpCloud id | group name>` (issue 19, SPEC §8): one user's
 * or group's provisioning log, read from its workflow history. Every run of its entity workflow
 * is read, oldest first (continue-as-new and restarts after a termination included), and each step
 * is one line: when, what (the activity's summary, else its type) and its outcome; the requests
 * that drove the steps (`sync` signals and their reason, the `provision` Update) and the runs'
 * starts and ends are steps too. Payloads (summaries, signals, results, failures) are decoded with
 * the workers' data converter: with PAYLOAD_ENCRYPTION_KEYS they are encrypted (issue 16).
 */
import { isGrpcServiceError, type Client } from '@temporalio/client';
import {
  ApplicationFailure,
  type LoadedDataConverter,
  type Payload,
  type SerializationContext,
} from '@temporalio/common';
// The SDK's own decoding (codecs with their serialization context, then the payload or failure
// converter): @temporalio/common has no public equivalent, and writing it again here would drift
// from what the workers encode. Pinned by package-lock; test/client/history.test.ts decodes
// encrypted events with it, so an SDK upgrade that moves it fails there first.
import {
  decodeFromPayloadsAtIndex,
  decodeOptionalFailureToOptionalError,
  decodeOptionalSinglePayload,
} from '@temporalio/common/lib/internal-non-workflow';
import type { temporal } from '@temporalio/proto';
import { z } from 'zod';
import { loadConfig, type Config } from '../../config/config';
import { connectClient } from '../../temporal/connection';
import { CliError } from '../errors';
import { printError, printJson, printLines, type OutputOptions } from '../output';
import { workflowUrl } from '../ui-links';
import { entityLines, findEntities, noMatch, who, type FoundEntity } from './find';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type ProtoFailure = temporal.api.failure.v1.IFailure;
type ProtoPayloads = temporal.api.common.v1.IPayloads;
type PendingActivity = temporal.api.workflow.v1.IPendingActivityInfo;

/**
 * gRPC's NOT_FOUND (the status enum is @grpc/grpc-js's, not a dependency of ours): a run listed by
 * visibility whose history retention has already removed.
 */
const GRPC_NOT_FOUND = 5;
/**
 * The `what` column is padded to the longest step up to this width (summaries with a long email
 * fit); a longer one pushes its outcome right rather than being cut.
 */
export const WHAT_WIDTH = 96;

/**
 * `completed`, `failed`, `timed-out`, `canceled`: how an activity, an Update or a run ended;
 * `running`/`scheduled`: an activity not finished yet; `unfinished`: one its run ended without.
 */
export type StepOutcome =
  | 'started'
  | 'received'
  | 'accepted'
  | 'completed'
  | 'failed'
  | 'timed-out'
  | 'canceled'
  | 'terminated'
  | 'continued'
  | 'running'
  | 'scheduled'
  | 'unfinished';

export interface HistoryStep {
  /** When the step began (ISO): the activity scheduled, the signal received, the run started. */
  at: string;
  runId: string;
  eventId: number;
  type:
    'run-started' | 'signal' | 'update' | 'activity' | 'workflow-task' | 'continued-as-new' | 'run-closed';
  what: string;
  outcome: StepOutcome;
  /** Why: the failure (type and message), the termination's reason, the new run… */
  detail?: string;
  /** When it ended, for steps that take time (activities, Updates). */
  endedAt?: string;
  activityType?: string;
  /** The activity's summary as the workflow scheduled it (absent: the type says what it does). */
  summary?: string;
  /** Attempts made (retried `attempts - 1` times). */
  attempts?: number;
  /** The last failure of an activity that was retried. */
  lastFailure?: string;
  /** An activity's short result (`deactivated`, `created`…), or the entity's state after `provision`. */
  result?: string;
  signal?: string;
  update?: string;
  /** A `sync` request's reason (the feed's event, `reconcile`, `provision`…) and reconciliation. */
  reason?: string;
  reconcileId?: string;
}

export interface HistoryRun {
  runId: string;
  startedAt: string;
  closedAt?: string;
  /** `running`, or how the run ended: `completed`, `continued-as-new`, `terminated`, `failed`… */
  status: string;
  /** The run's summary in the Temporal UI (`User kate@example.com (Kate Lee)`), when it has one. */
  summary?: string;
  url: string;
}

export interface EntityHistory {
  entity: FoundEntity;
  runs: HistoryRun[];
  steps: HistoryStep[];
  /** Payloads this command could not decode (encrypted with a key it was not given). */
  unreadablePayloads: number;
}

/** The fields of a `sync` request (user or group) the log shows; the rest (observed facts) stays out. */
const syncRequestView = z.object({
  reason: z.string(),
  reconcileId: z.string().optional(),
  deactivation: z.string().optional(),
  creation: z.string().optional(),
  decision: z.string().optional(),
});
/** The `provision` Update's answer: the user's state after it. */
const provisionResultView = z.object({ state: z.object({ status: z.string() }) });
/** A result that is a word (`deactivated`, `already-removed`) or carries one as `outcome`. */
const shortWord = z.string().regex(/^[a-z][a-z-]{0,31}$/);
const activityResultView = z.union([shortWord, z.object({ outcome: shortWord })]);

const num = (value: number | { toNumber(): number } | null | undefined): number =>
  value == null ? 0 : typeof value === 'number' ? value : value.toNumber();

/** An event's time in ms (0 when it has none). */
function eventMs(time: HistoryEvent['eventTime']): number {
  return time ? num(time.seconds) * 1000 + Math.floor((time.nanos ?? 0) / 1e6) : 0;
}

function iso(event: HistoryEvent): string {
  return new Date(eventMs(event.eventTime)).toISOString();
}

/** A failure as an admin reads it: `Conflict: Notion refused…`, with its causes. */
function describeError(error: Error): string {
  const own =
    error instanceof ApplicationFailure && error.type ? `${error.type}: ${error.message}` : error.message;
  const cause = error.cause instanceof Error ? describeError(error.cause) : '';
  return cause && !own.includes(cause) ? `${own}: ${cause}` : own;
}

/**
 * Decodes one workflow's payloads as the SDK does (codecs, then the payload or failure converter),
 * with the client's data converter. A payload it cannot decode is counted, not fatal: the log is
 * still worth reading without it.
 */
export class PayloadReader {
  unreadable = 0;

  constructor(
    private readonly converter: LoadedDataConverter,
    private readonly namespace: string,
    private readonly workflowId: string,
  ) {}

  private context(activityId?: string): SerializationContext {
    return activityId === undefined
      ? { type: 'workflow', namespace: this.namespace, workflowId: this.workflowId }
      : {
          type: 'activity',
          namespace: this.namespace,
          workflowId: this.workflowId,
          activityId,
          isLocal: false,
        };
  }

  async value(payload: Payload | null | undefined, activityId?: string): Promise<unknown> {
    if (!payload) return undefined;
    try {
      return (
        (await decodeOptionalSinglePayload(this.converter, payload, this.context(activityId))) ?? undefined
      );
    } catch {
      this.unreadable += 1;
      return undefined;
    }
  }

  async first(payloads: ProtoPayloads | null | undefined, activityId?: string): Promise<unknown> {
    if (!payloads?.payloads?.length) return undefined;
    try {
      return await decodeFromPayloadsAtIndex(this.converter, 0, payloads.payloads, this.context(activityId));
    } catch {
      this.unreadable += 1;
      return undefined;
    }
  }

  async failure(failure: ProtoFailure | null | undefined, activityId?: string): Promise<string | undefined> {
    if (!failure) return undefined;
    try {
      const error = await decodeOptionalFailureToOptionalError(
        this.converter,
        failure,
        this.context(activityId),
      );
      return error ? describeError(error) : undefined;
    } catch {
      this.unreadable += 1;
      return failure.message || 'a failure this command cannot decode';
    }
  }
}

/** The sync requests a run starts with: those a continued run carried over, unsettled (continue-as-new). */
const startedWithView = z.object({ pending: z.array(syncRequestView).optional() });

/** A sync request as one step, whether it came in a signal or with the run's start. */
function syncRequestStep(
  base: { at: string; runId: string; eventId: number },
  request: z.infer<typeof syncRequestView>,
): HistoryStep {
  const detail = syncDetail(request);
  return {
    ...base,
    type: 'signal',
    signal: 'sync',
    // The reason is what; its reconciliation's id goes with the outcome, to keep lines aligned.
    what: `sync request: ${request.reason}`,
    outcome: 'received',
    ...(detail ? { detail } : {}),
    reason: request.reason,
    ...(request.reconcileId ? { reconcileId: request.reconcileId } : {}),
  };
}

/** What a `sync` request carries besides its reason: its reconciliation, a guard's or admin's decision. */
function syncDetail(request: z.infer<typeof syncRequestView>): string | undefined {
  const parts = [
    ...(request.reconcileId ? [`reconciliation ${request.reconcileId}`] : []),
    ...(request.deactivation ? [`deactivation ${request.deactivation}`] : []),
    ...(request.creation ? [`creation ${request.creation}`] : []),
    ...(request.decision ? [`admin decision: ${request.decision}`] : []),
  ];
  return parts.length > 0 ? parts.join(', ') : undefined;
}

/**
 * The steps of one run, in event order. `pending` (the run's pending activities, when it runs)
 * tells how far an unfinished activity is: its attempt and last failure.
 */
export async function runSteps(
  runId: string,
  events: readonly HistoryEvent[],
  reader: PayloadReader,
  pending: readonly PendingActivity[] = [],
): Promise<{ steps: HistoryStep[]; run: Omit<HistoryRun, 'url'> }> {
  const steps: HistoryStep[] = [];
  /** Activity steps by their scheduled event, with the activity id their other events need. */
  const activities = new Map<number, { step: HistoryStep; activityId: string }>();
  const updates = new Map<number, HistoryStep>();
  const run: Omit<HistoryRun, 'url'> = {
    runId,
    startedAt: events[0] ? iso(events[0]) : new Date(0).toISOString(),
    status: 'running',
  };
  const close = (event: HistoryEvent, status: string) => {
    run.status = status;
    run.closedAt = iso(event);
  };
  const activityOf = (scheduledEventId: number | { toNumber(): number } | null | undefined) =>
    activities.get(num(scheduledEventId));

  for (const event of events) {
    const base = { at: iso(event), runId, eventId: num(event.eventId) };
    if (event.workflowExecutionStartedEventAttributes) {
      const { continuedExecutionRunId: previous, input } = event.workflowExecutionStartedEventAttributes;
      const summary = await reader.value(event.userMetadata?.summary);
      if (typeof summary === 'string' && summary) run.summary = summary;
      steps.push({
        ...base,
        type: 'run-started',
        what: previous ? `run continued from ${previous}` : 'workflow started',
        outcome: 'started',
        detail: `run ${runId}`,
      });
      // Only a continued run starts with requests: a first run's input is not read (nor decrypted).
      const startedWith = previous ? startedWithView.safeParse(await reader.first(input)) : undefined;
      for (const request of startedWith?.success ? (startedWith.data.pending ?? []) : [])
        steps.push(syncRequestStep(base, request));
    } else if (event.workflowExecutionSignaledEventAttributes) {
      const { signalName, input } = event.workflowExecutionSignaledEventAttributes;
      const name = signalName ?? 'signal';
      const parsed = name === 'sync' ? syncRequestView.safeParse(await reader.first(input)) : undefined;
      if (parsed?.success) steps.push(syncRequestStep(base, parsed.data));
      else steps.push({ ...base, type: 'signal', signal: name, what: `signal ${name}`, outcome: 'received' });
    } else if (event.workflowExecutionUpdateAcceptedEventAttributes) {
      const name =
        event.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest?.input?.name ?? 'update';
      const step: HistoryStep = {
        ...base,
        type: 'update',
        update: name,
        what: name === 'provision' ? 'provision request (jc-notion provision)' : `update ${name}`,
        outcome: 'accepted',
      };
      updates.set(base.eventId, step);
      steps.push(step);
    } else if (event.workflowExecutionUpdateCompletedEventAttributes) {
      const { acceptedEventId, outcome } = event.workflowExecutionUpdateCompletedEventAttributes;
      const step = updates.get(num(acceptedEventId));
      if (!step) continue;
      step.endedAt = base.at;
      if (outcome?.failure) {
        step.outcome = 'failed';
        step.detail = await reader.failure(outcome.failure);
      } else {
        step.outcome = 'completed';
        const answer = provisionResultView.safeParse(await reader.first(outcome?.success));
        if (answer.success) step.result = answer.data.state.status;
      }
    } else if (event.activityTaskScheduledEventAttributes) {
      const { activityId, activityType } = event.activityTaskScheduledEventAttributes;
      const type = activityType?.name ?? 'activity';
      const summary = await reader.value(event.userMetadata?.summary);
      const described = typeof summary === 'string' && summary.length > 0;
      const step: HistoryStep = {
        ...base,
        type: 'activity',
        activityType: type,
        ...(described ? { summary } : {}),
        what: described ? summary : type,
        outcome: 'scheduled',
      };
      activities.set(base.eventId, { step, activityId: activityId ?? '' });
      steps.push(step);
    } else if (event.activityTaskStartedEventAttributes) {
      // Written when the last attempt ends: its number says how often the activity was retried.
      const { scheduledEventId, attempt, lastFailure } = event.activityTaskStartedEventAttributes;
      const activity = activityOf(scheduledEventId);
      if (!activity) continue;
      const { step } = activity;
      step.attempts = attempt ?? 1;
      if (step.attempts > 1 && lastFailure)
        step.lastFailure = await reader.failure(lastFailure, activity.activityId);
      if (step.outcome === 'scheduled') step.outcome = 'running';
    } else if (event.activityTaskCompletedEventAttributes) {
      const { scheduledEventId, result } = event.activityTaskCompletedEventAttributes;
      const activity = activityOf(scheduledEventId);
      if (!activity) continue;
      const { step } = activity;
      step.outcome = 'completed';
      step.endedAt = base.at;
      const word = activityResultView.safeParse(await reader.first(result, activity.activityId));
      if (word.success) step.result = typeof word.data === 'string' ? word.data : word.data.outcome;
    } else if (event.activityTaskFailedEventAttributes) {
      const { scheduledEventId, failure } = event.activityTaskFailedEventAttributes;
      const activity = activityOf(scheduledEventId);
      if (!activity) continue;
      activity.step.outcome = 'failed';
      activity.step.endedAt = base.at;
      activity.step.detail = await reader.failure(failure, activity.activityId);
    } else if (event.activityTaskTimedOutEventAttributes) {
      const { scheduledEventId, failure } = event.activityTaskTimedOutEventAttributes;
      const activity = activityOf(scheduledEventId);
      if (!activity) continue;
      activity.step.outcome = 'timed-out';
      activity.step.endedAt = base.at;
      activity.step.detail = await reader.failure(failure, activity.activityId);
    } else if (event.activityTaskCanceledEventAttributes) {
      const activity = activityOf(event.activityTaskCanceledEventAttributes.scheduledEventId);
      if (!activity) continue;
      activity.step.outcome = 'canceled';
      activity.step.endedAt = base.at;
    } else if (event.workflowTaskFailedEventAttributes) {
      // A workflow task that fails (a bug, a non-determinism) stalls the entity: worth a line.
      const { failure } = event.workflowTaskFailedEventAttributes;
      steps.push({
        ...base,
        type: 'workflow-task',
        what: 'workflow task',
        outcome: 'failed',
        detail: await reader.failure(failure),
      });
    } else if (event.workflowExecutionContinuedAsNewEventAttributes) {
      const next = event.workflowExecutionContinuedAsNewEventAttributes.newExecutionRunId;
      close(event, 'continued-as-new');
      steps.push({
        ...base,
        type: 'continued-as-new',
        what: 'history long enough: continue as new',
        outcome: 'continued',
        ...(next ? { detail: `in run ${next}` } : {}),
      });
    } else if (event.workflowExecutionTerminatedEventAttributes) {
      const { reason } = event.workflowExecutionTerminatedEventAttributes;
      close(event, 'terminated');
      steps.push({
        ...base,
        type: 'run-closed',
        what: 'workflow terminated',
        outcome: 'terminated',
        ...(reason ? { detail: reason } : {}),
      });
    } else if (event.workflowExecutionCompletedEventAttributes) {
      close(event, 'completed');
      steps.push({ ...base, type: 'run-closed', what: 'workflow completed', outcome: 'completed' });
    } else if (event.workflowExecutionFailedEventAttributes) {
      close(event, 'failed');
      steps.push({
        ...base,
        type: 'run-closed',
        what: 'workflow failed',
        outcome: 'failed',
        detail: await reader.failure(event.workflowExecutionFailedEventAttributes.failure),
      });
    } else if (event.workflowExecutionTimedOutEventAttributes) {
      close(event, 'timed-out');
      steps.push({ ...base, type: 'run-closed', what: 'workflow timed out', outcome: 'timed-out' });
    } else if (event.workflowExecutionCanceledEventAttributes) {
      close(event, 'canceled');
      steps.push({ ...base, type: 'run-closed', what: 'workflow canceled', outcome: 'canceled' });
    }
  }

  const pendingById = new Map(pending.map((activity) => [activity.activityId ?? '', activity]));
  for (const { step, activityId } of activities.values()) {
    if (step.outcome !== 'scheduled' && step.outcome !== 'running') continue;
    if (run.status !== 'running') {
      step.outcome = 'unfinished';
      continue;
    }
    // History records an attempt only when the activity ends; the server knows the current one.
    const now = pendingById.get(activityId);
    if (!now) continue;
    step.attempts = now.attempt ?? step.attempts;
    if (now.lastFailure) step.lastFailure = await reader.failure(now.lastFailure, activityId);
    if ((now.attempt ?? 1) > 1 || now.lastStartedTime) step.outcome = 'running';
  }
  return { steps, run };
}

/** A step's outcome in words: `completed (deactivated)`, `failed: Conflict: …, retried 2 times`. */
export function outcomeText(step: HistoryStep): string {
  const retried =
    step.attempts && step.attempts > 1
      ? `, retried ${step.attempts - 1} time${step.attempts > 2 ? 's' : ''}${step.lastFailure && step.outcome === 'completed' ? ` (last failure: ${step.lastFailure})` : ''}`
      : '';
  switch (step.outcome) {
    case 'completed':
      return `completed${step.result ? ` (${step.result})` : ''}${retried}`;
    case 'failed':
      return `failed${step.detail ? `: ${step.detail}` : ''}${retried}`;
    case 'timed-out':
      return `timed out${step.detail ? `: ${step.detail}` : ''}${retried}`;
    case 'running':
      return `running${step.attempts && step.attempts > 1 ? `, attempt ${step.attempts}` : ''}${step.lastFailure ? ` (last failure: ${step.lastFailure})` : ''}`;
    case 'started':
    case 'received':
      return `${step.outcome}${step.detail ? ` (${step.detail})` : ''}`;
    case 'continued':
      return `continued${step.detail ? ` ${step.detail}` : ''}`;
    case 'terminated':
      return `terminated${step.detail ? `: ${step.detail}` : ''}`;
    case 'unfinished':
      return 'unfinished (the run ended first)';
    default:
      return step.outcome;
  }
}

/** The log as printed: the entity (as `find` shows it), its runs, then one aligned line per step. */
export function historyLines(history: EntityHistory): string[] {
  const { entity, runs, steps } = history;
  const width = Math.min(WHAT_WIDTH, Math.max(0, ...steps.map((step) => step.what.length)));
  return [
    ...entityLines(entity),
    `  ${runs.length} run${runs.length === 1 ? '' : 's'}, ${steps.length} step${steps.length === 1 ? '' : 's'}, oldest first`,
    '',
    ...steps.map((step) => `${step.at}  ${step.what.padEnd(width)}  ${outcomeText(step)}`),
  ];
}

const quote = (value: string) => `"${value.replace(/["\\]/g, '\\$&')}"`;

/** A run's history, or undefined when retention has removed it since visibility listed it. */
async function fetchRun(
  client: Client,
  workflowId: string,
  runId: string,
): Promise<HistoryEvent[] | undefined> {
  try {
    return (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
  } catch (error) {
    if (isGrpcServiceError(error) && Number(error.code) === GRPC_NOT_FOUND) return undefined;
    throw error;
  }
}

/**
 * Every run of the entity's workflow: those visibility lists under its id (every chain, also runs
 * started again after a termination) and, since visibility lags, those the chain of
 * continue-as-new leads back to from the latest run.
 */
async function readRuns(
  client: Client,
  workflowId: string,
  latestRunId: string,
): Promise<{ runId: string; events: HistoryEvent[] }[]> {
  const queue = [latestRunId];
  for await (const execution of client.workflow.list({ query: `WorkflowId = ${quote(workflowId)}` }))
    queue.push(execution.runId);
  const runs = new Map<string, HistoryEvent[]>();
  const gone = new Set<string>();
  for (let runId = queue.shift(); runId !== undefined; runId = queue.shift()) {
    if (runs.has(runId) || gone.has(runId)) continue;
    const events = await fetchRun(client, workflowId, runId);
    if (!events) {
      gone.add(runId);
      continue;
    }
    runs.set(runId, events);
    const previous = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    if (previous) queue.push(previous);
  }
  const start = (events: HistoryEvent[]) => eventMs(events[0]?.eventTime);
  return [...runs.entries()]
    .map(([runId, events]) => ({ runId, events }))
    .sort((a, b) => start(a.events) - start(b.events));
}

/** The provisioning log of one entity found by `find` (SPEC §8). */
export async function entityHistory(
  client: Client,
  config: Config,
  entity: FoundEntity,
): Promise<EntityHistory> {
  const reader = new PayloadReader(
    client.options.loadedDataConverter,
    config.temporal.namespace,
    entity.workflowId,
  );
  const runs: HistoryRun[] = [];
  const steps: HistoryStep[] = [];
  for (const { runId, events } of await readRuns(client, entity.workflowId, entity.runId)) {
    const running = !events.some((event) => isCloseEvent(event));
    const pending = running
      ? ((await client.workflow.getHandle(entity.workflowId, runId).describe()).raw.pendingActivities ?? [])
      : [];
    const result = await runSteps(runId, events, reader, pending);
    runs.push({ ...result.run, url: workflowUrl(config, entity.workflowId, runId) });
    steps.push(...result.steps);
  }
  return { entity, runs, steps, unreadablePayloads: reader.unreadable };
}

function isCloseEvent(event: HistoryEvent): boolean {
  return Boolean(
    event.workflowExecutionCompletedEventAttributes ??
    event.workflowExecutionFailedEventAttributes ??
    event.workflowExecutionTimedOutEventAttributes ??
    event.workflowExecutionCanceledEventAttributes ??
    event.workflowExecutionTerminatedEventAttributes ??
    event.workflowExecutionContinuedAsNewEventAttributes,
  );
}

/** The one entity a term names; several is an error that lists them (the JumpCloud id settles it). */
export function single(config: Config, term: string, found: FoundEntity[]): FoundEntity {
  if (found.length === 0) throw noMatch(config, term);
  if (found.length === 1) return found[0]!;
  const listed = found.map((entity) => `${who(entity)} (JumpCloud ${entity.jumpcloudId ?? '?'})`).join('; ');
  throw new CliError(
    `"${term}" matches ${found.length} users and groups of connector "${config.connectorId}": ${listed}. Pass the JumpCloud id of the one you mean: jc-notion history <JumpCloud id>`,
  );
}

export async function historyCommand(term: string, options: OutputOptions): Promise<void> {
  const config = loadConfig('client');
  const client = await connectClient(config);
  try {
    const entity = single(config, term, await findEntities(client, config, term));
    const history = await entityHistory(client, config, entity);
    if (history.unreadablePayloads > 0)
      printError(
        `warning: ${history.unreadablePayloads} payload(s) could not be decoded (encrypted with a key not in PAYLOAD_ENCRYPTION_KEYS?): activity types are shown instead of their summaries`,
      );
    if (options.json) return printJson({ term, connectorId: config.connectorId, ...history });
    printLines(historyLines(history));
  } finally {
    await client.connection.close();
  }
}
