/**
 * C7 for groups: what the group phase of a reconciliation would do, planned with the same pure
 * planner the group workflows run, from bulk reads, writing nothing. Members are the users already
 * provisioned (G9); users the same run would create join their groups after it.
 */
import type { JumpCloudClient } from '../api/jumpcloud';
import type { NotionScimClient } from '../api/notion';
import type { Client } from '@temporalio/client';
import { planGroup, type GroupOperation, type NotionGroupFacts } from '../workflows/group-plan';
import type { GroupPlanEntry } from '../contracts/reconcile';
import { EntityGateway } from '../temporal/entities';
import { allProvisionedLinks } from './links';

export function describeGroupOperation(operation: GroupOperation, names: Map<string, string>): string {
  const who = (ids: string[]) =>
    ids.length <= 5 ? ids.map((id) => names.get(id) ?? id).join(', ') : `${ids.length} members`;
  switch (operation.kind) {
    case 'create':
      return `create "${operation.displayName}" with ${who(operation.addMemberIds)}`;
    case 'adopt':
      return `adopt the existing Notion group ${operation.notionId}`;
    case 'rename':
      return `rename to "${operation.displayName}"`;
    case 'rename-conflict':
      return `cannot rename to "${operation.displayName}": another Notion group has that name`;
    case 'add-members':
      return `add ${who(operation.memberIds)}`;
    case 'remove-members':
      return `remove ${who(operation.memberIds)}`;
    case 'delete':
      return 'delete the Notion group';
  }
}

export async function planGroupsDryRun(deps: {
  jumpcloud: JumpCloudClient;
  notion: NotionScimClient;
  client: Client;
  appId: string;
  connectorId: string;
}): Promise<GroupPlanEntry[]> {
  const bound = new Set(
    (await deps.jumpcloud.listApplicationBindings(deps.appId, 'user_group')).map((b) => b.id),
  );
  const notionGroups = (await deps.notion.listGroups()).items;
  const byId = new Map<string, NotionGroupFacts>(notionGroups.map((g) => [g.id, g]));

  const linkedGroups = new Map<string, string | undefined>();
  const gateway = new EntityGateway(deps.client);
  for await (const group of gateway.find({ connectorId: deps.connectorId, kind: 'group' })) {
    if (group.jumpcloudId && group.syncState !== 'unbound' && group.syncState !== 'deleted')
      linkedGroups.set(group.jumpcloudId, group.notionId);
  }
  // G9: members are the provisioned users, by their links.
  const links = await allProvisionedLinks(deps.client, deps.connectorId);
  const names = new Map<string, string>();
  for (const { notionId, username } of links.values()) if (username) names.set(notionId, username);

  const plans: GroupPlanEntry[] = [];
  for (const id of new Set([...bound, ...linkedGroups.keys()])) {
    const group = (await deps.jumpcloud.getGroup(id)) ?? null;
    const isBound = Boolean(group) && bound.has(id);
    const members = group && isBound ? await deps.jumpcloud.listGroupMembership(id) : [];
    const desired = members.map((m) => links.get(m.id)?.notionId).filter((n): n is string => Boolean(n));
    const linkedId = linkedGroups.get(id);
    const linked = linkedId ? (byId.get(linkedId) ?? null) : null;
    const sameName = group
      ? (notionGroups.find((g) => g.displayName === group.name && g.id !== linked?.id) ?? null)
      : null;
    const { operations } = planGroup({
      jumpcloud: group,
      bound: isBound,
      desiredMemberIds: desired,
      linked,
      sameName,
    });
    if (operations.length > 0) {
      plans.push({
        jumpcloudId: id,
        name: group?.name,
        operations: operations.map((o) => describeGroupOperation(o, names)),
      });
    }
  }
  return plans;
}
