/**
 * Applying one planned group operation (create, adopt, rename, member changes, delete) as
 * activities, member changes in batches (G4). The group's state records what was done.
 */
import type { ActivityInterfaceFor } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { GroupState, GroupSyncRequest } from '../contracts/group';
import type { apiActivities } from './entity';
import { batches, type GroupOperation, type NotionGroupFacts } from './group-plan';
import { STEPS } from './summaries';

/** Members per PATCH (G4). Notion's limit is undocumented; 100 matches its page size. */
export const MEMBER_BATCH = 100;

type NotionActivityProxy = ReturnType<typeof apiActivities>['notion'];

/**
 * `group` names the group in the activities' summaries (issue 19): its name when allowed, else its
 * JumpCloud id (`groupLabel`).
 */
export async function applyGroupOperation(
  notion: NotionActivityProxy,
  state: GroupState,
  operation: GroupOperation,
  linked: NotionGroupFacts | null,
  group: string,
): Promise<NotionGroupFacts | null> {
  const addMembers = (notionId: string, batch: string[]) =>
    notion.notionAddGroupMembers.executeWithOptions(
      { summary: STEPS.group.addMembers(group, batch.length) },
      [notionId, batch],
    );
  const removeMembers = (notionId: string, batch: string[]) =>
    notion.notionRemoveGroupMembers.executeWithOptions(
      { summary: STEPS.group.removeMembers(group, batch.length) },
      [notionId, batch],
    );
  switch (operation.kind) {
    case 'create': {
      // The group may be one a lost answer left behind (the activity then takes it, G3): only the
      // members it lacks are added and those it should not have are removed. A new group has none.
      const created = await notion.notionCreateGroup.executeWithOptions(
        { summary: STEPS.group.create(group) },
        [operation.displayName],
      );
      state.notionId = created.id;
      const had = new Set(created.memberIds);
      const wanted = new Set(operation.addMemberIds);
      for (const batch of batches(
        operation.addMemberIds.filter((id) => !had.has(id)),
        MEMBER_BATCH,
      ))
        await addMembers(created.id, batch);
      for (const batch of batches(
        created.memberIds.filter((id) => !wanted.has(id)),
        MEMBER_BATCH,
      ))
        await removeMembers(created.id, batch);
      return { ...created, memberIds: operation.addMemberIds };
    }
    case 'adopt':
      state.notionId = operation.notionId;
      return linked;
    case 'rename':
      await notion.notionRenameGroup.executeWithOptions({ summary: STEPS.group.rename(group) }, [
        operation.notionId,
        operation.displayName,
      ]);
      return linked;
    case 'rename-conflict':
      // G5: visible, nothing overwritten; memberships are still kept in step.
      state.problem = {
        code: 'RenameConflict',
        message: `cannot rename the Notion group to "${operation.displayName}": another Notion group (${operation.ownerId}) has that name`,
        at: new Date().toISOString(),
      };
      return linked;
    case 'add-members':
      for (const batch of batches(operation.memberIds, MEMBER_BATCH))
        await addMembers(operation.notionId, batch);
      return linked;
    case 'remove-members':
      for (const batch of batches(operation.memberIds, MEMBER_BATCH))
        await removeMembers(operation.notionId, batch);
      return linked;
    case 'delete':
      await notion.notionDeleteGroup.executeWithOptions({ summary: STEPS.group.delete(group) }, [
        operation.notionId,
        state.name ?? operation.notionId,
      ]);
      state.status = 'deleted';
      return null;
  }
}

/**
 * C6 (issue 14): whether this group may be created or deleted in Notion now. An admin's decision
 * settles a held change; a held change stays held until then; otherwise the connector decides.
 * A change not allowed is recorded (status `held` or `rejected`) and nothing is written.
 */
export async function groupChangeAllowed(
  ctx: {
    state: GroupState;
    main: Pick<ActivityInterfaceFor<Activities>, 'requestGroupChange'>;
    /** The group in the activity's summary (`groupLabel`). */
    group: string;
    connectorId: string;
    jumpcloudGroupId: string;
  },
  change: 'create' | 'delete',
  request: GroupSyncRequest,
): Promise<boolean> {
  const { state } = ctx;
  const what = change === 'create' ? 'creation' : 'deletion';
  if (request.decision === 'approved') {
    state.held = undefined;
    return true;
  }
  if (request.decision === 'rejected' && state.held) {
    state.held = undefined;
    state.status = 'rejected';
    state.problem = {
      code: 'Rejected',
      message: `an admin rejected this group's ${what} in Notion; the next reconciliation proposes it again`,
      at: new Date().toISOString(),
    };
    return false;
  }
  if (!state.held || state.held.change !== change) {
    const decision = await ctx.main.requestGroupChange.executeWithOptions(
      {
        summary: STEPS.group.askChange(ctx.group, what),
      },
      [ctx.connectorId, { jumpcloudGroupId: ctx.jumpcloudGroupId, change }],
    );
    if (decision === 'granted') return true;
    state.held = {
      change,
      reason: 'more group creations or deletions in one hour than DEACTIVATION_THRESHOLD',
      since: new Date().toISOString(),
    };
  }
  state.status = 'held';
  state.problem = {
    code: 'Held',
    message: `its ${what} in Notion is held (${state.held.reason}): awaiting \`jc-notion approve\``,
    at: new Date().toISOString(),
  };
  return false;
}
