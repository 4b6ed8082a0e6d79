/**
 * What the group workflows need from the user workflows, through Temporal itself: the Notion ids
 * of provisioned users (the links, from search attributes: G9) and a nudge to users whose scope
 * may have changed (G6/G7: each re-reads JumpCloud and decides).
 */
import { type Client } from '@temporalio/client';
import type { DeactivationBatch } from '../contracts/connector';
import { isJumpCloudId } from '../contracts/shared';
import { EntityGateway } from '../temporal/entities';

const IN_CHUNK = 100;

/** JumpCloud user id → Notion id, for the users among `jumpcloudUserIds` that are provisioned. */
export async function provisionedNotionIds(
  client: Client,
  connectorId: string,
  jumpcloudUserIds: string[],
): Promise<Record<string, string>> {
  const links: Record<string, string> = {};
  const ids = [...new Set(jumpcloudUserIds)].filter(isJumpCloudId);
  for (let i = 0; i < ids.length; i += IN_CHUNK) {
    const jumpcloudId = ids.slice(i, i + IN_CHUNK);
    const gateway = new EntityGateway(client);
    for await (const user of gateway.find({ connectorId, kind: 'user', syncState: 'in-sync', jumpcloudId })) {
      if (user.jumpcloudId && user.notionId) links[user.jumpcloudId] = user.notionId;
    }
  }
  return links;
}

/** A provisioned user's link (G9): whom a group's member stands for in Notion. */
export interface ProvisionedLink {
  notionId: string;
  username?: string;
}

/** Every provisioned (in-sync) user of the connector: JumpCloud id → its link. */
export async function allProvisionedLinks(
  client: Client,
  connectorId: string,
): Promise<Map<string, ProvisionedLink>> {
  const links = new Map<string, ProvisionedLink>();
  for await (const user of new EntityGateway(client).find({
    connectorId,
    kind: 'user',
    syncState: 'in-sync',
  }))
    if (user.jumpcloudId && user.notionId)
      links.set(user.jumpcloudId, { notionId: user.notionId, username: user.username });
  return links;
}

/** Another JumpCloud user whose workflow holds a Notion member's link. */
export interface NotionIdOwner {
  jumpcloudId: string;
  username?: string;
}

/**
 * Issue 14: the other users linked to this Notion member. One member is never linked to two
 * JumpCloud users; a user deleted in JumpCloud (U10) no longer holds its member, so a returning
 * employee's new account can take it over.
 */
export async function notionIdOwners(
  client: Client,
  connectorId: string,
  notionId: string,
  jumpcloudUserId: string,
): Promise<NotionIdOwner[]> {
  const owners: NotionIdOwner[] = [];
  for await (const user of new EntityGateway(client).find({ connectorId, kind: 'user', notionId })) {
    if (!user.jumpcloudId || user.jumpcloudId === jumpcloudUserId || !user.running) continue;
    if (user.syncState === 'deleted') continue;
    owners.push({ jumpcloudId: user.jumpcloudId, username: user.username });
  }
  return owners;
}

/** Asks these users' workflows to converge; users never provisioned have none and are skipped. */
export async function nudgeUsers(
  client: Client,
  connectorId: string,
  jumpcloudUserIds: string[],
  reason: string,
  batch?: DeactivationBatch,
): Promise<number> {
  let nudged = 0;
  const gateway = new EntityGateway(client);
  for (const id of new Set(jumpcloudUserIds))
    if (await gateway.signalUser(connectorId, id, { reason, ...(batch ? { batch } : {}) })) nudged += 1;
  return nudged;
}
