/**
 * Issue 19: how `jc-notion history` reads a workflow history into steps and prints them, on
 * hand-made events encoded as the workers encode them (encrypted, issue 16): summaries shown when
 * the workflow gave them, the activity type otherwise; retries, failures, pending attempts, runs
 * that continue as new or are terminated; payloads it cannot decrypt are counted, not fatal.
 */
import { randomBytes } from 'node:crypto';
import { ApplicationFailure, type LoadedDataConverter } from '@temporalio/common';
import {
  encodeErrorToFailure,
  encodeToPayload,
  encodeToPayloads,
  loadDataConverter,
} from '@temporalio/common/lib/internal-non-workflow';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import {
  historyLines,
  outcomeText,
  PayloadReader,
  runSteps,
  single,
  type HistoryStep,
} from '../../client/commands/history';
import type { FoundEntity } from '../../client/commands/find';
import { ENCRYPTED_FAILURE_CONVERTER_PATH } from '../../temporal/data-converter';
import { EncryptionCodec } from '../../temporal/encryption-codec';
import { testWorkerConfig } from '../support/config';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const encrypted = (id = 'k1', key = randomBytes(32)): LoadedDataConverter =>
  loadDataConverter({
    payloadCodecs: [new EncryptionCodec([{ id, key }])],
    failureConverterPath: ENCRYPTED_FAILURE_CONVERTER_PATH,
  });
const converter = encrypted();
const T0 = Date.parse('2026-03-02T09:00:00.000Z');

/** Events numbered from 1, one second apart, built as protobuf messages (ids as Longs) like fetched ones. */
function events(...list: Record<string, unknown>[]): HistoryEvent[] {
  return list.map((event, i) =>
    temporal.api.history.v1.HistoryEvent.fromObject({
      eventId: i + 1,
      eventTime: msToTs(T0 + i * 1000),
      ...event,
    }),
  );
}
const at = (i: number) => new Date(T0 + (i - 1) * 1000).toISOString();
const payloads = async (...values: unknown[]) => ({ payloads: await encodeToPayloads(converter, ...values) });
const summary = async (text: string) => ({ summary: await encodeToPayload(converter, text) });
const failure = (error: Error) => encodeErrorToFailure(converter, error);
const reader = () => new PayloadReader(converter, 'default', 'jcn/default/user/abc');

test('issue 19: the requests, each activity (summary or type) and its outcome, in order, with retries and pending attempts', async () => {
  const history = events(
    {
      workflowExecutionStartedEventAttributes: {},
      userMetadata: await summary('User kate@example.com (Kate Lee)'),
    },
    {
      workflowExecutionSignaledEventAttributes: {
        signalName: 'sync',
        input: await payloads({
          reason: 'reconcile',
          reconcileId: 'r-1',
          creation: 'granted',
          observed: { jumpcloud: { email: 'kate@example.com' } },
        }),
      },
    },
    {
      activityTaskScheduledEventAttributes: { activityId: '1', activityType: { name: 'notionCreateUser' } },
      userMetadata: await summary('create kate@example.com in Notion'),
    },
    {
      activityTaskStartedEventAttributes: {
        scheduledEventId: 3,
        attempt: 3,
        lastFailure: await failure(ApplicationFailure.retryable('Notion answered 503', 'ServerError')),
      },
    },
    {
      activityTaskCompletedEventAttributes: {
        scheduledEventId: 3,
        result: await payloads({ outcome: 'created', user: { id: 'n-1', userName: 'kate@example.com' } }),
      },
    },
    // No summary (a workflow from before issue 19): its type says what it was.
    { activityTaskScheduledEventAttributes: { activityId: '2', activityType: { name: 'notionUpdateUser' } } },
    { activityTaskStartedEventAttributes: { scheduledEventId: 6, attempt: 1 } },
    {
      activityTaskFailedEventAttributes: {
        scheduledEventId: 6,
        failure: await failure(
          ApplicationFailure.nonRetryable('the domain is not verified', 'UnverifiedDomain'),
        ),
      },
    },
    {
      workflowExecutionUpdateAcceptedEventAttributes: { acceptedRequest: { input: { name: 'provision' } } },
    },
    {
      activityTaskScheduledEventAttributes: { activityId: '3', activityType: { name: 'jumpcloudGetUser' } },
      userMetadata: await summary('read kate@example.com from JumpCloud'),
    },
  );
  const pending = [
    {
      activityId: '3',
      attempt: 4,
      lastStartedTime: msToTs(T0),
      lastFailure: await failure(ApplicationFailure.retryable('JumpCloud answered 500', 'ServerError')),
    },
  ];
  const { steps, run } = await runSteps('run-1', history, reader(), pending);
  expect(run).toEqual({
    runId: 'run-1',
    startedAt: at(1),
    status: 'running',
    summary: 'User kate@example.com (Kate Lee)',
  });
  expect(steps).toEqual([
    {
      at: at(1),
      runId: 'run-1',
      eventId: 1,
      type: 'run-started',
      what: 'workflow started',
      outcome: 'started',
      detail: 'run run-1',
    },
    {
      at: at(2),
      runId: 'run-1',
      eventId: 2,
      type: 'signal',
      signal: 'sync',
      what: 'sync request: reconcile',
      outcome: 'received',
      detail: 'reconciliation r-1, creation granted',
      reason: 'reconcile',
      reconcileId: 'r-1',
    },
    {
      at: at(3),
      runId: 'run-1',
      eventId: 3,
      type: 'activity',
      activityType: 'notionCreateUser',
      summary: 'create kate@example.com in Notion',
      what: 'create kate@example.com in Notion',
      outcome: 'completed',
      attempts: 3,
      lastFailure: 'ServerError: Notion answered 503',
      endedAt: at(5),
      result: 'created',
    },
    {
      at: at(6),
      runId: 'run-1',
      eventId: 6,
      type: 'activity',
      activityType: 'notionUpdateUser',
      what: 'notionUpdateUser',
      outcome: 'failed',
      attempts: 1,
      endedAt: at(8),
      detail: 'UnverifiedDomain: the domain is not verified',
    },
    {
      at: at(9),
      runId: 'run-1',
      eventId: 9,
      type: 'update',
      update: 'provision',
      what: 'provision request (jc-notion provision)',
      outcome: 'accepted',
    },
    {
      at: at(10),
      runId: 'run-1',
      eventId: 10,
      type: 'activity',
      activityType: 'jumpcloudGetUser',
      summary: 'read kate@example.com from JumpCloud',
      what: 'read kate@example.com from JumpCloud',
      outcome: 'running',
      attempts: 4,
      lastFailure: 'ServerError: JumpCloud answered 500',
    },
  ]);
  // Nothing of the request but its reason and reconciliation: observed facts stay out of the log.
  expect(JSON.stringify(steps)).not.toContain('observed');

  expect(steps.map(outcomeText)).toEqual([
    'started (run run-1)',
    'received (reconciliation r-1, creation granted)',
    'completed (created), retried 2 times (last failure: ServerError: Notion answered 503)',
    'failed: UnverifiedDomain: the domain is not verified',
    'accepted',
    'running, attempt 4 (last failure: ServerError: JumpCloud answered 500)',
  ]);
});

