/**
 * The Directory Insights event journal: every mutation made through the API appends its event;
 * `POST /events` and `/events/count` query it with the rules of the real service (PS-DI):
 * `service` + `start_time` required, `limit` default 1000 / max 10,000, `sort` ASC|DESC
 * (anything else silently ASC), `search_after` = `[timestamp ms, id]` of the last row,
 * `search_term` {and|or|not: [{field: value | [values]}]} with dot paths, matched
 * case-insensitively (DI lower-cases values on insert).
 *
 * Late delivery: with a delay set, an event stays invisible to queries until `delay` ms after
 * its timestamp (which stays the time of the mutation), as when the real pipeline lags.
 *
 * Raw events (a test control, `appendRaw`): an object served verbatim, as the real service might
 * serve a malformed event (no `timestamp`, no `id`…). It is placed at the time it was appended
 * (its own `timestamp`, if any, is not read), so queries from an earlier start time return it in
 * order among the others; it is not part of snapshots (they hold the emulator's own model).
 */
import { z } from 'zod';
import { badRequest } from './errors';
import { asText } from './query';

/** A Directory Insights event (`additionalProperties: true` in the spec). */
export interface InsightsEvent {
  id: string;
  event_type: string;
  timestamp: string;
  service: string;
  [field: string]: unknown;
}

/** An event with its time (ms) and the time from which queries see it. */
export interface JournalEntry {
  event: InsightsEvent;
  at: number;
  visibleAt: number;
}
/** A journal entry; `raw` ones were appended verbatim by a test and may not fit `InsightsEvent`. */
type Entry = JournalEntry & { raw?: true };

export const DI_SERVICES = [
  'alerts',
  'all',
  'directory',
  'ldap',
  'mdm',
  'notifications',
  'object_storage',
  'password_manager',
  'radius',
  'reports',
  'saas_app_management',
  'software',
  'sso',
  'systems',
  'access_management',
  'asset_management',
] as const;

export const DEFAULT_LIMIT = 1000;
export const MAX_LIMIT = 10_000;

/** Fields that `search_term` cannot use (PS-DI "Search Queries Not Supported"). */
const UNSEARCHABLE = new Set(['changes', 'useragent', 'system_timestamp']);

/** Top-level fields the directory events carry; a `fields` list naming none of them is a 400. */
const KNOWN_FIELDS = new Set([
  'id',
  'event_type',
  'timestamp',
  'service',
  'organization',
  'client_ip',
  'auth_method',
  'success',
  'provider',
  '@version',
  'resource',
  'changes',
  'initiated_by',
  'association',
  'correlation',
  'application',
  'message_chain',
  'error_message',
  'geoip',
  'useragent',
  'mfa',
  'username',
]);

const rfc3339 = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i, 'must be an RFC3339 time')
  .refine((value) => !Number.isNaN(Date.parse(value)), 'must be an RFC3339 time');

type Term = Record<string, unknown>;
const termListSchema = z.union([
  z.array(z.record(z.string(), z.unknown())),
  z.record(z.string(), z.unknown()),
]);
const searchTermSchema = z
  .object({ and: termListSchema.optional(), or: termListSchema.optional(), not: termListSchema.optional() })
  .strict();

export const eventQuerySchema = z.object({
  service: z.array(z.enum(DI_SERVICES, { error: `service must be among: ${DI_SERVICES.join(', ')}` })).min(1),
  start_time: rfc3339,
  end_time: rfc3339.optional(),
  // Nonsensical limits and sorts fall back silently (PS-DI), so they are not validated here.
  limit: z.unknown().optional(),
  sort: z.unknown().optional(),
  skip: z.number().int().min(0).optional(),
  search_after: z.array(z.union([z.string(), z.number()])).optional(),
  search_term: searchTermSchema.optional(),
  fields: z.array(z.string()).optional(),
  q: z.string().optional(),
  exact_match: z.string().optional(),
});
export type EventQuery = z.infer<typeof eventQuerySchema>;

export interface EventPage {
  events: InsightsEvent[];
  limit: number;
  sort: 'ASC' | 'DESC';
  /** `[timestamp ms, id]` of the last row (echoes the request's cursor when the page is empty). */
  searchAfter: (number | string)[];
}

