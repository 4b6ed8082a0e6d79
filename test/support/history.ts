/** Issue 18: what a workflow's history records besides its activities: patch markers and upserts. */
import type { temporal as proto } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../../temporal/search-attributes';

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

/**
 * A new entity workflow's first task records its baseline patch's marker alone, sdk-core's
 * `TemporalChangeVersion` upsert first, and no tag upsert after it (the start carried the tags).
 * Returns the upserts after the first, for the caller's own checks.
 */
export function expectBaselineOnly(history: proto.api.history.v1.IHistory, baseline: string): string[][] {
  expect(patchMarkers(history)).toEqual([baseline]);
  const [first, ...after] = upsertedAttributes(history);
  expect(first).toEqual([TEMPORAL_CHANGE_VERSION]);
  expect(after.every((names) => !names.includes(SEARCH_ATTRIBUTES.kind.name))).toBe(true);
  return after;
}
