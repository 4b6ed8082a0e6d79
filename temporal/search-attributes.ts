/**
 * Custom search attributes: how the Temporal UI finds a user's or a group's workflow
 * (SPEC §7). Pure definitions: workflow code imports them too.
 *
 * In the UI's search box, for example: `JcnEmail = "ann@example.com"`,
 * `JcnJumpCloudId = "5f1b…"`, `JcnKind = "user" AND JcnSyncState = "error"`.
 */
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';

export const SEARCH_ATTRIBUTES = {
  /** The connector the workflow belongs to (several connectors may share a cluster). */
  connectorId: defineSearchAttributeKey('JcnConnectorId', SearchAttributeType.KEYWORD),
  /** connector, feed, reconcile, user, group or import. */
  kind: defineSearchAttributeKey('JcnKind', SearchAttributeType.KEYWORD),
  /** The JumpCloud object id of a user or a group. */
  jumpcloudId: defineSearchAttributeKey('JcnJumpCloudId', SearchAttributeType.KEYWORD),
  /** A user's JumpCloud username. */
  username: defineSearchAttributeKey('JcnUsername', SearchAttributeType.KEYWORD),
  /** A user's email, lower-cased (what Notion knows the user by). */
  email: defineSearchAttributeKey('JcnEmail', SearchAttributeType.KEYWORD),
  /** A group's JumpCloud name. */
  groupName: defineSearchAttributeKey('JcnGroupName', SearchAttributeType.KEYWORD),
  /** The Notion id the entity is linked to. */
  notionId: defineSearchAttributeKey('JcnNotionId', SearchAttributeType.KEYWORD),
  /** in-sync, error, deactivated, pending… */
  syncState: defineSearchAttributeKey('JcnSyncState', SearchAttributeType.KEYWORD),
  /** The last reconciliation that brought this entity in sync (progress of `jc-notion sync`). */
  reconcileId: defineSearchAttributeKey('JcnReconcileId', SearchAttributeType.KEYWORD),
  /**
   * Issue 15: the latest reconciliations whose requests the entity settled. A reconciliation
   * counts its own progress by it (`JcnReconcileIds = "<id>"`), which a later one does not erase.
   */
  reconcileIds: defineSearchAttributeKey('JcnReconcileIds', SearchAttributeType.KEYWORD_LIST),
} as const;

/** The CLI's names of the attribute types (`--search-attribute Name=Type`, `--type Type`). */
export const SEARCH_ATTRIBUTE_TYPE_NAMES: Record<SearchAttributeType, string> = {
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.DOUBLE]: 'Double',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.DATETIME]: 'Datetime',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
};

/** `Name=Type` pairs for `temporal server start-dev --search-attribute`. */
export function devServerSearchAttributeFlags(): string[] {
  return Object.values(SEARCH_ATTRIBUTES).map(
    (key) => `${key.name}=${SEARCH_ATTRIBUTE_TYPE_NAMES[key.type]}`,
  );
}

/**
 * What tags an entity workflow (SPEC §7): its connector, its kind and its JumpCloud id. Set when
 * the workflow starts (temporal/entities.ts) and checked by the workflow (workflows/entity.ts).
 */
export function entityTags(kind: 'user' | 'group', connectorId: string, jumpcloudId: string) {
  return [
    { key: SEARCH_ATTRIBUTES.connectorId, value: connectorId },
    { key: SEARCH_ATTRIBUTES.kind, value: kind },
    { key: SEARCH_ATTRIBUTES.jumpcloudId, value: jumpcloudId },
  ] satisfies SearchAttributePair[];
}
