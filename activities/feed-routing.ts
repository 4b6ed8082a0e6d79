/**
 * C4 routing, pure: which user and group workflows a Directory Insights event concerns. Events are
 * hints (the workflows re-read JumpCloud), so routing only needs to be complete, never exact.
 *
 * Event shapes (reference/jumpcloud-api.md §5): `user_*` and `group_*` carry `resource {type, id}`;
 * `association_change` carries `association {op, connection {from, to}}` whose ends are
 * `{type, object_id}`. Values are compared case-insensitively (Directory Insights lower-cases them
 * on insert; JumpCloud's own dashboard sends upper-case filters), and an association is read in
 * either orientation, since which end is `from` is not documented for every pair.
 */
import { z } from 'zod';

/**
 * How a user target is checked before its workflow is started:
 * - `bound`: the event proves the user is bound (a binding was just added): start its workflow;
 * - `check`: start its workflow only if the user is bound now (or it exists already);
 * - `existing`: only a user this connector already manages can be affected (removals, deletions).
 */
export type UserMode = 'bound' | 'check' | 'existing';

/** When one poll names an entity several times, the mode that starts the most wins. */
export function strongerMode(known: UserMode | undefined, mode: UserMode): UserMode {
  if (known === 'bound' || mode === 'bound') return 'bound';
  return known === 'check' || mode === 'check' ? 'check' : 'existing';
}

export interface UserTarget {
  kind: 'user';
  id: string;
  mode: UserMode;
}

/** The members of a group, resolved against JumpCloud when routing. */
export interface MembersTarget {
  kind: 'members';
  groupId: string;
  mode: UserMode;
}

export interface GroupTarget {
  kind: 'group';
  id: string;
  /** `existing`: a group unbound or deleted matters only if this connector manages it. */
  mode: UserMode;
}

/** An event whose users cannot be resolved any more (a deleted group's members): reconcile. */
export interface ReconcileTarget {
  kind: 'reconcile';
  reason: string;
}

export type RouteTarget = UserTarget | MembersTarget | GroupTarget | ReconcileTarget;

export interface RoutedEvent {
  eventId: string;
  eventType: string;
  /** Removals are batched for the mass-deactivation guard (C6): one event, one decision. */
  removal: boolean;
  targets: RouteTarget[];
}

const resourceSchema = z.looseObject({ id: z.string().min(1), type: z.string().optional() });
const endSchema = z.looseObject({ type: z.string(), object_id: z.string().min(1) });
const associationSchema = z.looseObject({
  op: z.string(),
  connection: z.looseObject({ from: endSchema, to: endSchema }),
});

export interface RawEvent {
  id: string;
  event_type: string;
  [field: string]: unknown;
}

const lower = (value: string | undefined) => (value ?? '').toLowerCase();

/** The targets of one event (none: the event does not concern this application's users or groups). */
export function routeEvent(event: RawEvent, appId: string): RoutedEvent {
  const type = lower(event.event_type);
  const base = { eventId: event.id, eventType: type };
  const none: RoutedEvent = { ...base, removal: false, targets: [] };

  if (type === 'association_change') {
    const parsed = associationSchema.safeParse(event.association);
    if (!parsed.success) return none;
    const { op, connection } = parsed.data;
    const add = lower(op) === 'add';
    const ends = [connection.from, connection.to].map((end) => ({
      type: lower(end.type),
      id: end.object_id,
    }));
    const find = (t: string) => ends.find((end) => end.type === t);
    const app = find('application');
    const user = find('user');
    const groups = ends.filter((end) => end.type === 'user_group');
    const removal = !add;
    if (app) {
      if (app.id.toLowerCase() !== appId.toLowerCase()) return none; // another application's binding
      if (user)
        return {
          ...base,
          removal,
          targets: [{ kind: 'user', id: user.id, mode: add ? 'bound' : 'existing' }],
        };
      const group = groups[0];
      if (!group) return none;
      return {
        ...base,
        removal,
        targets: [
          { kind: 'group', id: group.id, mode: add ? 'bound' : 'existing' },
          { kind: 'members', groupId: group.id, mode: add ? 'bound' : 'existing' },
        ],
      };
    }
    if (user && groups.length === 1) {
      // Membership: the group's Notion members change (G4); the user's scope may too (U1).
      return {
        ...base,
        removal,
        targets: [
          { kind: 'user', id: user.id, mode: add ? 'check' : 'existing' },
          { kind: 'group', id: groups[0]!.id, mode: 'check' },
        ],
      };
    }
    if (groups.length === 2) {
      // Nesting: the parent's resolved members change by the child's members.
      const [parent, child] = [connection.from, connection.to].map((end) => end.object_id);
      return {
        ...base,
        removal,
        targets: [
          { kind: 'group', id: parent!, mode: 'check' },
          { kind: 'members', groupId: child!, mode: add ? 'check' : 'existing' },
        ],
      };
    }
    return none;
  }

  const resource = resourceSchema.safeParse(event.resource);
  if (!resource.success) return none;
  const resourceType = lower(resource.data.type);
  if (type.startsWith('user_') && (resourceType === '' || resourceType === 'user')) {
    // user_create of an unbound user is nothing yet: its binding will come as its own event.
    const leaving = type === 'user_delete' || type === 'user_suspended';
    return {
      ...base,
      removal: leaving,
      targets: [{ kind: 'user', id: resource.data.id, mode: leaving ? 'existing' : 'check' }],
    };
  }
  if (
    type.startsWith('group_') &&
    (resourceType === '' || resourceType.includes('user_group') || resourceType === 'group')
  ) {
    if (type === 'group_delete') {
      return {
        ...base,
        removal: true,
        targets: [
          { kind: 'group', id: resource.data.id, mode: 'existing' },
          { kind: 'reconcile', reason: `user group ${resource.data.id} deleted` },
        ],
      };
    }
    return { ...base, removal: false, targets: [{ kind: 'group', id: resource.data.id, mode: 'check' }] };
  }
  return none;
}

export interface Cursor {
  /** The latest event time seen (ISO). */
  watermark: string;
  /** Ids of the events seen inside the overlap window before the watermark. */
  seen: string[];
}

/**
 * The cursor after a poll: the watermark moves to the newest event seen; the ids kept are those
 * of events the next poll's overlap window will return again (so they are not applied twice).
 */
export function advanceCursor(
  cursor: Cursor,
  events: readonly { id: string; timestamp: string }[],
  overlapMs: number,
): Cursor {
  let watermark = Date.parse(cursor.watermark);
  for (const event of events) {
    const at = Date.parse(event.timestamp);
    if (Number.isFinite(at) && at > watermark) watermark = at;
  }
  const from = watermark - overlapMs;
  const seen = new Set<string>();
  for (const event of events) {
    const at = Date.parse(event.timestamp);
    if (!Number.isFinite(at) || at >= from) seen.add(event.id);
  }
  return { watermark: new Date(watermark).toISOString(), seen: [...seen] };
}

/** Where the next poll starts: the overlap window before the watermark. */
export function pollStart(cursor: Cursor, overlapMs: number): string {
  return new Date(Date.parse(cursor.watermark) - overlapMs).toISOString();
}
