/**
 * `jc-notion status`: the connector (activation, group management, last sync), the workers'
 * health, users in error (U8, U9) and the accounts to delete by hand in Notion (U10).
 */
import type { Client } from '@temporalio/client';
import type { WorkerHealth } from '../../contracts/connector';
import { loadConfig, type Config } from '../../config/config';
import { connectClient } from '../../temporal/connection';
import { SEARCH_ATTRIBUTES } from '../../temporal/search-attributes';
import { checkWorkersUpdate, statusQuery, type ConnectorStatus } from '../../contracts/connector';
import { feedStateQuery, type FeedState } from '../../contracts/feed';
import { groupStateQuery } from '../../contracts/group';
import { userStateQuery } from '../../contracts/user';
import { printJson, printLines, table, type OutputOptions } from '../output';
import { connectorStart, requireWorkers, withWorkerDeadline } from '../temporal';
import { EntityGateway, entityQuery, type WorkflowProgress } from '../../temporal/entities';

/** How many users each list shows (the Temporal UI lists them all with the same query). */
const LIST_LIMIT = 100;

export interface UserEntry {
  jumpcloudId: string;
  username?: string;
  email?: string;
  code?: string;
  message?: string;
}

export interface StatusReport {
  connector: ConnectorStatus;
  /** C4: the change feed's cursor, totals and last error, while it runs. */
  feed?: FeedState;
  /** Issue 15: the running feed's and reconciliation's age and pending activities (attempts, last error). */
  progress: { feed?: WorkflowProgress; reconcile?: WorkflowProgress };
  workers: { polling: number; answeredBy: WorkerHealth };
  users: {
    errors: UserEntry[];
    manualDeletion: UserEntry[];
    /** C6: deactivations held for `approve` / `reject`. */
    awaitingApproval: UserEntry[];
    query: { errors: string; manualDeletion: string; awaitingApproval: string };
  };
  /** G5 rename conflicts, G7 refused deletions and other group errors. */
  groups: { problems: GroupEntry[]; query: string };
}

export interface GroupEntry {
  jumpcloudId: string;
  name?: string;
  status?: string;
  code?: string;
  message?: string;
}

/**
 * Issue 16: with hashed personal search attributes, a name or an email is read from the
 * workflow's own state (decoded by the codec when encrypted), never shown as its hash.
 */
function published(hashed: boolean, value: string | undefined): string | undefined {
  return hashed ? undefined : value;
}

async function listGroupProblems(client: Client, query: string, hashed: boolean): Promise<GroupEntry[]> {
  const entries: GroupEntry[] = [];
  for await (const execution of client.workflow.list({ query })) {
    const state = await client.workflow
      .getHandle(execution.workflowId)
      .query(groupStateQuery)
      .catch(() => undefined);
    entries.push({
      jumpcloudId: execution.typedSearchAttributes.get(SEARCH_ATTRIBUTES.jumpcloudId) ?? execution.workflowId,
      name:
        state?.name ?? published(hashed, execution.typedSearchAttributes.get(SEARCH_ATTRIBUTES.groupName)),
      status: execution.typedSearchAttributes.get(SEARCH_ATTRIBUTES.syncState),
      code: state?.problem?.code,
      message: state?.problem?.message,
    });
    if (entries.length >= LIST_LIMIT) break;
  }
  return entries;
}

async function listUsers(
  client: Client,
  query: string,
  withError: boolean,
  hashed: boolean,
): Promise<UserEntry[]> {
  const entries: UserEntry[] = [];
  for await (const execution of client.workflow.list({ query })) {
    const entry: UserEntry = {
      jumpcloudId: execution.typedSearchAttributes.get(SEARCH_ATTRIBUTES.jumpcloudId) ?? execution.workflowId,
      username: published(hashed, execution.typedSearchAttributes.get(SEARCH_ATTRIBUTES.username)),
      email: published(hashed, execution.typedSearchAttributes.get(SEARCH_ATTRIBUTES.email)),
    };
    if (withError || hashed) {
      const state = await client.workflow
        .getHandle(execution.workflowId)
        .query(userStateQuery)
        .catch(() => undefined);
      entry.code = state?.error?.code;
      entry.message = state?.error?.message;
      entry.username ??= state?.username;
      entry.email ??= state?.email;
    }
    entries.push(entry);
    if (entries.length >= LIST_LIMIT) break;
  }
  return entries;
}

