/** The API clients of one worker process: keep-alive pools shared by all its activities. */
import { CredentialGuard, type CredentialGuardOptions } from '../api/credential-guard';
import type { ApiService } from '../api/errors';
import { JumpCloudClient } from '../api/jumpcloud';
import { NotionScimClient } from '../api/notion';
import type { WorkerConfig } from '../config/config';
import { secretReader } from '../config/secrets';

export interface ApiClients {
  notion: NotionScimClient;
  jumpcloud: JumpCloudClient;
  /** C3: one circuit breaker per service, shared by every client of the process. */
  guards: CredentialGuards;
  close(): Promise<void>;
}

export type CredentialGuards = Record<ApiService, CredentialGuard>;

/** Awaited before each request of a bulk read: a permit from the cluster-wide limit (ADR 0004). */
export interface Pacing {
  notion?: () => Promise<void>;
  jumpcloud?: () => Promise<void>;
}

export function createCredentialGuards(
  config: Pick<WorkerConfig, 'credentialsProbeIntervalMs'>,
  hooks: Omit<CredentialGuardOptions, 'probeIntervalMs'> = {},
): CredentialGuards {
  const options = { ...hooks, probeIntervalMs: config.credentialsProbeIntervalMs };
  return {
    notion: new CredentialGuard('notion', options),
    jumpcloud: new CredentialGuard('jumpcloud', options),
  };
}

export function createApiClients(
  config: WorkerConfig,
  pacing: Pacing = {},
  guards: CredentialGuards = createCredentialGuards(config),
): ApiClients {
  const notion = new NotionScimClient({
    baseUrl: config.notion.scimBaseUrl,
    token: secretReader('NOTION_SCIM_TOKEN', config.notion.token),
    beforeRequest: pacing.notion,
    guard: guards.notion,
  });
  const jumpcloud = new JumpCloudClient({
    baseUrl: config.jumpcloud.baseUrl,
    insightsUrl: config.jumpcloud.insightsUrl,
    apiKey: secretReader('JUMPCLOUD_API_KEY', config.jumpcloud.apiKey),
    orgId: config.jumpcloud.orgId,
    beforeRequest: pacing.jumpcloud,
    guard: guards.jumpcloud,
  });
  return {
    notion,
    jumpcloud,
    guards,
    close: async () => {
      await Promise.all([notion.close(), jumpcloud.close()]);
    },
  };
}
