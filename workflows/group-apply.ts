/**
 * Applying one planned group operation (create, adopt, rename, member changes, delete) as
 * activities, member changes in batches (G4). The group's state records what was done.
 */
import type { GroupState } from '../contracts/group';
import type { apiActivities } from './entity';
import { batches, type GroupOperation, type NotionGroupFacts } from './group-plan';

/** Members per PATCH (G4). Notion's limit is undocumented; 100 matches its page size. */
export const MEMBER_BATCH = 100;

type NotionActivityProxy = ReturnType<typeof apiActivities>['notion'];

export async function applyGroupOperation(
  notion: NotionActivityProxy,
  state: GroupState,
  operation: GroupOperation,
  linked: NotionGroupFacts | null,
): Promise<NotionGroupFacts | null> {
  switch (operation.kind) {
    case 'create': {
      const created = await notion.notionCreateGroup(operation.displayName);
      state.notionId = created.id;
      for (const batch of batches(operation.addMemberIds, MEMBER_BATCH))
        await notion.notionAddGroupMembers(created.id, batch);
      return { ...created, memberIds: operation.addMemberIds };
    }
    case 'adopt':
      state.notionId = operation.notionId;
      return linked;
    case 'rename':
      await notion.notionRenameGroup(operation.notionId, operation.displayName);
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
        await notion.notionAddGroupMembers(operation.notionId, batch);
      return linked;
    case 'remove-members':
      for (const batch of batches(operation.memberIds, MEMBER_BATCH))
        await notion.notionRemoveGroupMembers(operation.notionId, batch);
      return linked;
    case 'delete':
      await notion.notionDeleteGroup(operation.notionId, state.name ?? operation.notionId);
      state.status = 'deleted';
      return null;
  }
}
