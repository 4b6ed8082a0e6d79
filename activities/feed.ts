/**
 * C4: one poll of the change feed. Reads the Directory Insights events since the cursor's overlap
 * window, drops those already seen, routes the rest (activities/feed-routing.ts) to the user and
 * group workflows — signal-with-start for users and groups that now matter, a plain signal for
 * those only an existing workflow can care about — and returns the advanced cursor. Only the
 * cursor and counts travel through workflow history, never the events themselves.
 */
import { log } from '@temporalio/activity';
import { reportProgress } from './progress';
import { type Client } from '@temporalio/client';
import type { InsightsEvent, JumpCloudClient } from '../api/jumpcloud';
import type { RejectedRecord } from '../api/listing';
import { isApiError } from '../api/errors';
import { workflowIds } from '../temporal/ids';
import {
  statusQuery,
  startSyncUpdate,
  type DeactivationBatch,
  type DeactivationDecision,
} from '../contracts/connector';
import { type UserPolicy } from '../contracts/user';
import type { GroupSyncRequest } from '../contracts/group';
import { mapFailures } from './failures';
import {
  advanceCursor,
  pollStart,
  routeEvent,
  strongerMode,
  type Cursor,
  type UserMode,
} from './feed-routing';
import { EntityGateway } from '../temporal/entities';

export interface FeedPollInput {
  connectorId: string;
  cursor: Cursor;
  overlapMs: number;
}

export interface FeedPollResult {
  cursor: Cursor;
  /** Events returned by Directory Insights (including the overlap window). */
  events: number;
  /** Events not seen before, routed now. */
  fresh: number;
  /** Issue 15: events that did not fit the schema, skipped (logged with the reason). */
  skipped: number;
  /** More new events wait: the next poll follows at once. */
  more: boolean;
  users: number;
  groups: number;
  reconcileRequested: boolean;
}

export interface FeedDeps {
  jumpcloud: JumpCloudClient;
  client: Client;
  appId: string;
  taskQueue: string;
  policy: UserPolicy;
  /** The settings every group request carries (`groupRequestSettingsOf`). */
  groupSettings?: Pick<GroupSyncRequest, 'deletionConfirmMs' | 'personalSummaries'>;
  /** C6: the connector's decision for a batch's deactivations (its `requestDeactivation` Update). */
  decideBatch?: (request: {
    jumpcloudUserId: string;
    batch: DeactivationBatch;
  }) => Promise<DeactivationDecision>;
}

const PAGE = 1000;
const MAX_PAGES_PER_POLL = 20;

/** A poll routes at most this many new events; the rest go to the next poll, which follows at once. */
export const MAX_EVENTS_PER_POLL = 500;
/** Above this many users to check, the application's users are listed once instead of per user. */
const LIST_BOUND_USERS_FROM = 20;
/**
 * A removal affecting this many users or more is decided by the connector once, before its users
 * are signalled, instead of by an Update from each user: the connector takes at most 10 Updates
 * at a time, and 3,000 leavers asking one by one took many minutes (issue 15).
 */
const DECIDE_BATCH_FROM = 20;

export async function pollFeed(deps: FeedDeps, input: FeedPollInput): Promise<FeedPollResult> {
  return mapFailures(async () => {
    const seen = new Set(input.cursor.seen);
    const read = await readNewEvents(
      deps.jumpcloud,
      pollStart(input.cursor, input.overlapMs),
      seen,
      MAX_EVENTS_PER_POLL,
    );
    // Issue 15: an event that does not fit the schema is skipped with its reason, not a failed page.
    for (const record of read.skipped)
      log.warn('change feed: skipped an unreadable event', { eventId: record.id, problem: record.problem });
    const { fresh } = read;
    const result: FeedPollResult = {
      // Past what this poll routes, and no further: the rest is the next poll's.
      // Unreadable events with an id join the seen ids: skipped (and logged) once, not every poll.
      cursor: advanceCursor(
        input.cursor,
        [...read.events, ...read.rejectedIds.map((id) => ({ id, timestamp: '' }))],
        input.overlapMs,
      ),
      events: read.events.length,
      fresh: fresh.length,
      skipped: read.skipped.length,
      more: read.more,
      users: 0,
      groups: 0,
      reconcileRequested: false,
    };
    if (fresh.length === 0) return result;

    const connector = deps.client.workflow.getHandle(workflowIds.connector(input.connectorId));
    const status = await connector.query(statusQuery);
    if (!status.activated) return result; // C2: nothing syncs; the events are behind the cursor now

    const router = new Router(deps, input.connectorId, status.groupManagement);
    for (const event of fresh) {
      const routed = routeEvent(event, deps.appId);
      for (const target of routed.targets) {
        switch (target.kind) {
          case 'user':
            router.user(target.id, target.mode, routed, undefined);
            break;
          case 'group':
            router.group(target.id, target.mode, routed.eventType);
            break;
          case 'members': {
            const members = await router.members(target.groupId);
            if (members === null) {
              router.reconcile = `members of user group ${target.groupId} are unknown`;
              break;
            }
            const batch = routed.removal
              ? { id: `event:${routed.eventId}`, size: members.length }
              : undefined;
            for (const id of members) router.user(id, target.mode, routed, batch);
            break;
          }
          case 'reconcile':
            // A deleted group's members cannot be read any more: without group management (whose
            // group workflow remembers them) only a reconciliation finds who left the scope.
            if (!status.groupManagement) router.reconcile = target.reason;
            break;
        }
      }
      reportProgress({ routed: event.id });
    }
    const sent = await router.send();
    result.users = sent.users;
    result.groups = sent.groups;
    if (router.reconcile) {
      result.reconcileRequested = true;
      await connector
        .executeUpdate(startSyncUpdate, { args: [{ dryRun: false }] })
        .catch((error: unknown) => {
          log.warn('could not start a reconciliation for a feed event', { reason: router.reconcile, error });
        });
    }
    return result;
  });
}

