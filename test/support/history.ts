/** Issue 18: what a workflow's history records besides its activities: patch markers and upserts. */
import type { temporal as proto } from '@temporalio/proto';

/** The search attribute sdk-core upserts with every patch marker it records. */
export const TEMPORAL_CHANGE_VERSION = 'TemporalChangeVersion';

/** The patch ids of a history's patch markers, in order. */
export function patchMarkers(history: proto.api.history.v1.IHistory): string[] {
  return (history.events ?? []).flatMap((event) => {
    const data = event.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data;
    return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id] : [];
  });
}

/** The search attributes each upsert of a history sets, in order (names sorted). */
export function upsertedAttributes(history: proto.api.history.v1.IHistory): string[][] {
  return (history.events ?? []).flatMap((event) => {
    const fields = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
    return fields ? [Object.keys(fields).sort()] : [];
  });
}
