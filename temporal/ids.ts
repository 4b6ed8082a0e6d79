/**
 * Workflow ids (SPEC §7): every id starts with `jcn/<connector id>/` so that several connectors can
 * share a cluster, and an entity's id contains its JumpCloud id. Pure: workflow code imports it.
 */
export const workflowIds = {
  connector: (connectorId: string) => `jcn/${connectorId}/connector`,
  feed: (connectorId: string) => `jcn/${connectorId}/feed`,
  pacer: (connectorId: string) => `jcn/${connectorId}/pacer`,
  reconcile: (connectorId: string, startedAt: string) => `jcn/${connectorId}/reconcile/${startedAt}`,
  user: (connectorId: string, jumpcloudUserId: string) => `jcn/${connectorId}/user/${jumpcloudUserId}`,
  group: (connectorId: string, jumpcloudGroupId: string) => `jcn/${connectorId}/group/${jumpcloudGroupId}`,
  import: (connectorId: string, importId: string) => `jcn/${connectorId}/import/${importId}`,
};

/** The reconciliation id at the end of a reconciliation's workflow id (on demand or scheduled). */
export function reconcileIdOf(workflowId: string): string {
  return workflowId.slice(workflowId.lastIndexOf('/') + 1);
}
