/**
 * List parameters of the v1 and v2 APIs: `limit` (default 10, at most 100), `skip`, `sort`
 * (`-` for descending), `fields` projection and `filter`, with their two syntaxes:
 * v1 `field:$op:value` (`$eq $ne $gt $gte $lt $lte`; `filter[0]`… AND, `filter[or][0]`… OR) and
 * v2 `field:op:value` (`eq ne gt ge lt le in search`; repeated filters AND).
 */
import { badRequest } from './errors';

export type QueryString = Record<string, string | string[] | undefined>;
type Row = Record<string, unknown>;
type Predicate = (row: Row) => boolean;

export const MAX_PAGE = 100;

export interface Page {
  limit: number;
  skip: number;
}

/** `limit`/`skip`; a limit above 100 is refused like the real service's "Limited to 100". */
export function parsePage(query: QueryString, defaultLimit = 10): Page {
  const limit = integer(query.limit, 'limit') ?? defaultLimit;
  const skip = integer(query.skip, 'skip') ?? 0;
  if (limit < 0 || limit > MAX_PAGE) throw badRequest(`limit must be between 0 and ${MAX_PAGE}`);
  if (skip < 0) throw badRequest('skip must not be negative');
  return { limit: limit === 0 ? defaultLimit : limit, skip };
}

export function paginate<T>(rows: T[], page: Page): T[] {
  return rows.slice(page.skip, page.skip + page.limit);
}

function integer(value: string | string[] | undefined, name: string): number | undefined {
  const text = Array.isArray(value) ? value[value.length - 1] : value;
  if (text === undefined || text === '') return undefined;
  if (!/^-?\d+$/.test(text)) throw badRequest(`${name} must be an integer`);
  return Number(text);
}

function list(value: string | string[] | undefined, separator?: RegExp): string[] {
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return items.flatMap((item) => (separator ? item.split(separator) : [item])).filter((item) => item !== '');
}

/** Value at a dot path, e.g. `attributes.sudo.enabled`. */
export function valueAt(row: Row, path: string): unknown {
  let value: unknown = row;
  for (const key of path.split('.')) {
    if (!value || typeof value !== 'object') return undefined;
    value = (value as Row)[key];
  }
  return value;
}

/** A field value as filters compare it. */
export function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return value === undefined || value === null ? '' : (JSON.stringify(value) ?? '');
}

function compare(actual: unknown, wanted: string): number {
  if (typeof actual === 'number' || typeof actual === 'boolean') {
    const a = Number(actual);
    const b = wanted === 'true' ? 1 : wanted === 'false' ? 0 : Number(wanted);
    if (!Number.isNaN(b)) return a - b;
  }
  const a = asText(actual);
  return a < wanted ? -1 : a > wanted ? 1 : 0;
}

const V1_OPERATORS: Record<string, (order: number) => boolean> = {
  $eq: (order) => order === 0,
  $ne: (order) => order !== 0,
  $gt: (order) => order > 0,
  $gte: (order) => order >= 0,
  $lt: (order) => order < 0,
  $lte: (order) => order <= 0,
};

function v1Term(term: string): Predicate {
  const match = /^([^:]+):(\$[a-z]+):(.*)$/s.exec(term);
  const operator = match ? V1_OPERATORS[match[2]!] : undefined;
  if (!match || !operator) throw badRequest(`invalid filter '${term}': expected <field>:$<operator>:<value>`);
  const [, field, , value] = match;
  return (row) => operator(compare(valueAt(row, field!), value!));
}

/** v1 filters: `filter` (repeatable) and `filter[N]` AND together; `filter[or][N]` OR together. */
export function v1Filter(query: QueryString): Predicate | undefined {
  const and: Predicate[] = [];
  const or: Predicate[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (key === 'filter' || /^filter\[(and\]\[)?\d+\]$/.test(key)) and.push(...list(value).map(v1Term));
    else if (/^filter\[or\]\[\d+\]$/.test(key)) or.push(...list(value).map(v1Term));
  }
  if (and.length === 0 && or.length === 0) return undefined;
  return (row) => and.every((p) => p(row)) && (or.length === 0 || or.some((p) => p(row)));
}

const V2_OPERATORS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'in', 'search']);

function v2Term(term: string, aliases: Record<string, string>): Predicate {
  const match = /^([^:]+):([a-z]+):(.*)$/s.exec(term);
  if (!match || !V2_OPERATORS.has(match[2]!))
    throw badRequest(`invalid filter '${term}': expected <field>:<operator>:<value>`);
  const [, rawField, operator, value] = match as unknown as [string, string, string, string];
  const field = aliases[rawField] ?? rawField;
  switch (operator) {
    case 'eq':
      return (row) => compare(valueAt(row, field), value) === 0;
    case 'ne':
      return (row) => compare(valueAt(row, field), value) !== 0;
    case 'gt':
      return (row) => compare(valueAt(row, field), value) > 0;
    case 'ge':
      return (row) => compare(valueAt(row, field), value) >= 0;
    case 'lt':
      return (row) => compare(valueAt(row, field), value) < 0;
    case 'le':
      return (row) => compare(valueAt(row, field), value) <= 0;
    case 'in': {
      const values = value.split('|');
      return (row) => values.some((candidate) => compare(valueAt(row, field), candidate) === 0);
    }
    default: {
      const needle = value.toLowerCase();
      return (row) => asText(valueAt(row, field)).toLowerCase().includes(needle);
    }
  }
}

/** v2 filters (repeated `filter` parameters AND together). */
export function v2Filter(query: QueryString, aliases: Record<string, string> = {}): Predicate | undefined {
  const terms = list(query.filter).map((term) => v2Term(term, aliases));
  if (terms.length === 0) return undefined;
  return (row) => terms.every((p) => p(row));
}

/** Sorts by the given fields (`-field` descending); v1 separates them by spaces, v2 by commas. */
export function sortRows<T>(rows: T[], sort: string | string[] | undefined): T[] {
  const keys = list(sort, /[\s,]+/).map((key) =>
    key.startsWith('-') ? { field: key.slice(1), direction: -1 } : { field: key, direction: 1 },
  );
  if (keys.length === 0) return rows;
  return [...rows].sort((a, b) => {
    for (const { field, direction } of keys) {
      const x = valueAt(a as Row, field);
      const y = valueAt(b as Row, field);
      const order = compare(x, asText(y));
      if (order !== 0) return order * direction;
    }
    return 0;
  });
}

/** `fields` projection: only the named fields (and the id field, as MongoDB does). */
export function projector(fields: string | string[] | undefined, idField: string): (row: Row) => Row {
  const names = list(fields, /[\s,]+/);
  if (names.length === 0) return (row) => row;
  const keep = [...new Set([idField, ...names])];
  return (row) => {
    const out: Row = {};
    for (const name of keep) if (row[name] !== undefined) out[name] = row[name];
    return out;
  };
}

export function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
