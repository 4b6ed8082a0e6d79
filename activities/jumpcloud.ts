/**
 * Activities that call JumpCloud: each is one request or one paged listing, runs on the
 * `-jumpcloud` task queue (rate-limited cluster-wide) and only reads, except for import.
 */
import type { JumpCloudApplication, JumpCloudClient, JumpCloudUser } from '../api/jumpcloud';
import type { JumpCloudGroupFacts } from '../workflows/group-plan';
import type { JumpCloudUserFacts } from '../workflows/user-plan';
import { ApiError, isApiError } from '../api/errors';
import { mapFailures } from './failures';
import { createJumpCloudImportActivities } from './jumpcloud-import';
import { isJumpCloudId } from '../contracts/shared';
import type { SearchKeys } from '../temporal/search-keys';

/**
 * What the planner needs of a JumpCloud user, with the hashes to publish instead of its email
 * and username when search attributes are hashed (issue 16).
 */
export function toJumpCloudUserFacts(
  user: JumpCloudUser,
  keys: SearchKeys = () => undefined,
): JumpCloudUserFacts {
  const { id, username, email, firstname, lastname, state } = user;
  const hashed = keys('username', username);
  return {
    id,
    username,
    email,
    firstname,
    lastname,
    state,
    ...(hashed ? { searchKeys: { username: hashed, email: keys('email', email) } } : {}),
  };
}

export function createJumpCloudActivities(
  jumpcloud: JumpCloudClient,
  appId: string,
  keys: SearchKeys = () => undefined,
) {
  /**
   * Issue 14: a 404 is taken as "deleted" only while the same organisation still answers for the
   * Notion application. A wrong JUMPCLOUD_ORG_ID, or a proxy or an outage page answering 404,
   * makes every read 404: that is an error to fix, never a reason to deactivate or delete.
   */
  async function confirmNotFound(operation: string, id: string): Promise<void> {
    try {
      await jumpcloud.getApplication(appId);
    } catch (error) {
      if (!isApiError(error, 'NotFound')) throw error;
      throw new ApiError({
        service: 'jumpcloud',
        operation,
        entity: id,
        class: 'permanent',
        code: 'ApplicationNotFound',
        status: 404,
        detail: `not found, and neither is the Notion application ${appId}: JUMPCLOUD_ORG_ID or JUMPCLOUD_APP_ID is wrong, or something in front of JumpCloud answers 404; nothing is taken as deleted`,
      });
    }
  }

  return {
    ...createJumpCloudImportActivities(jumpcloud),
    /** A request permit for a bulk read (ADR 0004): runs on the rate-limited queue, sends nothing. */
    async jumpcloudPermit(): Promise<void> {
      return Promise.resolve();
    },
    /** C1: the API key works and the Notion application exists. */
    async jumpcloudVerifyApplication(): Promise<JumpCloudApplication> {
      return mapFailures(() => jumpcloud.getApplication(appId, { probe: true }), { credentialsFinal: true });
    },
    /** The user as JumpCloud has it now; null once deleted (a 404 the application read confirms). */
    async jumpcloudGetUser(id: string): Promise<JumpCloudUserFacts | null> {
      return mapFailures(async () => {
        const user = await jumpcloud.getUser(id);
        if (user) return toJumpCloudUserFacts(user, keys);
        await confirmNotFound('read user', id);
        return null;
      });
    },
    /** C8: a user by JumpCloud id, username or email (null: no such user). */
    async jumpcloudFindUser(ref: string): Promise<{ id: string; username: string } | null> {
      return mapFailures(async () => {
        const value = ref.trim();
        const found = isJumpCloudId(value)
          ? await jumpcloud.getUser(value)
          : value.includes('@')
            ? await jumpcloud.findUserByEmail(value)
            : (await jumpcloud.listUsers(`username:$eq:${value}`)).find((u) => u.username === value);
        return found ? { id: found.id, username: found.username } : null;
      });
    },
    /** A user group as JumpCloud has it now; null once deleted (a 404 the application read confirms). */
    async jumpcloudGetGroup(id: string): Promise<JumpCloudGroupFacts | null> {
      return mapFailures(async () => {
        const group = await jumpcloud.getGroup(id);
        if (group) {
          const searchKey = keys('groupName', group.name);
          return { id: group.id, name: group.name, ...(searchKey ? { searchKey } : {}) };
        }
        await confirmNotFound('read group', id);
        return null;
      });
    },
    /** G1: the group's users as JumpCloud resolves them (direct and nested). */
    async jumpcloudGroupMemberIds(id: string): Promise<string[]> {
      return mapFailures(async () => (await jumpcloud.listGroupMembership(id)).map((member) => member.id));
    },
    /** The ids of the groups a user belongs to, directly or through nesting. */
    async jumpcloudUserGroupIds(userId: string): Promise<string[]> {
      return mapFailures(async () => (await jumpcloud.listUserGroups(userId)).map((group) => group.id));
    },
    /** The application's direct bindings: user groups and users (U1, G1). */
    async jumpcloudAppBindings(targets: 'user' | 'user_group'): Promise<string[]> {
      return mapFailures(async () =>
        (await jumpcloud.listApplicationBindings(appId, targets)).map((binding) => binding.id),
      );
    },
  };
}

export type JumpCloudActivities = ReturnType<typeof createJumpCloudActivities>;