function userQuery(config: Config, syncState: string): string {
  return entityQuery({ connectorId: config.connectorId, kind: 'user', syncState });
}

/** A pending activity past its first attempt: something keeps failing. */
function stalled(progress: WorkflowProgress): boolean {
  return progress.activities.some((activity) => activity.attempt > 1);
}

/** ` (for 4 min; reconcileUsers attempt 3, last error: …)` */
function describeProgress(progress: WorkflowProgress | undefined): string {
  if (!progress) return '';
  const minutes = Math.floor((Date.now() - Date.parse(progress.startedAt)) / 60_000);
  const parts = [`for ${minutes < 1 ? 'less than a minute' : `${minutes} min`}`];
  for (const activity of progress.activities.filter((a) => a.attempt > 1))
    parts.push(
      `${activity.activity} attempt ${activity.attempt}${activity.lastError ? `, last error: ${activity.lastError}` : ''}`,
    );
  return ` (${parts.join('; ')})`;
}

export async function statusCommand(options: OutputOptions): Promise<void> {
  const config = loadConfig('client');
  const client = await connectClient(config);
  const hashed = config.privacy.searchAttributes === 'hashed';
  try {
    const polling = await requireWorkers(client, config);
    const report = await withWorkerDeadline(client, config, async () => {
      const start = connectorStart(config);
      const health = await client.workflow.executeUpdateWithStart(checkWorkersUpdate, {
        startWorkflowOperation: start,
      });
      const connector = await (await start.workflowHandle()).query(statusQuery);
      const feed = connector.feed
        ? await client.workflow
            .getHandle(connector.feed)
            .query(feedStateQuery)
            .catch(() => undefined)
        : undefined;
      // Issue 15: a poll or a reconciliation that keeps failing shows here, with its attempts.
      const gateway = new EntityGateway(client);
      const [feedProgress, reconcileProgress] = await Promise.all([
        connector.feed ? gateway.progress(connector.feed).catch(() => undefined) : undefined,
        connector.runningReconcile
          ? gateway.progress(connector.runningReconcile).catch(() => undefined)
          : undefined,
      ]);
      const query = {
        errors: userQuery(config, 'error'),
        manualDeletion: userQuery(config, 'deleted'),
        awaitingApproval: userQuery(config, 'held'),
      };
      const groupQuery = entityQuery({
        connectorId: config.connectorId,
        kind: 'group',
        syncState: ['rename-conflict', 'deletion-refused', 'missing', 'held', 'rejected', 'error'],
      });
      const [errors, manualDeletion, awaitingApproval, groupProblems] = await Promise.all([
        listUsers(client, query.errors, true, hashed),
        listUsers(client, query.manualDeletion, false, hashed),
        listUsers(client, query.awaitingApproval, false, hashed),
        listGroupProblems(client, groupQuery, hashed),
      ]);
      return {
        connector,
        feed,
        progress: { feed: feedProgress, reconcile: reconcileProgress },
        workers: { polling, answeredBy: health },
        users: { errors, manualDeletion, awaitingApproval, query },
        groups: { problems: groupProblems, query: groupQuery },
      } satisfies StatusReport;
    });
    if (options.json) return printJson(report);
    const { connector, feed, progress, workers, users, groups } = report;
    const heldGroups = groups.problems.filter((g) => g.status === 'held');
    const last = connector.lastReconcile;
    const name = (u: UserEntry) => u.username ?? u.email ?? u.jumpcloudId;
    printLines([
      `Connector ${connector.connectorId}: ${connector.activated ? 'activated' : connector.deactivatedAt ? `not activated (deactivated at ${connector.deactivatedAt}: no Notion write until \`jc-notion activate\`)` : 'not activated'}`,
      ...(connector.lastVerification && !connector.lastVerification.verified
        ? [`  last verification failed: ${connector.lastVerification.reasons.join('; ')}`]
        : []),
      ...(connector.credentials?.state === 'rejected'
        ? connector.credentials.rejected.map(
            (r) =>
              `  credentials rejected: ${r.service === 'notion' ? 'Notion SCIM token' : 'JumpCloud API key'} since ${r.since} (${r.detail}); requests paused, probing every ${Math.round((connector.credentials?.probeIntervalMs ?? 30_000) / 1000)} s`,
          )
        : ['  credentials: ok']),
      `  group management: ${connector.groupManagement ? 'enabled' : 'disabled'}`,
      `  change feed: ${
        connector.feed
          ? `polling Directory Insights${feed?.pollIntervalMs ? ` every ${feed.pollIntervalMs / 1000} s` : ''}${feed?.lastPollAt ? `; last poll ${feed.lastPollAt}, ${feed.totals.events} events routed${feed.totals.skipped ? `, ${feed.totals.skipped} unreadable skipped` : ''}` : ''}`
          : 'stopped'
      }`,
      ...(progress.feed && stalled(progress.feed)
        ? [`  change feed poll retrying:${describeProgress(progress.feed)}`]
        : []),
      ...(feed?.lastError
        ? [`  change feed error: ${feed.lastError.message} (at ${feed.lastError.at})`]
        : []),
      `  scheduled reconciliation: ${
        connector.schedule
          ? `every ${Math.round(connector.schedule.intervalMs / 1000)} s${connector.schedule.paused ? ' (paused)' : ''}`
          : 'none'
      }`,
      `  last sync: ${
        last
          ? `${last.finishedAt ?? 'running'}${last.error ? ` failed: ${last.error}` : last.summary ? ` (${last.summary.dispatched} users handed over, ${last.summary.jumpcloudInScope} in scope)` : ''}`
          : 'never'
      }`,
      ...(last?.summary?.jumpcloudListingProblems
        ? [
            `  last sync read incomplete JumpCloud listings (${last.summary.jumpcloudListingProblems.join('; ')}): ${last.summary.unconfirmed ?? 0} user(s) missing from them left as they are until a complete read`,
          ]
        : []),
      ...(connector.runningReconcile
        ? [`  running: ${connector.runningReconcile}${describeProgress(progress.reconcile)}`]
        : []),
      `Workers: ${workers.polling} polling task queue ${config.temporal.taskQueue}; answered by ${workers.answeredBy.worker} (node ${workers.answeredBy.node}, up ${workers.answeredBy.uptimeSeconds} s)`,
      '  configuration (secrets hidden):',
      ...table(
        Object.entries(workers.answeredBy.configuration).map(([key, value]) => [
          key,
          Array.isArray(value) ? value.join(', ') || '(none)' : String(value),
        ]),
        '    ',
      ),
      ...(connector.approval || users.awaitingApproval.length + heldGroups.length > 0
        ? [
            `Awaiting approval: ${users.awaitingApproval.length + heldGroups.length}${users.awaitingApproval.length >= LIST_LIMIT ? '+' : ''} change(s) held${connector.approval ? ` since ${connector.approval.since}: ${connector.approval.reason}` : ''}`,
            ...users.awaitingApproval.map((u) => `  ${name(u)}${u.email ? ` <${u.email}>` : ''}`),
            ...heldGroups.map((g) => `  group ${g.name ?? g.jumpcloudId}: ${g.message ?? ''}`),
            users.awaitingApproval.length < LIST_LIMIT
              ? `  run \`jc-notion approve --expect ${users.awaitingApproval.length + heldGroups.length}\` to apply these or \`jc-notion reject --expect ${users.awaitingApproval.length + heldGroups.length}\` to drop them (refused if the set has changed)`
              : '  run `jc-notion approve` to apply them or `jc-notion reject` to drop them',
          ]
        : ['Awaiting approval: none']),
      `Users in error: ${users.errors.length}${users.errors.length >= LIST_LIMIT ? '+' : ''}`,
      ...users.errors.map((u) => `  ${name(u)}: ${u.code ?? 'error'}: ${u.message ?? ''}`),
      `Deleted in JumpCloud and deactivated in Notion (account deletion must be done manually in Notion): ${users.manualDeletion.length}`,
      ...users.manualDeletion.map((u) => `  ${name(u)}${u.email ? ` <${u.email}>` : ''}`),
      `Groups needing attention: ${groups.problems.length}`,
      ...groups.problems.map(
        (g) => `  ${g.name ?? g.jumpcloudId} (${g.status}): ${g.message ?? g.code ?? ''}`,
      ),
    ]);
  } finally {
    await client.connection.close();
  }
}
