/** The API clients of one worker process: keep-alive pools shared by all its activities. */
import { JumpCloudClient } from '../api/jumpcloud';
import { NotionScimClient } from '../api/notion';
import type { WorkerConfig } from '../config/config';
import { secretReader } from '../config/secrets';

export interface ApiClients {
  notion: NotionScimClient;
  jumpcloud: JumpCloudClient;
  close(): Promise<void>;
}

/** Awaited before each request of a bulk read: a permit from the cluster-wide limit (ADR 0004). */
export interface Pacing {
  notion?: () => Promise<void>;
  jumpcloud?: () => Promise<void>;
}

export function createApiClients(config: WorkerConfig, pacing: Pacing = {}): ApiClients {
  const notion = new NotionScimClient({
    baseUrl: config.notion.scimBaseUrl,
    token: secretReader('NOTION_SCIM_TOKEN', config.notion.token),
    beforeRequest: pacing.notion,
  });
  const jumpcloud = new JumpCloudClient({
    baseUrl: config.jumpcloud.baseUrl,
    insightsUrl: config.jumpcloud.insightsUrl,
    apiKey: secretReader('JUMPCLOUD_API_KEY', config.jumpcloud.apiKey),
    orgId: config.jumpcloud.orgId,
    beforeRequest: pacing.jumpcloud,
  });
  return {
    notion,
    jumpcloud,
    close: async () => {
      await Promise.all([notion.close(), jumpcloud.close()]);
    },
  };
}