/**
 * The events from `startTime` on, page by page, until `max` new ones are found: `events` are all
 * those read up to the last new one kept (the cursor advances over them), `more` says whether
 * events were left for the next poll.
 */
async function readNewEvents(
  jumpcloud: JumpCloudClient,
  startTime: string,
  seen: ReadonlySet<string>,
  max: number,
): Promise<{
  events: InsightsEvent[];
  fresh: InsightsEvent[];
  skipped: RejectedRecord[];
  rejectedIds: string[];
  more: boolean;
}> {
  const events: InsightsEvent[] = [];
  const fresh: InsightsEvent[] = [];
  const skipped: RejectedRecord[] = [];
  const rejectedIds: string[] = [];
  let searchAfter: unknown[] | undefined;
  for (let page = 0; page < MAX_PAGES_PER_POLL; page++) {
    const result = await jumpcloud.eventsPage(
      { service: ['directory'], startTime, limit: PAGE },
      searchAfter,
    );
    skipped.push(...result.rejected.filter((record) => !record.id || !seen.has(record.id)));
    for (const record of result.rejected) if (record.id) rejectedIds.push(record.id);
    for (const event of result.events) {
      if (fresh.length >= max) return { events, fresh, skipped, rejectedIds, more: true };
      events.push(event);
      if (!seen.has(event.id)) fresh.push(event);
    }
    reportProgress({ read: events.length });
    if (!result.more || !result.searchAfter) return { events, fresh, skipped, rejectedIds, more: false };
    searchAfter = result.searchAfter;
  }
  return { events, fresh, skipped, rejectedIds, more: true };
}

interface UserRoute {
  mode: UserMode;
  reason: string;
  batch?: DeactivationBatch;
}

/** Collects the targets of one poll (each entity once) and sends their signals. */
class Router {
  private readonly users = new Map<string, UserRoute>();
  private readonly groups = new Map<string, { mode: UserMode; reason: string; deleted?: boolean }>();
  private readonly membersCache = new Map<string, string[] | null>();
  private bindings: { users: Set<string>; groups: Set<string> } | undefined;
  private boundUsers: Promise<Set<string>> | undefined;
  reconcile: string | undefined;

  constructor(
    private readonly deps: FeedDeps,
    private readonly connectorId: string,
    private readonly groupManagement: boolean,
  ) {}

  user(id: string, mode: UserMode, event: { eventType: string; eventId: string }, batch?: DeactivationBatch) {
    const known = this.users.get(id);
    this.users.set(id, {
      mode: strongerMode(known?.mode, mode),
      reason: `event ${event.eventType} ${event.eventId}`,
      batch: batch ?? known?.batch,
    });
  }

  group(id: string, mode: UserMode, eventType: string) {
    if (!this.groupManagement) return; // G8: no group request at all
    const known = this.groups.get(id);
    this.groups.set(id, {
      mode: strongerMode(known?.mode, mode),
      reason: `event ${eventType}`,
      // G7: JumpCloud's own word that the group is deleted (its 404 then needs no second read).
      deleted: known?.deleted || eventType === 'group_delete',
    });
  }

