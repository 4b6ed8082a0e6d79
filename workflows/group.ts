/**
 * One workflow per JumpCloud user group (`jcn/<connector>/group/<JumpCloud id>`): the durable link
 * to its Notion group, its status, and the members it last saw. On a `sync` signal it reads
 * JumpCloud (the group, its binding, its resolved members) and Notion, plans with the pure group
 * planner (G1–G5, G7, G9, G10) and applies each operation (group-apply.ts). Group management off
 * (G8): nothing is read or sent. Unbound (G6) or deleted (G7): its last members re-check their
 * scope against JumpCloud, and are deactivated unless another binding still covers them. A 404 is
 * a deletion only once confirmed: by JumpCloud's `group_delete` event, or by the group still
 * missing after GROUP_DELETION_CONFIRM_DELAY (issue 14); until then nothing changes.
 */
import {
  continueAsNew,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { Mutex } from 'async-mutex';
import {
  groupStateQuery,
  groupWorkflowInputSchema,
  syncGroupSignal,
  type GroupState,
  type GroupSyncRequest,
  type GroupWorkflowInput,
} from '../contracts/group';
import { MAX_HISTORY_EVENTS } from '../contracts/shared';
import type { Activities } from '../activities';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import {
  API_ACTIVITY_OPTIONS,
  apiActivities,
  describeFailure,
  entityPatches,
  parseInput,
  rememberReconciles,
  tagEntity,
} from './entity';
import { runEntityLoop } from './entity-loop';
import { groupDetails, groupLabel, STEPS } from './summaries';
import { applyGroupOperation, groupChangeAllowed } from './group-apply';
import {
  checkDeletion,
  DEFAULT_DELETION_CONFIRM_MS,
  mergeGroupRequests,
  planGroup,
  type NotionGroupFacts,
} from './group-plan';

/**
 * The group workflow's patches, all covered by its baseline (`entityPatches`, issue 18): a run
 * started by this code records that one marker instead of one per patch.
 */
export const GROUP_BASELINE_PATCH = 'group-baseline-issue-18';
type GroupPatch = 'g7-confirm-deletion' | 'c6-group-guard';

export async function groupWorkflow(rawInput: GroupWorkflowInput): Promise<void> {
  const patches = entityPatches<GroupPatch>(GROUP_BASELINE_PATCH);
  const input = parseInput(groupWorkflowInputSchema, rawInput, 'group workflow');
  const { notion, jumpcloud } = apiActivities();
  const main = proxyActivities<Activities>({ ...API_ACTIVITY_OPTIONS, startToCloseTimeout: '5 minutes' });

  const state: GroupState = input.state ?? { status: 'pending', lastMemberIds: [] };
  const pending: GroupSyncRequest[] = [...(input.pending ?? [])];
  tagEntity('group', input.connectorId, input.jumpcloudGroupId, patches);
  setHandler(groupStateQuery, () => state);
  setHandler(syncGroupSignal, (request) => {
    pending.push(request);
  });

  /** Issue 19: the group in summaries: its name when UI_SUMMARIES_PII allows, else its JumpCloud id. */
  const privacy = () => ({ personal: state.personalSummaries === true });
  const label = () => groupLabel(privacy(), input.jumpcloudGroupId, state.name);
  const show = () => setCurrentDetails(groupDetails(privacy(), input.jumpcloudGroupId, state));
  show();

  async function converge(request: GroupSyncRequest): Promise<void> {
    state.lastGroupManagement = request.groupManagement;
    if (request.personalSummaries !== undefined) state.personalSummaries = request.personalSummaries;
    if (request.reconcileId) state.lastReconcileId = request.reconcileId;
    const settled = request.reconcileIds ?? (request.reconcileId ? [request.reconcileId] : []);
    if (settled.length > 0) state.reconcileIds = rememberReconciles(state.reconcileIds, settled);
    state.lastSyncAt = new Date().toISOString();
    if (!request.groupManagement) {
      // G8: left as it is in Notion; no group request at all.
      state.status = 'disabled';
      return;
    }
    if (request.deletionConfirmMs !== undefined) state.deletionConfirmMs = request.deletionConfirmMs;
    try {
      const group = await jumpcloud.jumpcloudGetGroup.executeWithOptions(
        { summary: STEPS.group.readJumpCloud(label()) },
        [input.jumpcloudGroupId],
      );
      if (group) {
        state.missingSince = undefined;
        state.deletionConfirmedAt = undefined;
      } else if (
        (state.notionId || state.lastMemberIds.length > 0) &&
        !state.deletionConfirmedAt &&
        patches.has('g7-confirm-deletion')
      ) {
        const check = checkDeletion({
          missingSince: state.missingSince,
          deletedEvent: request.deletedEvent,
          confirmMs: state.deletionConfirmMs ?? DEFAULT_DELETION_CONFIRM_MS,
          now: Date.now(),
        });
        if (check.kind === 'unconfirmed') {
          state.missingSince = check.since;
          state.status = 'missing';
          state.problem = {
            code: 'GroupMissing',
            message: `JumpCloud answers 404 for this group since ${check.since}: it is deleted in Notion only if still missing at ${check.until} or once JumpCloud reports its deletion; nothing is changed meanwhile`,
            at: new Date().toISOString(),
          };
          return;
        }
        state.deletionConfirmedAt = new Date().toISOString();
      }
      const bound = group
        ? (
            await jumpcloud.jumpcloudAppBindings.executeWithOptions(
              { summary: STEPS.group.readBoundGroups() },
              ['user_group'],
            )
          ).includes(input.jumpcloudGroupId)
        : false;
      if (group) {
        state.name = group.name;
        state.nameKey = group.searchKey;
      }
      const memberIds =
        group && bound
          ? await jumpcloud.jumpcloudGroupMemberIds.executeWithOptions(
              { summary: STEPS.group.readMembers(label()) },
              [input.jumpcloudGroupId],
            )
          : [];
      const links = {
        ...(memberIds.length > 0
          ? await main.provisionedNotionIds.executeWithOptions(
              { summary: STEPS.group.findProvisioned(memberIds.length) },
              [input.connectorId, memberIds],
            )
          : {}),
        ...Object.fromEntries(
          Object.entries(request.provisioned ?? {}).filter(([id]) => memberIds.includes(id)),
        ),
      };
      const desiredMemberIds = memberIds.map((id) => links[id]).filter((id): id is string => Boolean(id));
      let linked: NotionGroupFacts | null = state.notionId
        ? await notion.notionGetGroup.executeWithOptions(
            { summary: STEPS.group.readNotion(label(), state.notionId) },
            [state.notionId],
          )
        : null;
      if (state.notionId && !linked) state.notionId = undefined; // deleted in Notion: re-created or re-adopted
      const sameName =
        group && (!linked || linked.displayName !== group.name)
          ? await notion.notionFindGroupByName.executeWithOptions(
              { summary: STEPS.group.findByName(label()) },
              [group.name],
            )
          : null;

      const { operations, note } = planGroup({
        jumpcloud: group,
        bound,
        desiredMemberIds,
        linked,
        sameName: sameName && sameName.id !== linked?.id ? sameName : null,
      });
      state.problem = undefined;
      // C6 (issue 14): a group created or deleted in Notion passes the mass-change guard first.
      const change = operations.find((o) => o.kind === 'create' || o.kind === 'delete');
      if (!change) state.held = undefined;
      else if (patches.has('c6-group-guard')) {
        const ctx = {
          state,
          main,
          connectorId: input.connectorId,
          jumpcloudGroupId: input.jumpcloudGroupId,
          group: label(),
        };
        if (!(await groupChangeAllowed(ctx, change.kind === 'create' ? 'create' : 'delete', request))) return;
      }
      if (!group || !bound) {
        // G6/G7: the sync of this group stops; its last members re-check their scope against
        // JumpCloud now (deactivated unless another binding covers them), whatever Notion says next.
        if (state.lastMemberIds.length > 0) {
          // C6: the members of one unbinding or deletion are decided together.
          await main.nudgeUsers.executeWithOptions(
            {
              summary: STEPS.group.nudgeMembers(
                state.lastMemberIds.length,
                group ? 'group unbound' : 'group deleted',
              ),
            },
            [
              input.connectorId,
              state.lastMemberIds,
              group ? 'group unbound' : 'group deleted',
              { id: `group:${input.jumpcloudGroupId}:${state.lastSyncAt}`, size: state.lastMemberIds.length },
            ],
          );
          state.lastMemberIds = [];
        }
        for (const operation of operations)
          linked = await applyGroupOperation(notion, state, operation, linked, label());
        state.status = group ? 'unbound' : 'deleted';
        if (!group) state.notionId = undefined;
        return;
      }
      for (const operation of operations)
        linked = await applyGroupOperation(notion, state, operation, linked, label());
      state.lastMemberIds = memberIds;
      state.status =
        (state.problem as GroupState['problem'])?.code === 'RenameConflict'
          ? 'rename-conflict'
          : note === 'empty'
            ? 'empty'
            : 'in-sync';
    } catch (error) {
      const { code, message } = describeFailure(error);
      state.problem = { code, message, at: new Date().toISOString() };
      state.status = code === 'GroupDeletionRefused' ? 'deletion-refused' : 'error';
    } finally {
      publish();
    }
  }

  function publish(): void {
    show();
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTES.syncState, value: state.status },
      // Issue 16: the name's hash instead of the name when search attributes are hashed.
      ...(state.name ? [{ key: SEARCH_ATTRIBUTES.groupName, value: state.nameKey ?? state.name }] : []),
      ...(state.notionId ? [{ key: SEARCH_ATTRIBUTES.notionId, value: state.notionId }] : []),
      ...(state.lastReconcileId
        ? [{ key: SEARCH_ATTRIBUTES.reconcileId, value: state.lastReconcileId }]
        : []),
      ...(state.reconcileIds ? [{ key: SEARCH_ATTRIBUTES.reconcileIds, value: state.reconcileIds }] : []),
    ]);
  }

  await runEntityLoop({
    pending,
    lock: new Mutex(), // no Update converges a group: only the loop takes it
    merge: mergeGroupRequests,
    converge,
    maxHistoryEvents: MAX_HISTORY_EVENTS,
    // A refused deletion is tried again later, not lost; a missing group is read again (G7).
    idleRequest: () => {
      if (state.status === 'deletion-refused')
        return {
          afterMs: input.retryDelayMs ?? 3_600_000,
          request: { reason: 'retry refused deletion', groupManagement: state.lastGroupManagement ?? true },
        };
      if (state.status === 'missing' && state.missingSince) {
        const check = checkDeletion({
          missingSince: state.missingSince,
          confirmMs: state.deletionConfirmMs ?? DEFAULT_DELETION_CONFIRM_MS,
          now: Date.now(),
        });
        return {
          afterMs: check.kind === 'unconfirmed' ? check.recheckInMs : 1_000,
          request: { reason: 'confirm deletion', groupManagement: state.lastGroupManagement ?? true },
        };
      }
      return undefined;
    },
  });
  await continueAsNew<typeof groupWorkflow>({ ...input, state, pending });
}
