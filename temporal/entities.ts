/**
 * The one gateway to the entity workflows, for activities and the `jc-notion` command alike: sync a
 * user or a group (signal-with-start), signal one only if it runs, and find entities through
 * their search attributes (the only place that writes visibility queries). Workflows are started
 * by type name with their contracts' types, so nothing here imports workflow code but the pure
 * wording of their summaries (workflows/summaries.ts).
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { GroupSyncRequest, GroupWorkflowInput } from '../contracts/group';
import { syncGroupSignal } from '../contracts/group';
import type { SyncRequest, UserPolicy, UserWorkflowInput } from '../contracts/user';
import { syncUserSignal } from '../contracts/user';
import { normalizeEmail } from '../contracts/shared';
import { groupWorkflowSummary, STARTS, userWorkflowSummary } from '../workflows/summaries';
import { workflowIds } from './ids';
import { entityTags, SEARCH_ATTRIBUTES } from './search-attributes';

export type EntityKind = 'user' | 'group';

/** A running workflow and what it waits on (`status`, issue 15). */
export interface WorkflowProgress {
  startedAt: string;
  activities: { activity: string; attempt: number; lastError?: string }[];
}

/** What to look for: every condition is ANDed; an array means any of its values. */
export interface EntityFilter {
  connectorId: string;
  kind?: EntityKind;
  syncState?: string | string[];
  /** Entities that settled this reconciliation's request (among the latest they settled). */
  reconcileId?: string;
  jumpcloudId?: string | string[];
  notionId?: string;
}

const quote = (value: string) => `"${value.replace(/["\\]/g, '\\$&')}"`;

/**
 * What `jc-notion find` looks for (issue 16): any of these, among a connector's users and groups.
 * Emails, usernames and group names are given as published: typed, or hashed (temporal/search-keys).
 */
export interface EntityLookup {
  connectorId: string;
  jumpcloudIds?: string[];
  emails?: string[];
  usernames?: string[];
  groupNames?: string[];
}

export function lookupQuery(lookup: EntityLookup): string {
  const any = (name: string, values: string[] | undefined) =>
    values && values.length > 0 ? [`${name} IN (${[...new Set(values)].map(quote).join(', ')})`] : [];
  const alternatives = [
    ...any(SEARCH_ATTRIBUTES.jumpcloudId.name, lookup.jumpcloudIds),
    ...any(SEARCH_ATTRIBUTES.email.name, lookup.emails),
    ...any(SEARCH_ATTRIBUTES.username.name, lookup.usernames),
    ...any(SEARCH_ATTRIBUTES.groupName.name, lookup.groupNames),
  ];
  if (alternatives.length === 0) throw new Error('lookupQuery: nothing to look for');
  return `${SEARCH_ATTRIBUTES.connectorId.name} = ${quote(lookup.connectorId)} AND ${SEARCH_ATTRIBUTES.kind.name} IN ("user", "group") AND (${alternatives.join(' OR ')})`;
}

/** A visibility query for entities of a connector (quoted values: ids and states are keywords). */
export function entityQuery(filter: EntityFilter): string {
  const clause = (name: string, value: string | string[] | undefined) =>
    value === undefined
      ? []
      : Array.isArray(value)
        ? [`${name} IN (${value.map(quote).join(', ')})`]
        : [`${name} = ${quote(value)}`];
  return [
    ...clause(SEARCH_ATTRIBUTES.connectorId.name, filter.connectorId),
    ...clause(SEARCH_ATTRIBUTES.kind.name, filter.kind),
    ...clause(SEARCH_ATTRIBUTES.syncState.name, filter.syncState),
    ...clause(SEARCH_ATTRIBUTES.reconcileIds.name, filter.reconcileId),
    ...clause(SEARCH_ATTRIBUTES.jumpcloudId.name, filter.jumpcloudId),
    ...clause(SEARCH_ATTRIBUTES.notionId.name, filter.notionId),
  ].join(' AND ');
}

export interface EntityRecord {
  workflowId: string;
  runId: string;
  kind?: string;
  startTime: Date;
  jumpcloudId?: string;
  syncState?: string;
  username?: string;
  email?: string;
  notionId?: string;
  groupName?: string;
  /** The latest reconciliations whose requests it settled (`JcnReconcileIds`). */
  reconcileIds?: string[];
  running: boolean;
}

/**
 * Issue 19: a user workflow's summary in the Temporal UI, set when it starts: who the user is
 * (when UI_SUMMARIES_PII allows, from what a reconciliation observed or `provision` resolved),
 * fixed for the run; the workflow's current details follow renames. Every start of a user
 * workflow carries it (SPEC §7).
 */
export function userStartMetadata(
  connectorId: string,
  jumpcloudUserId: string,
  policy: UserPolicy,
  known: { email?: string; username?: string; displayName?: string } = {},
) {
  return {
    staticSummary: userWorkflowSummary({ personal: policy.personalSummaries === true }, jumpcloudUserId, {
      ...known,
      email: known.email === undefined ? undefined : normalizeEmail(known.email),
    }),
    staticDetails: STARTS.user.details(connectorId, jumpcloudUserId),
  };
}

/** What a reconciliation or the feed observed of the user, for its start's summary. */
function observedFacts(request: SyncRequest) {
  const user = request.observed?.jumpcloud;
  return {
    email: user?.email,
    username: user?.username,
    displayName: [user?.firstname, user?.lastname].filter(Boolean).join(' ') || undefined,
  };
}

export class EntityGateway {
  constructor(
    readonly client: Client,
    /** The workers' main task queue (TEMPORAL_TASK_QUEUE), where entity workflows start. */
    private readonly taskQueue?: string,
  ) {}