test('issue 19: runs that continue as new or are terminated; an Update that completes; a payload without its key', async () => {
  const other = encrypted('old');
  const first = events(
    { workflowExecutionStartedEventAttributes: {} },
    {
      workflowExecutionSignaledEventAttributes: {
        signalName: 'sync',
        // Written under a key this command does not have.
        input: { payloads: await encodeToPayloads(other, { reason: 'event user_update 7' }) },
      },
    },
    {
      activityTaskScheduledEventAttributes: {
        activityId: '1',
        activityType: { name: 'notionDeactivateUser' },
      },
      userMetadata: { summary: await encodeToPayload(other, 'deactivate kate@example.com in Notion') },
    },
    { activityTaskStartedEventAttributes: { scheduledEventId: 3, attempt: 1 } },
    {
      activityTaskCompletedEventAttributes: { scheduledEventId: 3, result: await payloads('deactivated') },
    },
    { workflowExecutionContinuedAsNewEventAttributes: { newExecutionRunId: 'run-2' } },
  );
  const read = reader();
  const one = await runSteps('run-1', first, read);
  expect(one.run).toMatchObject({ status: 'continued-as-new', closedAt: at(6) });
  expect(one.steps.map((step) => [step.what, outcomeText(step)])).toEqual([
    ['workflow started', 'started (run run-1)'],
    ['signal sync', 'received'],
    ['notionDeactivateUser', 'completed (deactivated)'],
    ['history long enough: continue as new', 'continued in run run-2'],
  ]);
  expect(read.unreadable).toBe(2);

  const second = events(
    { workflowExecutionStartedEventAttributes: { continuedExecutionRunId: 'run-1' } },
    { workflowExecutionUpdateAcceptedEventAttributes: { acceptedRequest: { input: { name: 'provision' } } } },
    { activityTaskScheduledEventAttributes: { activityId: '1', activityType: { name: 'jumpcloudGetUser' } } },
    {
      workflowExecutionUpdateCompletedEventAttributes: {
        acceptedEventId: 2,
        outcome: { success: await payloads({ steps: [], state: { status: 'in-sync', linked: true } }) },
      },
    },
    { workflowExecutionTerminatedEventAttributes: { reason: 'stuck: restarted by an admin' } },
  );
  const two = await runSteps('run-2', second, reader());
  expect(two.run).toMatchObject({ status: 'terminated', closedAt: at(5) });
  expect(two.steps.map((step) => [step.what, outcomeText(step)])).toEqual([
    ['run continued from run-1', 'started (run run-2)'],
    ['provision request (jc-notion provision)', 'completed (in-sync)'],
    ['jumpcloudGetUser', 'unfinished (the run ended first)'],
    ['workflow terminated', 'terminated: stuck: restarted by an admin'],
  ]);
});

