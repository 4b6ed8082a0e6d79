/**
 * The group part of a reconciliation (C5 with G1, G6, G7, G10): every group bound to the
 * application, and every group already linked (so that unbinding and deletion are noticed), is
 * handed to its workflow, which reads and compares it and writes only differences.
 */
import { heartbeat } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { JumpCloudClient } from '../api/jumpcloud';
import { workflowIds } from '../temporal/ids';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { groupWorkflow, syncGroupSignal } from '../workflows/group';
import { mapFailures } from './failures';

export interface GroupDispatchInput {
  connectorId: string;
  reconcileId: string;
}

export async function dispatchGroups(
  deps: { jumpcloud: JumpCloudClient; client: Client; appId: string; taskQueue: string },
  input: GroupDispatchInput,
): Promise<number> {
  return mapFailures(async () => {
    const bound = (await deps.jumpcloud.listApplicationBindings(deps.appId, 'user_group')).map((b) => b.id);
    const known: string[] = [];
    const query = `${SEARCH_ATTRIBUTES.connectorId.name} = "${input.connectorId}" AND ${SEARCH_ATTRIBUTES.kind.name} = "group"`;
    for await (const execution of deps.client.workflow.list({ query })) {
      const id = execution.typedSearchAttributes.get(SEARCH_ATTRIBUTES.jumpcloudId);
      const state = execution.typedSearchAttributes.get(SEARCH_ATTRIBUTES.syncState);
      // Groups that were unbound or deleted and are settled need nothing more.
      if (id && state !== 'unbound' && state !== 'deleted') known.push(id);
    }
    const ids = [...new Set([...bound, ...known])];
    for (const id of ids) {
      await deps.client.workflow.signalWithStart(groupWorkflow, {
        workflowId: workflowIds.group(input.connectorId, id),
        taskQueue: deps.taskQueue,
        args: [{ connectorId: input.connectorId, jumpcloudGroupId: id }],
        signal: syncGroupSignal,
        signalArgs: [{ reason: 'reconcile', groupManagement: true, reconcileId: input.reconcileId }],
      });
      heartbeat({ phase: 'dispatching groups' });
    }
    return ids.length;
  });
}

/** How many entity workflows of `kind` this reconciliation has brought to a settled state. */
export async function countReconciled(
  client: Client,
  connectorId: string,
  reconcileId: string,
  kind: 'user' | 'group',
): Promise<number> {
  const query = `${SEARCH_ATTRIBUTES.connectorId.name} = "${connectorId}" AND ${SEARCH_ATTRIBUTES.kind.name} = "${kind}" AND ${SEARCH_ATTRIBUTES.reconcileId.name} = "${reconcileId}"`;
  return (await client.workflow.count(query)).count;
}
