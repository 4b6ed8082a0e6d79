/**
 * Workflow tests with mocked activities, for the timers and guards that end-to-end stories cannot
 * afford to wait for: G7's retry of a refused group deletion, C6's rolling hour, C3's credential
 * probes, and continue-as-new with requests pending. They run the real workflow code on a real
 * dev server; the waits are shortened through each workflow's test hooks (retryDelayMs,
 * deactivationWindowMs, the reported probe interval, maxHistoryEvents). Temporal's time-skipping
 * test server would let them use the real hour, but it is downloaded at run time from
 * temporal.download, which this project's machines cannot reach (docs/adr/0007).
 */
import { activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import {
  credentialsRejectedSignal,
  requestDeactivationUpdate,
  reserveDeactivationsUpdate,
  startSyncUpdate,
  statusQuery,
  type ConnectorStatus,
} from '../../contracts/connector';
import { groupStateQuery, syncGroupSignal } from '../../contracts/group';
import { syncUserSignal, userStateQuery } from '../../contracts/user';
import { reconcileIdOf, workflowIds } from '../../temporal/ids';
import { taskQueues } from '../../temporal/task-queues';
import { startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../support/temporal';

type Mock = (...args: never[]) => Promise<unknown>;
interface Mocks {
  main?: Record<string, Mock>;
  notion?: Record<string, Mock>;
  jumpcloud?: Record<string, Mock>;
}

let temporal: TestTemporal;
const running: { worker: Worker; done: Promise<void> }[] = [];

beforeAll(async () => {
  temporal = await startTestTemporal();
});

afterAll(async () => {
  for (const { worker } of running) worker.shutdown();
  await Promise.all(running.map((r) => r.done));
  await temporal?.stop();
});

/** Workers on a fresh task queue (and its Notion and JumpCloud queues) with these activities only. */
async function mockedWorkers(mocks: Mocks): Promise<string> {
  const queue = uniqueTaskQueue('timers');
  const queues = taskQueues(queue);
  const common = { connection: temporal.nativeConnection, namespace: temporal.namespace };
  const start = (worker: Worker) => running.push({ worker, done: worker.run() });
  start(
    await Worker.create({
      ...common,
      taskQueue: queues.main,
      workflowBundle: await temporal.workflowBundle(),
      activities: mocks.main ?? {},
    }),
  );
  // A worker needs something to poll for: the API queues get one only when mocked.
  if (mocks.notion)
    start(await Worker.create({ ...common, taskQueue: queues.notion, activities: mocks.notion }));
  if (mocks.jumpcloud)
    start(await Worker.create({ ...common, taskQueue: queues.jumpcloud, activities: mocks.jumpcloud }));
  return queue;
}

/** Polls until `check` returns a value; the deadline is generous (busy machines), never a timing assertion. */
async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const GROUP_ID = '5f1b2c3d4e5f607182930a1b';
const USER_ID = '63edd09913c2339d0b98a1ec';

test('G7: a refused group deletion is tried again after the retry delay, with no new request', async () => {
  let deletes = 0;
  const queue = await mockedWorkers({
    main: { requestGroupChange: () => Promise.resolve('granted') },
    jumpcloud: { jumpcloudGetGroup: () => Promise.resolve(null) }, // deleted in JumpCloud
    notion: {
      notionGetGroup: () => Promise.resolve({ id: 'ng-1', displayName: 'Temp', memberIds: [] }),
      notionDeleteGroup: () => {
        deletes += 1;
        if (deletes === 1)
          throw ApplicationFailure.nonRetryable(
            'pages would lose their last full-access owner',
            'GroupDeletionRefused',
          );
        return Promise.resolve('deleted');
      },
    },
  });
  const handle = await temporal.client.workflow.start('groupWorkflow', {
    taskQueue: queue,
    workflowId: `timers/group/${queue}`,
    args: [
      {
        connectorId: 'timers',
        jumpcloudGroupId: GROUP_ID,
        state: { status: 'in-sync', notionId: 'ng-1', name: 'Temp', lastMemberIds: [] },
        // JumpCloud's group_delete event: the 404 needs no second read.
        pending: [{ reason: 'event group_delete', groupManagement: true, deletedEvent: true }],
        retryDelayMs: 2_000,
      },
    ],
  });
  const refused = await waitFor('the refusal', async () => {
    const state = await handle.query(groupStateQuery);
    return state.status === 'deletion-refused' ? state : undefined;
  });
  expect(refused.problem?.code).toBe('GroupDeletionRefused');
  const deleted = await waitFor('the retried deletion', async () => {
    const state = await handle.query(groupStateQuery);
    return state.status === 'deleted' ? state : undefined;
  });
  expect(deletes).toBe(2);
  expect(deleted.problem).toBeUndefined();
  expect(deleted.notionId).toBeUndefined();
  await handle.terminate('test over');
});

test('G7 (issue 14): a 404 is read again after the confirmation delay, with no new request: found, nothing is deleted; still missing, the group is deleted', async () => {
  let reads = 0;
  let answer: 'once' | 'always' = 'once';
  let deletes = 0;
  const queue = await mockedWorkers({
    main: { requestGroupChange: () => Promise.resolve('granted') },
    jumpcloud: {
      jumpcloudGetGroup: () => {
        reads += 1;
        const missing = answer === 'always' || reads === 1;
        return Promise.resolve(missing ? null : { id: GROUP_ID, name: 'Temp' });
      },
      jumpcloudAppBindings: () => Promise.resolve([GROUP_ID]),
      jumpcloudGroupMemberIds: () => Promise.resolve([]),
    },
    notion: {
      notionGetGroup: () => Promise.resolve({ id: 'ng-2', displayName: 'Temp', memberIds: [] }),
      notionDeleteGroup: () => {
        deletes += 1;
        return Promise.resolve('deleted');
      },
    },
  });
  const handle = await temporal.client.workflow.start('groupWorkflow', {
    taskQueue: queue,
    workflowId: `timers/group-missing/${queue}`,
    args: [
      {
        connectorId: 'timers',
        jumpcloudGroupId: GROUP_ID,
        state: { status: 'in-sync', notionId: 'ng-2', name: 'Temp', lastMemberIds: [] },
        pending: [{ reason: 'reconcile', groupManagement: true, deletionConfirmMs: 2_000 }],
      },
    ],
  });
  const missing = await waitFor('the 404 recorded as missing', async () => {
    const state = await handle.query(groupStateQuery);
    return state.status === 'missing' ? state : undefined;
  });
  expect(missing.problem?.code).toBe('GroupMissing');
  expect(deletes).toBe(0);
  // Read again by itself after the delay: found, in sync, nothing deleted.
  await waitFor('the group found again', async () => {
    const state = await handle.query(groupStateQuery);
    return state.status === 'in-sync' && !state.missingSince ? state : undefined;
  });
  expect(reads).toBe(2);
  expect(deletes).toBe(0);

  // Now JumpCloud keeps answering 404: deleted once it has lasted the delay, and only then.
  answer = 'always';
  await handle.signal(syncGroupSignal, {
    reason: 'reconcile',
    groupManagement: true,
    deletionConfirmMs: 2_000,
  });
  await waitFor('missing again', async () => {
    const state = await handle.query(groupStateQuery);
    return state.status === 'missing' ? state : undefined;
  });
  expect(deletes).toBe(0);
  const deleted = await waitFor('the confirmed deletion', async () => {
    const state = await handle.query(groupStateQuery);
    return state.status === 'deleted' ? state : undefined;
  });
  expect(deletes).toBe(1);
  expect(deleted.notionId).toBeUndefined();
  await handle.terminate('test over');
});

/** An activated connector with no feed, schedule or reconciliation of its own (mocked). */
function activatedConnector(connectorId: string): ConnectorStatus {
  return { connectorId, activated: true, groupManagement: false };
}

test('C6: the rolling window lets deactivations through again once earlier grants have left it', async () => {
  const mails: string[] = [];
  const queue = await mockedWorkers({
    main: {
      sendNotification: (alert: { subject: string }) => {
        mails.push(alert.subject);
        return Promise.resolve({ sent: true, to: ['admin@example.com'] });
      },
    },
  });
  const windowMs = 4_000;
  const handle = await temporal.client.workflow.start('connectorWorkflow', {
    taskQueue: queue,
    workflowId: `timers/connector-c6/${queue}`,
    args: [
      { connectorId: 'timers-c6', state: activatedConnector('timers-c6'), deactivationWindowMs: windowMs },
    ],
  });
  const ask = (n: number) =>
    handle.executeUpdate(requestDeactivationUpdate, { args: [{ jumpcloudUserId: `u${n}`, threshold: 2 }] });
  expect(await ask(1)).toBe('granted');
  expect(await ask(2)).toBe('granted');
  const grantedAt = Date.now();
  expect(await ask(3)).toBe('held');
  // A reconciliation's reservation counts against the same window.
  expect(
    await handle.executeUpdate(reserveDeactivationsUpdate, {
      args: [{ reconcileId: 'r1', count: 1, threshold: 2 }],
    }),
  ).toBe('held');
  const status = await handle.query(statusQuery);
  expect(status.approval).toMatchObject({ held: 2, reason: expect.stringContaining('in one hour') });
  // The admin is mailed once about the held deactivations (after a short delay that gathers a batch).
  await waitFor('the approval alert', () => Promise.resolve(mails.length > 0 ? true : undefined));
  expect(mails).toEqual(['2 deactivation(s) await approval']);

  // Once the window has passed since the grants, the guard lets deactivations through again.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, grantedAt + windowMs + 500 - Date.now())));
  expect(await ask(4)).toBe('granted');
  const after = await handle.query(statusQuery);
  expect(after.deactivationGuard?.ledger.map((e) => e.count)).toEqual([1]);
  await handle.terminate('test over');
});

test('C3: rejected credentials are probed every interval until they work, then the connector recovers and catches up', async () => {
  let probes = 0;
  const mails: string[] = [];
  const queue = await mockedWorkers({
    main: {
      sendNotification: (alert: { subject: string }) => {
        mails.push(alert.subject);
        return Promise.resolve({ sent: true, to: ['admin@example.com'] });
      },
    },
    notion: {
      notionVerifyCredentials: () => {
        probes += 1;
        if (probes <= 2) throw ApplicationFailure.nonRetryable('HTTP 401 from Notion', 'CredentialsRejected');
        return Promise.resolve({ ok: true });
      },
    },
  });
  const connectorId = 'timers-c3';
  const handle = await temporal.client.workflow.start('connectorWorkflow', {
    taskQueue: queue,
    workflowId: `timers/connector-c3/${queue}`,
    args: [{ connectorId, state: activatedConnector(connectorId) }],
  });
  await handle.signal(credentialsRejectedSignal, {
    service: 'notion',
    since: new Date().toISOString(),
    detail: 'HTTP 401',
    probeIntervalMs: 1_000,
  });
  // The recovery is recorded before the catch-up reconciliation has started (one workflow task
  // apart, which takes seconds on a busy machine): wait for both.
  const recovered = await waitFor('the recovery and its catch-up reconciliation', async () => {
    const status = await handle.query(statusQuery);
    return status.credentials?.state === 'ok' && status.runningReconcile ? status : undefined;
  });
  expect(probes).toBe(3);
  expect(recovered.credentials).toMatchObject({ rejected: [], recoveredAt: expect.any(String) });
  // C3: a catch-up reconciliation started (its activities are not mocked here: stop it).
  expect(recovered.runningReconcile).toMatch(new RegExp(`^jcn/${connectorId}/reconcile/`));
  await temporal.client.workflow.getHandle(recovered.runningReconcile!).terminate('test over');
  await waitFor('both alerts', () => Promise.resolve(mails.length >= 2 ? true : undefined));
  expect(mails).toEqual(['credentials rejected: Notion SCIM token', 'credentials accepted again']);
  // Recovered: no more probes.
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  expect(probes).toBe(3);
  await handle.terminate('test over');
});

test('SPEC §7: a user workflow continues as new with the requests that arrived meanwhile, and loses none', async () => {
  let reads = 0;
  let release!: () => void;
  const blocked = new Promise<void>((resolve) => (release = resolve));
  const queue = await mockedWorkers({
    jumpcloud: {
      // The user is gone from JumpCloud and was never linked: each sync is one read, then "out of scope".
      jumpcloudGetUser: async () => {
        reads += 1;
        if (reads === 1) await blocked;
        return null;
      },
    },
  });
  const handle = await temporal.client.workflow.start('userWorkflow', {
    taskQueue: queue,
    workflowId: `timers/user/${queue}`,
    args: [
      {
        connectorId: 'timers',
        jumpcloudUserId: USER_ID,
        policy: { usernameSource: 'email', protectedUsers: [] },
        pending: [{ reason: 'first', reconcileId: 'r0' }],
        maxHistoryEvents: 10,
      },
    ],
  });
  const firstRunId = (await handle.describe()).runId;
  await waitFor('the first read', () => Promise.resolve(reads === 1 ? true : undefined));
  // While the first sync waits on JumpCloud, more requests arrive.
  for (let n = 1; n <= 5; n++)
    await handle.signal(syncUserSignal, { reason: `hint ${n}`, reconcileId: `r${n}` });
  release();
  const final = await waitFor('the requests to converge in the next run', async () => {
    const description = await handle.describe();
    if (description.runId === firstRunId) return undefined;
    const state = await handle.query(userStateQuery);
    return state.lastReconcileId === 'r5' ? state : undefined;
  });
  expect(final.status).toBe('out-of-scope');
  // The five requests that arrived together converged once, after continue-as-new.
  expect(reads).toBe(2);
  const first = temporal.client.workflow.getHandle(handle.workflowId, firstRunId);
  const firstRun = await first.describe();
  expect(firstRun.status.name).toBe('CONTINUED_AS_NEW');
  await handle.terminate('test over');
});

test('U6/C6: an approved deactivation that the worker finds protected leaves the member, status protected', async () => {
  const deactivations: string[] = [];
  const queue = await mockedWorkers({
    jumpcloud: {
      // Still in JumpCloud, but no longer bound: out of scope.
      jumpcloudGetUser: () =>
        Promise.resolve({ id: USER_ID, username: 'kept', email: 'kept@example.com', state: 'ACTIVATED' }),
      jumpcloudUserGroupIds: () => Promise.resolve([]),
      jumpcloudAppBindings: () => Promise.resolve([]),
    },
    notion: {
      notionGetUser: () => Promise.resolve({ id: 'n-kept', userName: 'kept@example.com', active: true }),
      // The worker's NOTION_PROTECTED_USERS now names this member (the workflow's policy does not).
      notionDeactivateUser: (id: string) => {
        deactivations.push(id);
        return Promise.resolve('protected');
      },
    },
  });
  const handle = await temporal.client.workflow.start('userWorkflow', {
    taskQueue: queue,
    workflowId: `timers/user-u11/${queue}`,
    args: [
      {
        connectorId: 'timers',
        jumpcloudUserId: USER_ID,
        policy: { usernameSource: 'email', protectedUsers: [] },
        state: {
          linked: true,
          notionId: 'n-kept',
          status: 'held',
          held: { reason: 'unbound', since: '2026-12-02T10:00:00Z' },
          deletedInJumpCloud: false,
        },
        pending: [{ reason: 'deactivation approved', deactivation: 'approved' }],
      },
    ],
  });
  const state = await waitFor('the approved request', async () => {
    const current = await handle.query(userStateQuery);
    return current.status !== 'held' ? current : undefined;
  });
  expect(deactivations).toEqual(['n-kept']);
  expect(state.status).toBe('protected');
  expect(state.held).toBeUndefined();
  await handle.terminate('test over');
});

test('issue 14: a deactivation planned on a reconciliation’s listing is planned again on a fresh read by id: still bound, nobody is deactivated', async () => {
  const deactivations: string[] = [];
  let userReads = 0;
  const queue = await mockedWorkers({
    jumpcloud: {
      // Read by id now: active, and bound through its group (the listing had missed it).
      jumpcloudGetUser: () => {
        userReads += 1;
        return Promise.resolve({
          id: USER_ID,
          username: 'stays',
          email: 'stays@example.com',
          state: 'ACTIVATED',
        });
      },
      jumpcloudUserGroupIds: () => Promise.resolve([GROUP_ID]),
      jumpcloudAppBindings: (targets: string) => Promise.resolve(targets === 'user_group' ? [GROUP_ID] : []),
    },
    notion: {
      notionGetUser: () => Promise.resolve({ id: 'n-stays', userName: 'stays@example.com', active: true }),
      notionDeactivateUser: (id: string) => {
        deactivations.push(id);
        return Promise.resolve('deactivated');
      },
    },
  });
  const handle = await temporal.client.workflow.start('userWorkflow', {
    taskQueue: queue,
    workflowId: `timers/user-confirm/${queue}`,
    args: [
      {
        connectorId: 'timers',
        jumpcloudUserId: USER_ID,
        policy: { usernameSource: 'email', protectedUsers: [] },
        state: { linked: true, notionId: 'n-stays', status: 'in-sync', deletedInJumpCloud: false },
        // What a reconciliation's listing showed: the user missing from the application's users.
        pending: [
          {
            reason: 'reconcile',
            reconcileId: 'r-confirm',
            deactivation: 'granted',
            observed: {
              jumpcloud: { id: USER_ID, username: 'stays', email: 'stays@example.com', state: 'ACTIVATED' },
              bound: false,
              notion: { id: 'n-stays', userName: 'stays@example.com', active: true },
            },
          },
        ],
      },
    ],
  });
  const state = await waitFor('the reconciliation’s request', async () => {
    const current = await handle.query(userStateQuery);
    return current.lastReconcileId === 'r-confirm' ? current : undefined;
  });
  expect(userReads).toBe(1);
  expect(deactivations).toEqual([]);
  expect(state.status).toBe('in-sync');
  await handle.terminate('test over');
});

test('C6 (issue 14): a group deletion the guard holds waits, deleting nothing, until an admin approves it', async () => {
  let deletes = 0;
  const queue = await mockedWorkers({
    main: { requestGroupChange: () => Promise.resolve('held') },
    jumpcloud: { jumpcloudGetGroup: () => Promise.resolve(null) },
    notion: {
      notionGetGroup: () => Promise.resolve({ id: 'ng-3', displayName: 'Temp', memberIds: [] }),
      notionDeleteGroup: () => {
        deletes += 1;
        return Promise.resolve('deleted');
      },
    },
  });
  const handle = await temporal.client.workflow.start('groupWorkflow', {
    taskQueue: queue,
    workflowId: `timers/group-held/${queue}`,
    args: [
      {
        connectorId: 'timers',
        jumpcloudGroupId: GROUP_ID,
        state: { status: 'in-sync', notionId: 'ng-3', name: 'Temp', lastMemberIds: [] },
        pending: [{ reason: 'event group_delete', groupManagement: true, deletedEvent: true }],
      },
    ],
  });
  const held = await waitFor('the hold', async () => {
    const state = await handle.query(groupStateQuery);
    return state.status === 'held' ? state : undefined;
  });
  expect(held.held?.change).toBe('delete');
  expect(held.problem?.message).toMatch(/deletion in Notion is held .*awaiting `jc-notion approve`/);
  // A later request does not release it: held stays held until an admin decides.
  await handle.signal(syncGroupSignal, {
    reason: 'event group_delete',
    groupManagement: true,
    deletedEvent: true,
  });
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect(deletes).toBe(0);
  await handle.signal(syncGroupSignal, {
    reason: 'held change approved',
    groupManagement: true,
    decision: 'approved',
  });
  await waitFor('the approved deletion', async () => {
    const state = await handle.query(groupStateQuery);
    return state.status === 'deleted' ? state : undefined;
  });
  expect(deletes).toBe(1);
  await handle.terminate('test over');
});

test('C5 / G9 (issue 17): a retried reconcileUsers attempt waits for the users it signalled itself, not for those an earlier attempt signalled; its report counts both (issue 15)', async () => {
  // The activity's contract (activities/reconcile.ts): a retried attempt tags the users it signals
  // `<reconcileId>#<attempt>` and says so in `settleId`. Before, the workflow counted every user
  // that settled the reconcileId, earlier attempts' included, and handed the groups over while
  // the retried attempt's new users were still being created: they stayed out of their groups.
  // Its report (issue 15) counts the users the earlier attempt had settled too: two here, which
  // the retried attempt found in sync and did not hand over again.
  const waitedFor: [string, number][] = [];
  const queue = await mockedWorkers({
    main: {
      reconcileUsers: (input: { reconcileId: string }) => {
        if (activityInfo().attempt === 1) throw ApplicationFailure.retryable('the worker died mid-dispatch');
        return Promise.resolve({
          reconcileId: input.reconcileId,
          dryRun: false,
          jumpcloudInScope: 5,
          notionMembers: 2,
          notionListingComplete: true,
          planned: { create: 3, update: 0, deactivate: 0, reactivate: 0, invalid: 0, protected: 0, retry: 0 },
          dispatched: 5,
          settledEarlier: 2,
          settleId: `${input.reconcileId}#${activityInfo().attempt}`,
        });
      },
      // Visibility: the 3 users of the second attempt settled both ids; the earlier 2, the first.
      awaitReconciled: (input: { reconcileId: string; target: number }) => {
        waitedFor.push([input.reconcileId, input.target]);
        return Promise.resolve({ settled: input.reconcileId.includes('#') ? 3 : 5, failed: 0 });
      },
      dispatchGroups: () => Promise.resolve(0),
    },
  });
  const connectorId = `settle-${queue}`;
  // The reconciliation reports to its connector: an idle stand-in takes the signal.
  await temporal.client.workflow.start('groupWorkflow', {
    taskQueue: queue,
    workflowId: workflowIds.connector(connectorId),
    args: [{ connectorId, jumpcloudGroupId: GROUP_ID }],
  });
  const summary = (await temporal.client.workflow.execute('reconcileWorkflow', {
    taskQueue: queue,
    workflowId: `timers/reconcile/${queue}`,
    args: [{ connectorId, reconcileId: 'r-1', dryRun: false, groupManagement: true }],
  })) as { dispatched: number; settled?: { users: number; complete: boolean } };
  expect(waitedFor).toEqual([
    ['r-1#2', 3],
    ['r-1', 0],
  ]);
  expect(summary).toMatchObject({ dispatched: 5, settled: { users: 5, failed: 0, complete: true } });
  await temporal.client.workflow.getHandle(workflowIds.connector(connectorId)).terminate('test over');
});

test('C5: a scheduled reconciliation that looked just before a `sync` started one yields to it: the connector keeps the sync’s record, and the scheduled run skips', async () => {
  // The race: the scheduled run reads the connector (nothing running), a `sync` starts one, then
  // the scheduled run's signal arrives. Before, the signal replaced the sync's record and both
  // reconciliations ran. Here the first read starts the sync before it answers.
  const connectorId = `yield-${uniqueTaskQueue('c5')}`;
  const connector = () => temporal.client.workflow.getHandle(workflowIds.connector(connectorId));
  const reads: (string | undefined)[] = [];
  const reconciled: string[] = [];
  let sync: { workflowId: string } | undefined;
  const scheduledId = workflowIds.reconcile(connectorId, 'scheduled-2026-12-07T09:00:00Z');
  let endScheduled = () => undefined as void;
  const scheduledOver = new Promise<void>((resolve) => (endScheduled = resolve));
  const queue = await mockedWorkers({
    main: {
      connectorStatus: async () => {
        if (!sync) {
          sync = await connector().executeUpdate(startSyncUpdate, { args: [{ dryRun: false }] });
          reads.push(undefined);
          return { activated: true, groupManagement: false }; // what it read before the sync
        }
        const status = await connector().query(statusQuery);
        reads.push(status.runningReconcile);
        return status;
      },
      // The sync's reconciliation runs until the scheduled run is over.
      reconcileUsers: async (input: { reconcileId: string }) => {
        reconciled.push(input.reconcileId);
        if (input.reconcileId !== reconcileIdOf(scheduledId)) await scheduledOver;
        return {
          reconcileId: input.reconcileId,
          dryRun: false,
          jumpcloudInScope: 0,
          notionMembers: 0,
          notionListingComplete: true,
          planned: { create: 0, update: 0, deactivate: 0, reactivate: 0, invalid: 0, protected: 0, retry: 0 },
          dispatched: 0,
        };
      },
      awaitReconciled: () => Promise.resolve({ settled: 0, failed: 0 }),
      dispatchGroups: () => Promise.resolve(0),
    },
  });
  await temporal.client.workflow.start('connectorWorkflow', {
    taskQueue: queue,
    workflowId: workflowIds.connector(connectorId),
    args: [{ connectorId, state: activatedConnector(connectorId) }],
  });
  const skipped = await temporal.client.workflow
    .execute('reconcileWorkflow', {
      taskQueue: queue,
      workflowId: scheduledId,
      args: [{ connectorId, reconcileId: 'scheduled', dryRun: false, scheduled: true }],
    })
    .finally(endScheduled);
  expect(skipped).toBeNull();
  expect(reads).toEqual([undefined, sync?.workflowId]);
  // Only the sync's reconciliation reads the directories.
  await waitFor('the sync’s reconciliation', () => Promise.resolve(reconciled.length > 0 ? true : undefined));
  expect(reconciled).toEqual([reconcileIdOf(sync!.workflowId)]);
  await connector().terminate('test over');
});

test('G3 (issue 17): a group the create step took over (its POST’s answer was lost) gets only the members it lacks, and loses those JumpCloud does not list', async () => {
  // A retried notionCreateGroup returns the group its predecessor's POST made, or one made by
  // hand since the plan, with the members it has: n1 already, and x9 whom JumpCloud does not list.
  const added: string[][] = [];
  const removed: string[][] = [];
  const queue = await mockedWorkers({
    main: {
      requestGroupChange: () => Promise.resolve('granted'),
      provisionedNotionIds: () => Promise.resolve({ u1: 'n1', u2: 'n2' }),
      nudgeUsers: () => Promise.resolve(),
    },
    jumpcloud: {
      jumpcloudGetGroup: () => Promise.resolve({ id: GROUP_ID, name: 'Taken', searchKey: 'taken' }),
      jumpcloudAppBindings: () => Promise.resolve([GROUP_ID]),
      jumpcloudGroupMemberIds: () => Promise.resolve(['u1', 'u2']),
    },
    notion: {
      notionFindGroupByName: () => Promise.resolve(null),
      notionCreateGroup: () => Promise.resolve({ id: 'ng-9', displayName: 'Taken', memberIds: ['n1', 'x9'] }),
      notionGetGroup: () => Promise.resolve({ id: 'ng-9', displayName: 'Taken', memberIds: ['n1', 'n2'] }),
      notionAddGroupMembers: (_id: string, ids: string[]) => {
        added.push(ids);
        return Promise.resolve();
      },
      notionRemoveGroupMembers: (_id: string, ids: string[]) => {
        removed.push(ids);
        return Promise.resolve();
      },
    },
  });
  const handle = await temporal.client.workflow.start('groupWorkflow', {
    taskQueue: queue,
    workflowId: `timers/group-taken/${queue}`,
    args: [
      {
        connectorId: 'timers',
        jumpcloudGroupId: GROUP_ID,
        state: { status: 'pending', lastMemberIds: [] },
        pending: [{ reason: 'reconciliation', groupManagement: true }],
      },
    ],
  });
  const synced = await waitFor('the group in sync', async () => {
    const state = await handle.query(groupStateQuery);
    return state.status === 'in-sync' ? state : undefined;
  });
  expect(synced.notionId).toBe('ng-9');
  expect(added).toEqual([['n2']]);
  expect(removed).toEqual([['x9']]);
  await handle.terminate('test over');
});