export class EventJournal {
  /** Ordered by (timestamp, id). */
  private entries: Entry[] = [];
  private delay = 0;
  private changes = 0;

  /** Changes whenever the journal or its delay does. */
  get revision(): number {
    return this.changes;
  }

  get delayMs(): number {
    return this.delay;
  }

  setDelay(ms: number): void {
    this.delay = ms;
    this.changes += 1;
  }

  clear(): void {
    this.entries = [];
    this.delay = 0;
    this.changes += 1;
  }

  /** Every entry but the raw ones, in (time, id) order (for snapshots). */
  entryList(): JournalEntry[] {
    return this.entries
      .filter((entry) => !entry.raw)
      .map(({ event, at, visibleAt }) => ({ event, at, visibleAt }));
  }

  /** Replaces the journal (a restored snapshot's). */
  load(entries: readonly JournalEntry[], delayMs: number): void {
    this.entries = entries.map((entry) => ({ ...entry })).sort(compareEntries);
    this.delay = delayMs;
    this.changes += 1;
  }

  get size(): number {
    return this.entries.length;
  }

  all(): InsightsEvent[] {
    return this.entries.map((entry) => entry.event);
  }

  append(event: InsightsEvent, at: number): void {
    this.insert({ event, at, visibleAt: at + this.delay });
  }

  /**
   * Appends `event` verbatim (a test control): served as it is, whatever it lacks, at time `at`.
   * Among events of the same millisecond it sorts by its id (none sorts first).
   */
  appendRaw(event: Record<string, unknown>, at: number): void {
    this.insert({ event: event as InsightsEvent, at, visibleAt: at + this.delay, raw: true });
  }

  private insert(entry: Entry): void {
    // Mutations arrive in time order; a clock step back still keeps the journal ordered.
    let index = this.entries.length;
    while (index > 0 && compareEntries(this.entries[index - 1]!, entry) > 0) index -= 1;
    this.entries.splice(index, 0, entry);
    this.changes += 1;
  }

  query(query: EventQuery, now: number = Date.now()): EventPage {
    const limit = normalizeLimit(query.limit);
    const sort = normalizeSort(query.sort);
    const fields = query.fields;
    if (fields !== undefined && !fields.some((field) => KNOWN_FIELDS.has(field.split('.')[0] ?? '')))
      throw badRequest('fields must name at least one known event field');
    const cursor = parseSearchAfter(query.search_after);
    const matched = this.matching(query, now, sort, cursor);
    const page = matched.slice(query.skip ?? 0, (query.skip ?? 0) + limit);
    const last = page[page.length - 1];
    return {
      events: page.map((entry) => (fields ? project(entry.event, fields) : entry.event)),
      limit,
      sort,
      searchAfter: last ? [last.at, entryId(last)] : (query.search_after ?? []),
    };
  }

  count(query: EventQuery, now: number = Date.now()): number {
    return this.matching(query, now, 'ASC', undefined).length;
  }

  private matching(
    query: EventQuery,
    now: number,
    sort: 'ASC' | 'DESC',
    cursor: { at: number; id: string } | undefined,
  ): Entry[] {
    const start = Date.parse(query.start_time);
    const end = query.end_time === undefined ? Number.POSITIVE_INFINITY : Date.parse(query.end_time);
    if (start > now) throw badRequest('start_time must not be in the future');
    if (end < start) throw badRequest('end_time must be after start_time');
    const services = new Set<string>(query.service);
    const anyService = services.has('all');
    const q = query.q?.toLowerCase();

    const result: Entry[] = [];
    for (let index = firstAtOrAfter(this.entries, start); index < this.entries.length; index += 1) {
      const entry = this.entries[index]!;
      if (entry.at > end) break;
      if (entry.visibleAt > now) continue;
      if (!anyService && !services.has(entry.event.service)) continue;
      if (cursor) {
        const order = compareKey(entry.at, entryId(entry), cursor.at, cursor.id);
        if (sort === 'ASC' ? order <= 0 : order >= 0) continue;
      }
      if (query.search_term && !matchConjunctions(entry.event, query.search_term)) continue;
      if (q && !JSON.stringify(entry.event).toLowerCase().includes(q)) continue;
      result.push(entry);
    }
    if (sort === 'DESC') result.reverse();
    return result;
  }
}

