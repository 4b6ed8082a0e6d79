/**
 * C6, the activity side of the mass-deactivation guard. The decisions are the connector
 * workflow's (its Updates); held deactivations are held by the user workflows themselves (status
 * `held`, found through the `JcnSyncState` search attribute), so the list scales with the
 * directory and never travels through one workflow's history.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { type Client } from '@temporalio/client';
import { statusQuery } from '../contracts/connector';
import { EntityGateway } from '../temporal/entities';
import { workflowIds } from '../temporal/ids';

/** Signals sent at once when releasing held changes. */
const SIGNAL_CONCURRENCY = 32;

export interface HeldUser {
  jumpcloudUserId: string;
  username?: string;
  email?: string;
}

/** The users whose deactivation awaits an admin's decision. */
export async function heldUsers(client: Client, connectorId: string): Promise<HeldUser[]> {
  const users: HeldUser[] = [];
  for await (const user of new EntityGateway(client).find({ connectorId, kind: 'user', syncState: 'held' }))
    if (user.jumpcloudId)
      users.push({ jumpcloudUserId: user.jumpcloudId, username: user.username, email: user.email });
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
  expected?: number,
): Promise<number> {
  let released = 0;
  const gateway = new EntityGateway(client);
  const held = await heldUsers(client, connectorId);
  const groups: string[] = [];
  for await (const group of gateway.find({ connectorId, kind: 'group', syncState: 'held' }))
    if (group.jumpcloudId) groups.push(group.jumpcloudId);
  // The admin decides on the set `status` showed: if it has changed since, nothing is released.
  if (expected !== undefined && held.length + groups.length !== expected)
    throw ApplicationFailure.nonRetryable(
      `${held.length + groups.length} change(s) are held now, not the ${expected} expected: nothing was ${decision === 'approve' ? 'approved' : 'rejected'}; review them again with \`jc-notion status\``,
      'HeldSetChanged',
    );
  const requests: (() => Promise<boolean>)[] = held.map(
    (user) => () =>
      gateway.signalUser(connectorId, user.jumpcloudUserId, {
        reason: decision === 'approve' ? 'held change approved' : 'held change rejected',
        deactivation: decision === 'approve' ? ('approved' as const) : ('rejected' as const),
      }),
  );
  // Held group creations and deletions (issue 14): each group reads JumpCloud again first.
  const { groupManagement } =
    groups.length > 0
      ? await client.workflow.getHandle(workflowIds.connector(connectorId)).query(statusQuery)
      : { groupManagement: false };
  for (const id of groups)
    requests.push(() =>
      gateway.signalGroup(connectorId, id, {
        reason: decision === 'approve' ? 'held change approved' : 'held change rejected',
        groupManagement,
        decision: decision === 'approve' ? ('approved' as const) : ('rejected' as const),
      }),
    );
  // A first reconciliation can hold thousands: the signals go out several at a time.
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(SIGNAL_CONCURRENCY, requests.length) }, async () => {
      while (next < requests.length) if (await requests[next++]!()) released += 1;
    }),
  );
  return released;
}
