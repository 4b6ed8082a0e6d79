/**
 * Activities that call Notion: each is one SCIM request (or one batch request), runs on the
 * `-notion` task queue (rate-limited cluster-wide) and is idempotent. Outcomes the workflow decides
 * on (a 409, a vanished id) are results, not failures, so that each step shows in its history.
 */
import { isApiError } from '../api/errors';
import type { NotionScimClient, NotionUser } from '../api/notion';
import type { DesiredNotionUser, NotionUserFacts, UserChanges } from '../workflows/user-plan';
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
  };
}

export type CreateOutcome = { outcome: 'created'; user: NotionUserFacts } | { outcome: 'exists' };

export function createNotionActivities(notion: NotionScimClient) {
  return {
    /** A request permit for a bulk read (ADR 0004): runs on the rate-limited queue, sends nothing. */
    async notionPermit(): Promise<void> {
      return Promise.resolve();
    },
    /** C1: the token works. */
    async notionVerifyCredentials(): Promise<void> {
      return mapFailures(() => notion.checkCredentials());
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
    /** U5: PATCH replace of the differing attributes only. */
    async notionUpdateUser(
      id: string,
      changes: UserChanges,
      userName: string,
    ): Promise<NotionUserFacts | null> {
      return mapFailures(async () => {
        const user = await notion.patchUser(id, changes, userName);
        return user ? toNotionUserFacts(user) : null;
      });
    },
    /** U6: PATCH active=false (never DELETE). */
    async notionDeactivateUser(id: string, userName: string): Promise<'deactivated' | 'already-removed'> {
      return mapFailures(() => notion.deactivateUser(id, userName));
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
  };
}

export type NotionActivities = ReturnType<typeof createNotionActivities>;
