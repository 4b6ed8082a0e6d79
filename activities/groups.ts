/**
 * The group part of a reconciliation (C5 with G1, G6, G7, G10): every group bound to the
 * application, and every group already linked (so that unbinding and deletion are noticed), is
 * handed to its workflow, which reads and compares it and writes only differences; except the
 * bound groups that bulk listings show in sync (issue 18: an idle reconciliation reads no group
 * by id).
 */
import { Context } from '@temporalio/activity';
import { handOverAll } from './dispatch';
import { reportProgress } from './progress';
import type { Client } from '@temporalio/client';
import type { JumpCloudClient } from '../api/jumpcloud';
import type { NotionScimClient } from '../api/notion';
import { mapFailures } from './failures';
import { EntityGateway } from '../temporal/entities';
import { planGroup } from '../workflows/group-plan';
import { allProvisionedLinks } from './links';
import type { GroupSyncRequest } from '../contracts/group';

export interface GroupDispatchInput {
  connectorId: string;
  reconcileId: string;
}

export interface GroupDispatchDeps {
  jumpcloud: JumpCloudClient;
  notion: NotionScimClient;
  client: Client;
  appId: string;
  taskQueue: string;
  /** The settings every group request carries (`groupRequestSettingsOf`). */
  groupSettings?: Pick<GroupSyncRequest, 'deletionConfirmMs' | 'personalSummaries'>;
}

/** A group workflow as visibility shows it. */
interface KnownGroup {
  syncState?: string;
  notionId?: string;
}

export async function dispatchGroups(deps: GroupDispatchDeps, input: GroupDispatchInput): Promise<number> {
  return mapFailures(async () => {
    // A partial listing still names groups to hand over; each group workflow reads its own
    // binding again (and concludes nothing from an incomplete one).
    const bindings = await deps.jumpcloud.readApplicationBindingListing(deps.appId, 'user_group');
    const bound = bindings.items.map((b) => b.id);
    const known = new Map<string, KnownGroup>();
    const gateway = new EntityGateway(deps.client, deps.taskQueue);
    for await (const group of gateway.find({ connectorId: input.connectorId, kind: 'group' })) {
      // Groups that were unbound or deleted and are settled need nothing more.
      if (group.jumpcloudId && group.syncState !== 'unbound' && group.syncState !== 'deleted')
        known.set(group.jumpcloudId, { syncState: group.syncState, notionId: group.notionId });
    }
    const inSync = bindings.complete
      ? await groupsShownInSync(deps, input.connectorId, bound, known)
      : new Set<string>();
    const ids = [...new Set([...bound, ...known.keys()])].filter((id) => !inSync.has(id));
    await handOverAll(ids, 1, Context.current().cancellationSignal, async (id) => {
      await gateway.syncGroup(input.connectorId, id, {
        reason: 'reconcile',
        groupManagement: true,
        reconcileId: input.reconcileId,
        ...deps.groupSettings,
      });
      reportProgress({ phase: 'dispatching groups' });
    });
    return ids.length;
  });
}

/**
 * Issue 18: the bound groups whose workflow need not be woken, decided from three listings (every
 * JumpCloud group with its name, the application's users with the paths that bind them, and
 * Notion's groups with their members) and the links in visibility, without a request per group.
 * Conservative: a group is left alone only when every listing is complete, its workflow is in sync
 * and linked, and the group planner (the one the workflow runs) plans nothing for it, with its
 * members being the provisioned users among those JumpCloud resolves (G9). Anything else (a
 * rename, a member added or removed on either side, a group missing, an error) is handed over and
 * read by id, as before.
 */
export async function groupsShownInSync(
  deps: GroupDispatchDeps,
  connectorId: string,
  bound: readonly string[],
  known: ReadonlyMap<string, KnownGroup>,
): Promise<Set<string>> {
  const candidates = bound.flatMap((id) => {
    const group = known.get(id);
    return group?.syncState === 'in-sync' && group.notionId ? [{ id, notionId: group.notionId }] : [];
  });
  if (candidates.length === 0) return new Set();
  const groups = await deps.jumpcloud.readGroupListing();
  const users = await deps.jumpcloud.readApplicationUserListing(deps.appId);
  const notionGroups = await deps.notion.listGroups();
  if (!groups.complete || !users.complete || !notionGroups.complete) return new Set();

  const names = new Map(groups.items.map((group) => [group.id, group.name]));
  const notionById = new Map(notionGroups.items.map((group) => [group.id, group]));
  const membersOf = membersFromPaths(users.items);
  const provisioned = await allProvisionedLinks(deps.client, connectorId);

  const inSync = new Set<string>();
  for (const { id, notionId } of candidates) {
    const name = names.get(id);
    const linked = notionById.get(notionId);
    if (name === undefined || !linked || linked.displayName !== name) continue;
    const desiredMemberIds = [...(membersOf.get(id) ?? [])]
      .map((member) => provisioned.get(member)?.notionId)
      .filter((notionId): notionId is string => Boolean(notionId));
    const plan = planGroup({
      jumpcloud: { id, name },
      bound: true,
      desiredMemberIds,
      linked,
      sameName: null,
    });
    if (plan.operations.length === 0 && plan.note === undefined) inSync.add(id);
  }
  return inSync;
}

/**
 * A bound group's resolved members (what `GET /usergroups/{id}/membership` answers: direct and
 * through nested groups) are the application's users with a binding path through it.
 */
export function membersFromPaths(
  users: readonly { id: string; type: string; paths: { id: string; type: string }[][] }[],
): Map<string, Set<string>> {
  const membersOf = new Map<string, Set<string>>();
  for (const user of users) {
    if (user.type !== 'user') continue;
    for (const hop of user.paths.flat())
      if (hop.type === 'user_group') {
        const members = membersOf.get(hop.id) ?? new Set<string>();
        members.add(user.id);
        membersOf.set(hop.id, members);
      }
  }
  return membersOf;
}