function normalizeLimit(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) return DEFAULT_LIMIT;
  return Math.min(value, MAX_LIMIT);
}

function normalizeSort(value: unknown): 'ASC' | 'DESC' {
  return typeof value === 'string' && value.toUpperCase() === 'DESC' ? 'DESC' : 'ASC';
}

function parseSearchAfter(value: (string | number)[] | undefined): { at: number; id: string } | undefined {
  if (!value || value.length === 0) return undefined;
  const [at, id] = value;
  const ms = typeof at === 'number' ? at : Number(at);
  if (!Number.isFinite(ms)) throw badRequest('search_after must be the X-Search_after value of a response');
  return { at: ms, id: id === undefined ? '' : String(id) };
}

function compareKey(atA: number, idA: string, atB: number, idB: string): number {
  if (atA !== atB) return atA - atB;
  return idA < idB ? -1 : idA > idB ? 1 : 0;
}

function compareEntries(a: Entry, b: Entry): number {
  return compareKey(a.at, entryId(a), b.at, entryId(b));
}

/** The id an entry sorts by (a raw event's may be missing or not a string). */
function entryId(entry: Entry): string {
  const id: unknown = entry.event.id;
  return typeof id === 'string' ? id : id === undefined || id === null ? '' : JSON.stringify(id);
}

function firstAtOrAfter(entries: Entry[], at: number): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (entries[middle]!.at < at) low = middle + 1;
    else high = middle;
  }
  return low;
}

// ---- search_term ------------------------------------------------------------------------------

function asTerms(list: unknown): Term[] {
  if (Array.isArray(list)) return list as Term[];
  // An object is read as a list of single-field terms.
  if (list && typeof list === 'object')
    return Object.entries(list as Term).map(([field, value]) => ({ [field]: value }));
  return [];
}

function matchConjunctions(event: InsightsEvent, term: Term): boolean {
  if (term.and !== undefined && !asTerms(term.and).every((t) => matchTerm(event, t))) return false;
  if (term.or !== undefined) {
    const terms = asTerms(term.or);
    if (terms.length > 0 && !terms.some((t) => matchTerm(event, t))) return false;
  }
  if (term.not !== undefined && asTerms(term.not).some((t) => matchTerm(event, t))) return false;
  return true;
}

/** A term object: every key must hold (a field path, or a nested `and`/`or`/`not`). */
function matchTerm(event: InsightsEvent, term: Term): boolean {
  return Object.entries(term).every(([field, wanted]) => {
    if (field === 'and' || field === 'or' || field === 'not')
      return matchConjunctions(event, { [field]: wanted });
    if (UNSEARCHABLE.has(field.split('.')[0] ?? '')) return false;
    const values = valuesAt(event, field.split('.'));
    const candidates = Array.isArray(wanted) ? wanted : [wanted];
    return candidates.some((candidate) => values.some((value) => sameValue(value, candidate)));
  });
}

function valuesAt(value: unknown, path: string[]): unknown[] {
  if (Array.isArray(value)) return value.flatMap((item) => valuesAt(item, path));
  if (path.length === 0) return [value];
  if (!value || typeof value !== 'object') return [];
  const [head, ...rest] = path;
  return valuesAt((value as Record<string, unknown>)[head!], rest);
}

function sameValue(actual: unknown, wanted: unknown): boolean {
  if (actual === null || actual === undefined) return wanted === null;
  if (typeof actual === 'object' || (wanted !== null && typeof wanted === 'object')) return false;
  return asText(actual).toLowerCase() === asText(wanted).toLowerCase();
}

// ---- fields -----------------------------------------------------------------------------------

function project(event: InsightsEvent, fields: string[]): InsightsEvent {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const path = field.split('.');
    let source: unknown = event;
    for (const key of path) source = source && typeof source === 'object' ? (source as Term)[key] : undefined;
    if (source === undefined) continue;
    let target = out;
    for (const key of path.slice(0, -1)) {
      const next = target[key];
      target = (next && typeof next === 'object' ? next : (target[key] = {})) as Record<string, unknown>;
    }
    target[path[path.length - 1]!] = source;
  }
  return out as InsightsEvent;
}