const entity = (over: Partial<FoundEntity> = {}): FoundEntity => ({
  kind: 'user',
  jumpcloudId: '6b150028e3a1c0ffee000001',
  username: 'kate',
  email: 'kate@example.com',
  syncState: 'in-sync',
  notionId: 'n-1',
  running: true,
  workflowId: 'jcn/default/user/6b150028e3a1c0ffee000001',
  runId: 'run-1',
  url: 'http://localhost:8233/namespaces/default/workflows/x/run-1/history',
  ...over,
});

test("issue 19: the requests a run starts with (a continued run's, carried over unsettled) follow its start, as a signal's would", async () => {
  const history = events(
    {
      workflowExecutionStartedEventAttributes: {
        continuedExecutionRunId: 'run-0',
        input: await payloads({
          connectorId: 'c',
          jumpcloudUserId: 'abc',
          pending: [
            {
              reason: 'reconcile',
              reconcileId: 'r-1',
              creation: 'granted',
              observed: { jumpcloud: { email: 'k@x.io' } },
            },
            { reason: 'user_update' },
          ],
        }),
      },
    },
    {
      activityTaskScheduledEventAttributes: { activityId: '1', activityType: { name: 'notionCreateUser' } },
      userMetadata: await summary('create kate@example.com in Notion'),
    },
  );
  const { steps } = await runSteps('run-1', history, reader());
  expect(steps.map((step) => [step.eventId, step.type, step.what, step.detail])).toEqual([
    [1, 'run-started', 'run continued from run-0', 'run run-1'],
    [1, 'signal', 'sync request: reconcile', 'reconciliation r-1, creation granted'],
    [1, 'signal', 'sync request: user_update', undefined],
    [2, 'activity', 'create kate@example.com in Notion', undefined],
  ]);
  expect(steps[1]).toMatchObject({ reason: 'reconcile', reconcileId: 'r-1', outcome: 'received' });
  // Nothing personal from the request is shown: only its reason and the decisions behind it.
  expect(JSON.stringify(steps)).not.toContain('k@x.io');
});

test('issue 19: the printed log: the entity as `find` shows it, then one aligned line per step', () => {
  const step = (
    what: string,
    outcome: HistoryStep['outcome'],
    extra: Partial<HistoryStep> = {},
  ): HistoryStep => ({
    at: at(1),
    runId: 'run-1',
    eventId: 1,
    type: 'activity',
    what,
    outcome,
    ...extra,
  });
  const lines = historyLines({
    entity: entity(),
    runs: [{ runId: 'run-1', startedAt: at(1), status: 'running', url: '' }],
    steps: [
      step('sync request: reconcile', 'received', { detail: 'reconciliation r-1' }),
      step('create kate@example.com in Notion', 'completed', { result: 'created' }),
      step('notionUpdateUser', 'timed-out', { detail: 'activity StartToClose timeout', attempts: 2 }),
    ],
    unreadablePayloads: 0,
  });
  expect(lines).toEqual([
    'user kate <kate@example.com> (JumpCloud 6b150028e3a1c0ffee000001): in-sync, Notion n-1',
    '  workflow jcn/default/user/6b150028e3a1c0ffee000001',
    '  http://localhost:8233/namespaces/default/workflows/x/run-1/history',
    '  1 run, 3 steps, oldest first',
    '',
    `${at(1)}  sync request: reconcile            received (reconciliation r-1)`,
    `${at(1)}  create kate@example.com in Notion  completed (created)`,
    `${at(1)}  notionUpdateUser                   timed out: activity StartToClose timeout, retried 1 time`,
  ]);
});

test('issue 19: a term that names several entities is refused with the list and how to name one', () => {
  const config = testWorkerConfig({ CONNECTOR_ID: 'acme' });
  const group = entity({ kind: 'group', jumpcloudId: '6b150028e3a1c0ffee000009', name: 'support' });
  const user = entity({ username: 'support', email: 'support@example.com' });
  expect(single(config, 'support', [user])).toBe(user);
  expect(() => single(config, 'support', [user, group])).toThrow(
    '"support" matches 2 users and groups of connector "acme": user support <support@example.com> (JumpCloud 6b150028e3a1c0ffee000001); group "support" (JumpCloud 6b150028e3a1c0ffee000009). Pass the JumpCloud id of the one you mean: jc-notion history <JumpCloud id>',
  );
  expect(() => single(config, 'nobody', [])).toThrow(/no user or group of connector "acme" matches "nobody"/);
});
