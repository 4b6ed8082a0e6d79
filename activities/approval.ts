/**
 * C6, the activity side of the mass-deactivation guard. The decisions are the connector
 * workflow's (its Updates); held deactivations are held by the user workflows themselves (status
 * `held`, found through the `JcnSyncState` search attribute), so the list scales with the
 * directory and never travels through one workflow's history.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { workflowIds } from '../temporal/ids';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { syncUserSignal } from '../workflows/user';

export interface HeldUser {
  jumpcloudUserId: string;
  username?: string;
  email?: string;
}

/** The users whose deactivation awaits an admin's decision. */
export async function heldUsers(client: Client, connectorId: string): Promise<HeldUser[]> {
  const query =
    `${SEARCH_ATTRIBUTES.connectorId.name} = "${connectorId}" AND ${SEARCH_ATTRIBUTES.kind.name} = "user"` +
    ` AND ${SEARCH_ATTRIBUTES.syncState.name} = "held"`;
  const users: HeldUser[] = [];
  for await (const execution of client.workflow.list({ query })) {
    const id = execution.typedSearchAttributes.get(SEARCH_ATTRIBUTES.jumpcloudId);
    if (!id) continue;
    users.push({
      jumpcloudUserId: id,
      username: execution.typedSearchAttributes.get(SEARCH_ATTRIBUTES.username),
      email: execution.typedSearchAttributes.get(SEARCH_ATTRIBUTES.email),
    });
  }
  return users;
}

/**
 * `approve`: each held user re-reads JumpCloud and is deactivated if still out of scope (a user
 * back in scope meanwhile is simply kept). `reject`: the held deactivations are dropped; a later
 * reconciliation proposes them again while the users stay out of scope.
 */
export async function releaseHeldDeactivations(
  client: Client,
  connectorId: string,
  decision: 'approve' | 'reject',
): Promise<number> {
  let released = 0;
  for (const user of await heldUsers(client, connectorId)) {
    try {
      await client.workflow
        .getHandle(workflowIds.user(connectorId, user.jumpcloudUserId))
        .signal(syncUserSignal, {
          reason: decision === 'approve' ? 'deactivation approved' : 'deactivation rejected',
          deactivation: decision === 'approve' ? 'approved' : 'rejected',
        });
      released += 1;
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  }
  return released;
}
