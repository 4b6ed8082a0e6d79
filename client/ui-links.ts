/** Links into the Temporal Web UI (`TEMPORAL_UI_URL`), for the commands that print workflows. */
import type { Config } from '../config/config';

/** A workflow run's history page in the UI (ids are path segments: their slashes are escaped). */
export function workflowUrl(config: Config, workflowId: string, runId?: string): string {
  const base = `${config.temporal.uiUrl}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}
