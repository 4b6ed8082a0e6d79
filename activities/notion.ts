/**
 * Activities that call Notion: each is one SCIM request (or one batch request), runs on the
 * `-notion` task queue (rate-limited cluster-wide) and is idempotent. Outcomes the workflow decides
 * on (a 409, a vanished id) are results, not failures, so that each step shows in its history.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { isApiError } from '../api/errors';
import type { NotionGroup, NotionScimClient, NotionUser } from '../api/notion';
import type { NotionGroupFacts } from '../workflows/group-plan';
import {
  isProtected,
  type DesiredNotionUser,
  type NotionUserFacts,
  type UserChanges,
} from '../workflows/user-plan';
import { mapFailures } from './failures';

/** What the planner needs of a Notion user. */
export function toNotionUserFacts(user: NotionUser): NotionUserFacts {
  return {
    id: user.id,
    userName: user.userName,
    active: user.active,
    givenName: user.givenName,
    familyName: user.familyName,
    formatted: user.formatted,
    ...(user.role ? { role: user.role } : {}),
  };
}

function groupFacts(group: NotionGroup): NotionGroupFacts {
  return { id: group.id, displayName: group.displayName, memberIds: group.memberIds };
}

/** The running activity's attempt (1 when called outside an activity, as unit tests do). */
function currentAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}

export type CreateOutcome = { outcome: 'created'; user: NotionUserFacts } | { outcome: 'exists' };

export function createNotionActivities(
  notion: NotionScimClient,
  /** U6: this worker's NOTION_PROTECTED_USERS, as configured now (lower-case emails). */
  protectedUsers: readonly string[] = [],
) {
  return {
    /** A request permit for a bulk read (ADR 0004): runs on the rate-limited queue, sends nothing. */
    async notionPermit(): Promise<void> {
      return Promise.resolve();
    },
    /** C1: the token works. */
    async notionVerifyCredentials(): Promise<void> {
      return mapFailures(() => notion.checkCredentials(), { credentialsFinal: true });
    },
    async notionGetUser(id: string): Promise<NotionUserFacts | null> {
      return mapFailures(async () => {
        const user = await notion.getUser(id);
        return user ? toNotionUserFacts(user) : null;
      });
    },
    /** U3: matching by userName (Notion's `email` filter). */
    async notionFindUserByEmail(email: string): Promise<NotionUserFacts | null> {
      return mapFailures(async () => {
        const user = await notion.findUserByEmail(email);
        return user ? toNotionUserFacts(user) : null;
      });
    },
    /** U4 (and U7's re-add): POST; a current member answers 409, reported as `exists`. */
    async notionCreateUser(user: DesiredNotionUser): Promise<CreateOutcome> {
      return mapFailures(async () => {
        try {
          return { outcome: 'created', user: toNotionUserFacts(await notion.createUser(user)) };
        } catch (error) {
          if (isApiError(error, 'Conflict')) return { outcome: 'exists' };
          throw error;
        }
      });
    },
    /**
     * U5: PATCH replace of the differing attributes only. An email change that would take a member
     * out of this worker's NOTION_PROTECTED_USERS is refused (U6 in two steps: rename, then remove).
     */
    async notionUpdateUser(
      id: string,
      changes: UserChanges,
      userName: string,
    ): Promise<NotionUserFacts | null> {
      return mapFailures(async () => {
        if (changes.userName && protectedUsers.length > 0) {
          const current = await notion.getUser(id);
          if (
            current &&
            isProtected(protectedUsers, current.userName) &&
            !isProtected(protectedUsers, changes.userName)
          )
            throw ApplicationFailure.nonRetryable(
              `${current.userName} is in NOTION_PROTECTED_USERS and ${changes.userName} is not: add the new email there first, then the change is made`,
              'ProtectedEmailChange',
            );
        }
        const user = await notion.patchUser(id, changes, userName);
        return user ? toNotionUserFacts(user) : null;
      });
    },
    /**
     * U4/U6/U10: PATCH active=false (never DELETE). U6's protection is checked again here, at the
     * moment of acting, against this worker's configuration and the member as Notion has it now
     * (the policy a workflow carries may predate a user's protection: held, then protected, then
     * approved). Workspace owners and the token owner are always protected: removing an owner
     * revokes the SCIM tokens they made, and Notion refuses to remove the token's own owner.
     */
    async notionDeactivateUser(
      id: string,
      userName: string,
    ): Promise<'deactivated' | 'already-removed' | 'protected'> {
      return mapFailures(async () => {
        const current = await notion.getUser(id);
        if (!current) return 'already-removed';
        if (isProtected(protectedUsers, current.userName) || current.role === 'owner') return 'protected';
        try {
          return await notion.deactivateUser(id, userName);
        } catch (error) {
          if (isApiError(error, 'TokenOwner')) return 'protected';
          throw error;
        }
      });
    },
    /** U7: PATCH active=true; `gone` when Notion no longer knows the id (then the workflow POSTs). */
    async notionActivateUser(id: string, userName: string): Promise<'activated' | 'gone'> {
      return mapFailures(async () => {
        try {
          await notion.patchUser(id, { active: true }, userName);
          return 'activated';
        } catch (error) {
          if (isApiError(error, 'NotFound')) return 'gone';
          throw error;
        }
      });
    },
    async notionGetGroup(id: string): Promise<NotionGroupFacts | null> {
      return mapFailures(async () => {
        const group = await notion.getGroup(id);
        return group ? groupFacts(group) : null;
      });
    },
    /** G3/G5: the group named exactly so, if any. */
    async notionFindGroupByName(displayName: string): Promise<NotionGroupFacts | null> {
      return mapFailures(async () => {
        const group = await notion.findGroupByName(displayName);
        return group ? groupFacts(group) : null;
      });
    },
    /**
     * G2: creates the group (members follow in batches). A retried attempt first looks the name up
     * and takes the group it finds (G3): its predecessor's POST may have reached Notion while the
     * answer was lost or the worker died before recording it, and Notion accepts two groups of one
     * name. The first attempt does not look: the workflow has just found no such group.
     */
    async notionCreateGroup(displayName: string): Promise<NotionGroupFacts> {
      return mapFailures(async () => {
        if (currentAttempt() > 1) {
          const existing = await notion.findGroupByName(displayName);
          if (existing) return groupFacts(existing);
        }
        return groupFacts(await notion.createGroup(displayName));
      });
    },
    /** G5: rename in place. */
    async notionRenameGroup(id: string, displayName: string): Promise<void> {
      return mapFailures(() => notion.renameGroup(id, displayName));
    },
    /** G4: one batch of members, one request. */
    async notionAddGroupMembers(id: string, memberIds: string[]): Promise<void> {
      return mapFailures(async () => {
        await notion.addMembers(id, memberIds, memberIds.length);
      });
    },
    /** G4: one batch of members, one request (or the filter-path form where the first is refused). */
    async notionRemoveGroupMembers(id: string, memberIds: string[]): Promise<void> {
      return mapFailures(async () => {
        await notion.removeMembers(id, memberIds, memberIds.length);
      });
    },
    /** G7: deletes the group; a refusal (pages without a full-access owner) is GroupDeletionRefused. */
    async notionDeleteGroup(id: string, displayName: string): Promise<'deleted' | 'already-gone'> {
      return mapFailures(() => notion.deleteGroup(id, displayName));
    },
  };
}

export type NotionActivities = ReturnType<typeof createNotionActivities>;
