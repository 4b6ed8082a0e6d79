/**
 * Activities that call JumpCloud: each is one request (paged reads are to take a permit per page), runs
 * on the `-jumpcloud` task queue (rate-limited cluster-wide) and only reads, except for import.
 */
import type { JumpCloudApplication, JumpCloudClient, JumpCloudUser } from '../api/jumpcloud';
import { mapFailures } from './failures';

export function createJumpCloudActivities(jumpcloud: JumpCloudClient, appId: string) {
  return {
    /** C1: the API key works and the Notion application exists. */
    async jumpcloudVerifyApplication(): Promise<JumpCloudApplication> {
      return mapFailures(() => jumpcloud.getApplication(appId));
    },
    async jumpcloudGetUser(id: string): Promise<JumpCloudUser | null> {
      return mapFailures(async () => (await jumpcloud.getUser(id)) ?? null);
    },
  };
}

export type JumpCloudActivities = ReturnType<typeof createJumpCloudActivities>;