  private startQueue(): string {
    if (!this.taskQueue) throw new Error('EntityGateway: a task queue is needed to start workflows');
    return this.taskQueue;
  }

  /** Signal-with-start of a user's workflow: it converges now, started (and tagged) if it was not running. */
  async syncUser(connectorId: string, jumpcloudUserId: string, policy: UserPolicy, request: SyncRequest) {
    const input: UserWorkflowInput = { connectorId, jumpcloudUserId, policy };
    await this.client.workflow.signalWithStart('userWorkflow', {
      workflowId: workflowIds.user(connectorId, jumpcloudUserId),
      taskQueue: this.startQueue(),
      typedSearchAttributes: entityTags('user', connectorId, jumpcloudUserId),
      ...userStartMetadata(connectorId, jumpcloudUserId, policy, observedFacts(request)),
      args: [input],
      signal: syncUserSignal,
      signalArgs: [request],
    });
  }

  /** Signal-with-start of a group's workflow. */
  async syncGroup(connectorId: string, jumpcloudGroupId: string, request: GroupSyncRequest) {
    const input: GroupWorkflowInput = { connectorId, jumpcloudGroupId };
    await this.client.workflow.signalWithStart('groupWorkflow', {
      workflowId: workflowIds.group(connectorId, jumpcloudGroupId),
      taskQueue: this.startQueue(),
      typedSearchAttributes: entityTags('group', connectorId, jumpcloudGroupId),
      staticSummary: groupWorkflowSummary({ personal: false }, jumpcloudGroupId),
      staticDetails: STARTS.group.details(connectorId, jumpcloudGroupId),
      args: [input],
      signal: syncGroupSignal,
      signalArgs: [request],
    });
  }

  /** Signals a user's workflow if there is one; false when there is none (nothing to tell). */
  signalUser(connectorId: string, jumpcloudUserId: string, request: SyncRequest): Promise<boolean> {
    return this.signalIfRunning(() =>
      this.client.workflow
        .getHandle(workflowIds.user(connectorId, jumpcloudUserId))
        .signal(syncUserSignal, request),
    );
  }

  /** Signals a group's workflow if there is one. */
  signalGroup(connectorId: string, jumpcloudGroupId: string, request: GroupSyncRequest): Promise<boolean> {
    return this.signalIfRunning(() =>
      this.client.workflow
        .getHandle(workflowIds.group(connectorId, jumpcloudGroupId))
        .signal(syncGroupSignal, request),
    );
  }

  /** Whether a workflow with this id is running. */
  async isRunning(workflowId: string): Promise<boolean> {
    return (await this.status(workflowId)) === 'RUNNING';
  }

  /** How the latest run of this workflow id stands: `RUNNING`, `COMPLETED`, `TERMINATED`…, or `NOT_FOUND`. */
  async status(workflowId: string): Promise<string> {
    try {
      return (await this.client.workflow.getHandle(workflowId).describe()).status.name;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return 'NOT_FOUND';
      throw error;
    }
  }

  /**
   * Issue 15: what a long-running workflow (the feed, a reconciliation) is waiting on: its running
   * time and each pending activity's attempt and last error, so that `status` shows one that is
   * stuck instead of letting it retry silently. Undefined when the workflow is not running.
   */
  async progress(workflowId: string): Promise<WorkflowProgress | undefined> {
    try {
      const description = await this.client.workflow.getHandle(workflowId).describe();
      if (description.status.name !== 'RUNNING') return undefined;
      return {
        startedAt: description.startTime.toISOString(),
        activities: (description.raw.pendingActivities ?? []).map((activity) => ({
          activity: activity.activityType?.name ?? 'activity',
          attempt: activity.attempt ?? 1,
          ...(activity.lastFailure?.message
            ? {
                lastError: activity.lastFailure.cause?.message ?? activity.lastFailure.message,
              }
            : {}),
        })),
      };
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  }

  /** The entities matching the filter, with what their search attributes say. */
  find(filter: EntityFilter): AsyncGenerator<EntityRecord> {
    return this.list(entityQuery(filter));
  }

  /** The runs of the entities a lookup names (every run: a closed one may be all that is left). */
  lookup(lookup: EntityLookup): AsyncGenerator<EntityRecord> {
    return this.list(lookupQuery(lookup));
  }

  private async *list(query: string): AsyncGenerator<EntityRecord> {
    for await (const execution of this.client.workflow.list({ query })) {
      const get = execution.typedSearchAttributes;
      yield {
        workflowId: execution.workflowId,
        runId: execution.runId,
        kind: get.get(SEARCH_ATTRIBUTES.kind),
        startTime: execution.startTime,
        jumpcloudId: get.get(SEARCH_ATTRIBUTES.jumpcloudId),
        syncState: get.get(SEARCH_ATTRIBUTES.syncState),
        username: get.get(SEARCH_ATTRIBUTES.username),
        email: get.get(SEARCH_ATTRIBUTES.email),
        notionId: get.get(SEARCH_ATTRIBUTES.notionId),
        groupName: get.get(SEARCH_ATTRIBUTES.groupName),
        reconcileIds: get.get(SEARCH_ATTRIBUTES.reconcileIds),
        running: execution.status.name === 'RUNNING',
      };
    }
  }

  /** How many entities match the filter. */
  async count(filter: EntityFilter): Promise<number> {
    return (await this.client.workflow.count(entityQuery(filter))).count;
  }

  private async signalIfRunning(signal: () => Promise<void>): Promise<boolean> {
    try {
      await signal();
      return true;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    }
  }
}
