/**
 * Activities that call Notion: each is one SCIM request (or one batch request), runs on the
 * `-notion` task queue (rate-limited cluster-wide) and is idempotent.
 */
import type { NotionScimClient, NotionUser } from '../api/notion';
import { mapFailures } from './failures';

export function createNotionActivities(notion: NotionScimClient) {
  return {
    /** C1: the token works. */
    async notionVerifyCredentials(): Promise<void> {
      return mapFailures(() => notion.checkCredentials());
    },
    async notionGetUser(id: string): Promise<NotionUser | null> {
      return mapFailures(async () => (await notion.getUser(id)) ?? null);
    },
    async notionFindUserByEmail(email: string): Promise<NotionUser | null> {
      return mapFailures(async () => (await notion.findUserByEmail(email)) ?? null);
    },
  };
}

export type NotionActivities = ReturnType<typeof createNotionActivities>;
