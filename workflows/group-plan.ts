/**
 * What a managed JumpCloud group should be in Notion, and the fewest operations that make it so
 * (SPEC G1–G5, G7, G9, G10). Pure and deterministic, like the user planner: the group workflow
 * runs it, dry runs run it without executing, unit tests cover it.
 */
import type { GroupSyncRequest } from '../contracts/group';

/** What JumpCloud says about the group now (null: deleted). */
export interface JumpCloudGroupFacts {
  id: string;
  name: string;
  /** Issue 16: the name's keyed hash, published instead of it with `SEARCH_ATTRIBUTES_PII=hashed`. */
  searchKey?: string;
}

/** A Notion group as the planner needs it. */
export interface NotionGroupFacts {
  id: string;
  displayName: string;
  memberIds: string[];
}

export type GroupOperation =
  /** G2: created only with at least one provisioned member; members follow in batches. */
  | { kind: 'create'; displayName: string; addMemberIds: string[] }
  /** G3: an existing Notion group with exactly this name is adopted instead of creating another. */
  | { kind: 'adopt'; notionId: string }
  /** G5: renamed in place, same id. */
  | { kind: 'rename'; notionId: string; displayName: string }
  /** G5: the new name belongs to another Notion group: nothing is overwritten. */
  | { kind: 'rename-conflict'; notionId: string; displayName: string; ownerId: string }
  /** G4/G10: the difference, sent in batches. */
  | { kind: 'add-members'; notionId: string; memberIds: string[] }
  | { kind: 'remove-members'; notionId: string; memberIds: string[] }
  /** G7: deleted in JumpCloud, deleted in Notion. */
  | { kind: 'delete'; notionId: string };

export interface GroupPlanInput {
  /** null: the group was deleted in JumpCloud. */
  jumpcloud: JumpCloudGroupFacts | null;
  /** Bound to the Notion application (G1); an unbound group is not synced at all (G6). */
  bound: boolean;
  /** G1/G9: the Notion ids of its members that are provisioned and in scope, direct and nested. */
  desiredMemberIds: readonly string[];
  /** The linked Notion group, as Notion has it now (null: not linked, or gone). */
  linked: NotionGroupFacts | null;
  /** The Notion group named exactly like the JumpCloud group, if another than the linked one. */
  sameName: NotionGroupFacts | null;
}

export interface GroupPlan {
  operations: GroupOperation[];
  /** Why nothing is done, when nothing is. */
  note?: 'unbound' | 'empty' | 'deleted-unlinked';
}

function difference(desired: readonly string[], actual: readonly string[]) {
  const want = new Set(desired);
  const have = new Set(actual);
  return {
    add: [...want].filter((id) => !have.has(id)).sort(),
    remove: [...have].filter((id) => !want.has(id)).sort(),
  };
}

function membershipOperations(
  notionId: string,
  desired: readonly string[],
  actual: readonly string[],
): GroupOperation[] {
  const { add, remove } = difference(desired, actual);
  return [
    ...(add.length > 0 ? [{ kind: 'add-members' as const, notionId, memberIds: add }] : []),
    ...(remove.length > 0 ? [{ kind: 'remove-members' as const, notionId, memberIds: remove }] : []),
  ];
}

export function planGroup(input: GroupPlanInput): GroupPlan {
  const { jumpcloud, linked, sameName } = input;
  if (!jumpcloud) {
    // G7: a managed group deleted in JumpCloud is deleted in Notion.
    return linked
      ? { operations: [{ kind: 'delete', notionId: linked.id }] }
      : { operations: [], note: 'deleted-unlinked' };
  }
  // G6: an unbound group's sync stops; its Notion group is left exactly as it is.
  if (!input.bound) return { operations: [], note: 'unbound' };

  if (!linked) {
    // G3: takeover by exact name; its membership is managed from then on (foreigners removed).
    if (sameName) {
      return {
        operations: [
          { kind: 'adopt', notionId: sameName.id },
          ...membershipOperations(sameName.id, input.desiredMemberIds, sameName.memberIds),
        ],
      };
    }
    // G2: empty groups are not created.
    if (input.desiredMemberIds.length === 0) return { operations: [], note: 'empty' };
    return {
      operations: [
        {
          kind: 'create',
          displayName: jumpcloud.name,
          addMemberIds: [...new Set(input.desiredMemberIds)].sort(),
        },
      ],
    };
  }

  const operations: GroupOperation[] = [];
  if (linked.displayName !== jumpcloud.name) {
    operations.push(
      sameName && sameName.id !== linked.id
        ? { kind: 'rename-conflict', notionId: linked.id, displayName: jumpcloud.name, ownerId: sameName.id }
        : { kind: 'rename', notionId: linked.id, displayName: jumpcloud.name },
    );
  }
  // G2: a created group that becomes empty stays, empty; G10: drift in Notion is reverted.
  operations.push(...membershipOperations(linked.id, input.desiredMemberIds, linked.memberIds));
  return { operations };
}

/** Splits member changes into batches (G4: never one request per member when many change). */
export function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  const step = Math.max(1, Math.floor(size));
  for (let i = 0; i < items.length; i += step) out.push(items.slice(i, i + step));
  return out;
}

/**
 * Requests that arrived together converge once: the latest wins, every member link is kept, and a
 * `group_delete` event among them still counts.
 */
export function mergeGroupRequests(batch: GroupSyncRequest[]): GroupSyncRequest {
  const request = batch[batch.length - 1]!;
  const reconcileId = [...batch].reverse().find((r) => r.reconcileId)?.reconcileId;
  const provisioned = Object.assign({}, ...batch.map((r) => r.provisioned ?? {})) as Record<string, string>;
  const deletedEvent = batch.some((r) => r.deletedEvent);
  const decision = [...batch].reverse().find((r) => r.decision)?.decision;
  return {
    ...request,
    reconcileId,
    reconcileIds: batch.flatMap((r) => r.reconcileIds ?? (r.reconcileId ? [r.reconcileId] : [])),
    provisioned,
    ...(deletedEvent ? { deletedEvent } : {}),
    ...(decision ? { decision } : {}),
  };
}

/** G7's default GROUP_DELETION_CONFIRM_DELAY. */
export const DEFAULT_DELETION_CONFIRM_MS = 15 * 60_000;

export type DeletionCheck =
  | { kind: 'confirmed' }
  /** Not yet: read again in `recheckInMs`; nothing is changed meanwhile. */
  | { kind: 'unconfirmed'; since: string; until: string; recheckInMs: number };

/**
 * G7 (issue 14): whether a 404 for a managed group is its deletion. One 404 is not: a proxy, an
 * outage page or a wrong organisation answer the same. It is once JumpCloud's `group_delete` event
 * says so, or once the group has stayed missing for the confirmation delay.
 */
export function checkDeletion(input: {
  missingSince?: string;
  deletedEvent?: boolean;
  confirmMs: number;
  now: number;
}): DeletionCheck {
  if (input.deletedEvent) return { kind: 'confirmed' };
  const since = input.missingSince ? Date.parse(input.missingSince) : input.now;
  const due = since + input.confirmMs;
  if (input.missingSince && input.now >= due) return { kind: 'confirmed' };
  return {
    kind: 'unconfirmed',
    since: new Date(since).toISOString(),
    until: new Date(due).toISOString(),
    recheckInMs: Math.max(1_000, due - input.now),
  };
}