  /** A group's resolved members; null when the group no longer exists. */
  async members(groupId: string): Promise<string[] | null> {
    if (!this.membersCache.has(groupId)) {
      try {
        const members = await this.deps.jumpcloud.listGroupMembership(groupId);
        this.membersCache.set(
          groupId,
          members.map((m) => m.id),
        );
      } catch (error) {
        if (!isApiError(error, 'NotFound')) throw error;
        this.membersCache.set(groupId, null);
      }
    }
    return this.membersCache.get(groupId) ?? null;
  }

  private async currentBindings() {
    if (!this.bindings) {
      const [users, groups] = await Promise.all([
        this.deps.jumpcloud.listApplicationBindings(this.deps.appId, 'user'),
        this.deps.jumpcloud.listApplicationBindings(this.deps.appId, 'user_group'),
      ]);
      this.bindings = { users: new Set(users.map((b) => b.id)), groups: new Set(groups.map((b) => b.id)) };
    }
    return this.bindings;
  }

  /**
   * U1, as cheaply as routing allows: for a few users, bound directly or through one of their
   * (nested) groups; for many (a bulk change), the application's users listed once per poll.
   */
  private async userIsBound(id: string, many: boolean): Promise<boolean> {
    if (many) {
      this.boundUsers ??= this.deps.jumpcloud
        .listApplicationUsers(this.deps.appId)
        .then((users) => new Set(users.map((user) => user.id)));
      return (await this.boundUsers).has(id);
    }
    const bindings = await this.currentBindings();
    if (bindings.users.has(id)) return true;
    try {
      const groups = await this.deps.jumpcloud.listUserGroups(id);
      return groups.some((group) => bindings.groups.has(group.id));
    } catch (error) {
      if (isApiError(error, 'NotFound')) return false;
      throw error;
    }
  }

  /**
   * The large removal batches of this poll that the connector grants (C6), asked once each. The
   * decision is the one each user would have got: the connector records a batch's decision and
   * answers its members with it. A held batch is left to its users, so that each is counted and
   * shown as held, as before.
   */
  private async grantedBatches(): Promise<Set<string>> {
    const granted = new Set<string>();
    if (!this.deps.decideBatch) return granted;
    const batches = new Map<string, { batch: DeactivationBatch; member: string }>();
    for (const [id, route] of this.users)
      if (route.batch && route.batch.size >= DECIDE_BATCH_FROM && !batches.has(route.batch.id))
        batches.set(route.batch.id, { batch: route.batch, member: id });
    for (const { batch, member } of batches.values())
      if ((await this.deps.decideBatch({ jumpcloudUserId: member, batch })) === 'granted')
        granted.add(batch.id);
    return granted;
  }

  async send(): Promise<{ users: number; groups: number }> {
    let users = 0;
    let groups = 0;
    const { policy } = this.deps;
    const gateway = new EntityGateway(this.deps.client, this.deps.taskQueue);
    // Users with no workflow yet, whose binding decides whether one starts.
    const unknown = new Set<string>();
    for (const [id, route] of this.users)
      if (route.mode === 'check' && !(await gateway.isRunning(workflowIds.user(this.connectorId, id))))
        unknown.add(id);
    const many = unknown.size >= LIST_BOUND_USERS_FROM;
    const granted = await this.grantedBatches();
    for (const [id, route] of this.users) {
      const start = route.mode === 'bound' || (unknown.has(id) && (await this.userIsBound(id, many)));
      const request = {
        reason: route.reason,
        policy,
        ...(route.batch ? { batch: route.batch } : {}),
        // C6 already granted for the whole batch: the user need not ask again.
        ...(route.batch && granted.has(route.batch.id) ? { deactivation: 'granted' as const } : {}),
      };
      if (start) {
        await gateway.syncUser(this.connectorId, id, policy, request);
        users += 1;
      } else if (await gateway.signalUser(this.connectorId, id, request)) {
        users += 1;
      }
      reportProgress({ users });
    }
    const bound = this.groups.size > 0 ? (await this.currentBindings()).groups : new Set<string>();
    for (const [id, route] of this.groups) {
      const request = {
        reason: route.reason,
        groupManagement: true,
        ...(route.deleted ? { deletedEvent: true } : {}),
        ...this.deps.groupSettings,
      };
      if (route.mode === 'bound' || (route.mode === 'check' && bound.has(id))) {
        await gateway.syncGroup(this.connectorId, id, request);
        groups += 1;
      } else if (await gateway.signalGroup(this.connectorId, id, request)) {
        groups += 1;
      }
    }
    return { users, groups };
  }
}
