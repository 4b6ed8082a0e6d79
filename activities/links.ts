/**
 * What the group workflows need from the user workflows, through Temporal itself: the Notion ids
 * of provisioned users (the links, from search attributes: G9) and a nudge to users whose scope
 * may have changed (G6/G7: each re-reads JumpCloud and decides).
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { workflowIds } from '../temporal/ids';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import type { DeactivationBatch } from '../workflows/connector-messages';
import { syncUserSignal } from '../workflows/user';

const IN_CHUNK = 100;

/** JumpCloud user id → Notion id, for the users among `jumpcloudUserIds` that are provisioned. */
export async function provisionedNotionIds(
  client: Client,
  connectorId: string,
  jumpcloudUserIds: string[],
): Promise<Record<string, string>> {
  const links: Record<string, string> = {};
  const ids = [...new Set(jumpcloudUserIds)].filter((id) => /^[0-9a-f]{24}$/i.test(id));
  for (let i = 0; i < ids.length; i += IN_CHUNK) {
    const chunk = ids.slice(i, i + IN_CHUNK).map((id) => `"${id}"`);
    const query =
      `${SEARCH_ATTRIBUTES.connectorId.name} = "${connectorId}" AND ${SEARCH_ATTRIBUTES.kind.name} = "user"` +
      ` AND ${SEARCH_ATTRIBUTES.syncState.name} = "in-sync" AND ${SEARCH_ATTRIBUTES.jumpcloudId.name} IN (${chunk.join(', ')})`;
    for await (const execution of client.workflow.list({ query })) {
      const jumpcloudId = execution.typedSearchAttributes.get(SEARCH_ATTRIBUTES.jumpcloudId);
      const notionId = execution.typedSearchAttributes.get(SEARCH_ATTRIBUTES.notionId);
      if (jumpcloudId && notionId) links[jumpcloudId] = notionId;
    }
  }
  return links;
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
  for (const id of new Set(jumpcloudUserIds)) {
    try {
      await client.workflow
        .getHandle(workflowIds.user(connectorId, id))
        .signal(syncUserSignal, { reason, ...(batch ? { batch } : {}) });
      nudged += 1;
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  }
  return nudged;
}
