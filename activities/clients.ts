/** The API clients of one worker process: keep-alive pools shared by all its activities. */
import { heartbeat } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { CredentialGuard, type CredentialGuardOptions } from '../api/credential-guard';
import type { ApiService } from '../api/errors';
import { JumpCloudClient } from '../api/jumpcloud';
import { NotionScimClient } from '../api/notion';
import type { WorkerConfig } from '../config/config';
import type { UserPolicy } from '../contracts/user';
import { secretReader } from '../config/secrets';
import type { PacedService } from '../contracts/pacer';
import { leasePermits, leaseSize, PermitPool } from './permits';

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

/**
 * Runs a bulk-reading activity body with clients whose every request first takes a permit leased
 * from the connector's pacer workflow (ADR 0012), so bulk reads share the cluster-wide budget
 * with single requests and cost the calling workflow's history nothing per request. The
 * credential guards are the process's own (C3); each permit taken is also a heartbeat.
 */
export async function withPacedClients<T>(
  deps: { config: WorkerConfig; temporal: Client; clients: ApiClients },
  fn: (clients: ApiClients) => Promise<T>,
): Promise<T> {
  const pool = (service: PacedService, maxRps: number) => {
    const permits = new PermitPool(leaseSize(maxRps), (count) =>
      leasePermits(deps.temporal, deps.config, { service, count }),
    );
    return async () => {
      heartbeat();
      await permits.take();
    };
  };
  const paced = createApiClients(
    deps.config,
    {
      notion: pool('notion', deps.config.notion.maxRps),
      jumpcloud: pool('jumpcloud', deps.config.jumpcloud.maxRps),
    },
    deps.clients.guards,
  );
  try {
    return await fn(paced);
  } finally {
    await paced.close();
  }
}

/** The worker's settings that shape a user (SPEC §2), sent with each request: workflows read no environment. */
export function userPolicyOf(config: WorkerConfig): UserPolicy {
  return { usernameSource: config.usernameSource, protectedUsers: config.notion.protectedUsers };
}
