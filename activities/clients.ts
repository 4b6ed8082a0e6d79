/** The API clients of one worker process: keep-alive pools shared by all its activities. */
import { keepAlive } from './progress';
import type { Client } from '@temporalio/client';
import { CredentialGuard, type CredentialGuardOptions } from '../api/credential-guard';
import type { ApiService } from '../api/errors';
import type { ResponseObserver, WriteGate } from '../api/http';
import { JumpCloudClient } from '../api/jumpcloud';
import { NotionScimClient } from '../api/notion';
import type { WorkerConfig } from '../config/config';
import type { UserPolicy } from '../contracts/user';
import type { GroupSyncRequest } from '../contracts/group';
import { secretReader } from '../config/secrets';
import type { PacedService } from '../contracts/pacer';
import { leasePermits, leaseSize, PermitPool, takePermit } from './permits';

export interface ApiClients {
  notion: NotionScimClient;
  jumpcloud: JumpCloudClient;
  /** C3: one circuit breaker per service, shared by every client of the process. */
  guards: CredentialGuards;
  /** Issue 17: the metrics' observer, passed on to the clients of bulk reads. */
  onResponse?: ResponseObserver;
  /** C2: the process's check before a Notion write (refused once the connector is deactivated). */
  notionWrites?: WriteGate;
  close(): Promise<void>;
}

export type CredentialGuards = Record<ApiService, CredentialGuard>;

/** Awaited before each request of a bulk read: a permit from the cluster-wide limit (ADR 0004). */
export interface Pacing {
  notion?: () => Promise<void>;
  jumpcloud?: () => Promise<void>;
  /** Issue 15: how a bulk read's pages are retried inside the clients. */
  pageRetry?: { attempts: number; onWait?: (delayMs: number) => void };
  /** Issue 17: told each request's outcome (the worker's metrics). */
  onResponse?: ResponseObserver;
}

/**
 * A page of a bulk read is tried up to 8 times (about a minute of backoff, or the services'
 * Retry-After) before the activity fails and Temporal retries it: under a 15% error rate a listing
 * of 200 pages then fails about once in 20,000 runs, and at 30% (the fault storm of issue 15) about once in 75 — when it does, the activity is retried, never given up.
 */
export const BULK_PAGE_ATTEMPTS = 8;

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
  notionWrites?: WriteGate,
): ApiClients {
  const notion = new NotionScimClient({
    baseUrl: config.notion.scimBaseUrl,
    token: secretReader('NOTION_SCIM_TOKEN', config.notion.token, config.secretFiles.NOTION_SCIM_TOKEN),
    beforeRequest: pacing.notion,
    pageRetry: pacing.pageRetry,
    guard: guards.notion,
    writeGate: notionWrites,
    onResponse: pacing.onResponse,
  });
  const jumpcloud = new JumpCloudClient({
    baseUrl: config.jumpcloud.baseUrl,
    insightsUrl: config.jumpcloud.insightsUrl,
    apiKey: secretReader('JUMPCLOUD_API_KEY', config.jumpcloud.apiKey, config.secretFiles.JUMPCLOUD_API_KEY),
    orgId: config.jumpcloud.orgId,
    beforeRequest: pacing.jumpcloud,
    pageRetry: pacing.pageRetry,
    guard: guards.jumpcloud,
    onResponse: pacing.onResponse,
  });
  return {
    notion,
    jumpcloud,
    guards,
    onResponse: pacing.onResponse,
    notionWrites,
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
  const pools = {
    notion: bulkPool(deps, 'notion', deps.config.notion.maxRps),
    jumpcloud: bulkPool(deps, 'jumpcloud', deps.config.jumpcloud.maxRps),
  };
  const paced = createApiClients(
    deps.config,
    {
      notion: () => takePermit(pools.notion),
      jumpcloud: () => takePermit(pools.jumpcloud),
      pageRetry: { attempts: BULK_PAGE_ATTEMPTS, onWait: () => keepAlive() },
      onResponse: deps.clients.onResponse,
    },
    deps.clients.guards,
    deps.clients.notionWrites,
  );
  try {
    return await fn(paced);
  } finally {
    // Leases still under way are not waited for: their permits go unused.
    for (const pool of Object.values(pools)) pool.close();
    await paced.close();
  }
}

/** A bulk read's own pool, asking ahead (ADR 0012). */
function bulkPool(deps: { config: WorkerConfig; temporal: Client }, service: PacedService, maxRps: number) {
  return new PermitPool(
    leaseSize(maxRps),
    (count, signal) => leasePermits(deps.temporal, deps.config, { service, count }, signal),
    { prefetch: true },
  );
}

/** The worker's settings that shape a user (SPEC §2), sent with each request: workflows read no environment. */
export function userPolicyOf(config: WorkerConfig): UserPolicy {
  return {
    usernameSource: config.usernameSource,
    protectedUsers: config.notion.protectedUsers,
    personalSummaries: config.privacy.summaries === 'plain',
  };
}

/**
 * The worker's settings every group request carries (SPEC §2; workflows read no environment):
 * GROUP_DELETION_CONFIRM_DELAY (G7) and UI_SUMMARIES_PII (issue 19).
 */
export function groupRequestSettingsOf(
  config: WorkerConfig,
): Pick<GroupSyncRequest, 'deletionConfirmMs' | 'personalSummaries'> {
  return {
    ...(config.groupDeletionConfirmMs !== undefined
      ? { deletionConfirmMs: config.groupDeletionConfirmMs }
      : {}),
    personalSummaries: config.privacy.summaries === 'plain',
  };
}
