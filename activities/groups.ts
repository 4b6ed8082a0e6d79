/**
 * The group part of a reconciliation (C5 with G1, G6, G7, G10): every group bound to the
 * application, and every group already linked (so that unbinding and deletion are noticed), is
 * handed to its workflow, which reads and compares it and writes only differences.
 */
import { reportProgress } from './progress';
import type { Client } from '@temporalio/client';
import type { JumpCloudClient } from '../api/jumpcloud';
import { mapFailures } from './failures';
import { EntityGateway } from '../temporal/entities';

export interface GroupDispatchInput {
  connectorId: string;
  reconcileId: string;
}

export async function dispatchGroups(
  deps: {
    jumpcloud: JumpCloudClient;
    client: Client;
    appId: string;
    taskQueue: string;
    /** GROUP_DELETION_CONFIRM_DELAY (G7). */
    groupDeletionConfirmMs?: number;
  },
  input: GroupDispatchInput,
): Promise<number> {
  return mapFailures(async () => {
    // A partial listing still names groups to hand over; each group workflow reads its own
    // binding again (and concludes nothing from an incomplete one).
    const bound = (await deps.jumpcloud.readApplicationBindingListing(deps.appId, 'user_group')).items.map(
      (b) => b.id,
    );
    const known: string[] = [];
    const gateway = new EntityGateway(deps.client, deps.taskQueue);
    for await (const group of gateway.find({ connectorId: input.connectorId, kind: 'group' })) {
      // Groups that were unbound or deleted and are settled need nothing more.
      if (group.jumpcloudId && group.syncState !== 'unbound' && group.syncState !== 'deleted')
        known.push(group.jumpcloudId);
    }
    const ids = [...new Set([...bound, ...known])];
    for (const id of ids) {
      await gateway.syncGroup(input.connectorId, id, {
        reason: 'reconcile',
        groupManagement: true,
        reconcileId: input.reconcileId,
        ...(deps.groupDeletionConfirmMs !== undefined
          ? { deletionConfirmMs: deps.groupDeletionConfirmMs }
          : {}),
      });
      reportProgress({ phase: 'dispatching groups' });
    }
    return ids.length;
  });
}
