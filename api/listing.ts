/**
 * A whole paged listing and whether it can be trusted to be whole (issue 14). Offset paging over
 * a directory that changes while it is read skips or repeats entries, and a proxy or an outage
 * can cut a listing short: a listing is complete only when its distinct entries match the total
 * the service announced, the same total on every page. Only a complete listing may prove that
 * something is absent (deleted, unbound); an incomplete one still proves what it holds.
 */
import { z } from 'zod';
import { ApiError, type ApiService } from './errors';

/** A record of a listing that does not fit its schema (issue 15): reported, never a failed page. */
export interface RejectedRecord {
  /** Its id, when it has one (`id`, `_id`). */
  id?: string;
  problem: string;
}

/** Records of a page parsed one by one: those that do not fit are set aside with the reason. */
export interface Records<T> {
  items: T[];
  rejected: RejectedRecord[];
}

/**
 * A zod schema for an array whose records are parsed one by one: one malformed record (an unknown
 * `state`, a missing field) is set aside instead of failing the whole page.
 */
export function recordsOf<T>(item: z.ZodType<T>): z.ZodType<Records<T>> {
  return z.array(z.unknown()).transform((raw) => {
    const out: Records<T> = { items: [], rejected: [] };
    for (const record of raw) {
      const parsed = item.safeParse(record);
      if (parsed.success) out.items.push(parsed.data);
      else out.rejected.push({ id: recordId(record), problem: describeIssue(parsed.error) });
    }
    return out;
  });
}

/** `state: Invalid option…`: the first problem of a record, by field. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || '(record)'}: ${issue.message}` : 'invalid';
}

function recordId(record: unknown): string | undefined {
  if (typeof record !== 'object' || record === null) return undefined;
  const { id, _id } = record as { id?: unknown; _id?: unknown };
  const value = typeof id === 'string' && id ? id : typeof _id === 'string' && _id ? _id : undefined;
  return value;
}

export interface Listing<T> {
  items: T[];
  complete: boolean;
  /** Why the listing is not complete, for reports. */
  problems: string[];
  /**
   * Records present but unreadable (issue 15): each is reported on its own entity. A rejected
   * record with an id still counts towards the total (it is there); one without makes the listing
   * incomplete, as nobody can tell whose it is.
   */
  rejected: RejectedRecord[];
}

/** Collects pages, noting repeated ids and totals that are missing or change between pages. */
export class ListingCollector<T> {
  private readonly seen = new Map<string, T>();
  private repeated = 0;
  private readonly totals = new Set<number>();
  private missingTotal = 0;
  private readonly rejected = new Map<string, RejectedRecord>();
  private anonymous = 0;

  constructor(private readonly key: (item: T) => string) {}

  /** A copy that later pages can be added to without changing this one. */
  clone(): ListingCollector<T> {
    const copy = new ListingCollector<T>(this.key);
    for (const [id, item] of this.seen) copy.seen.set(id, item);
    for (const [id, record] of this.rejected) copy.rejected.set(id, record);
    for (const total of this.totals) copy.totals.add(total);
    copy.repeated = this.repeated;
    copy.missingTotal = this.missingTotal;
    copy.anonymous = this.anonymous;
    return copy;
  }

  /** Adds one page; `total` is what the page announced (undefined: no total sent). */
  add(items: readonly T[], total: number | undefined, rejected: readonly RejectedRecord[] = []): void {
    for (const record of rejected) {
      if (record.id === undefined) this.anonymous += 1;
      else if (this.seen.has(record.id) || this.rejected.has(record.id)) this.repeated += 1;
      else this.rejected.set(record.id, record);
    }
    for (const item of items) {
      const id = this.key(item);
      if (this.seen.has(id) || this.rejected.has(id)) this.repeated += 1;
      else this.seen.set(id, item);
    }
    if (total === undefined) this.missingTotal += 1;
    else this.totals.add(total);
  }

  /** Distinct entries so far (readable or not). */
  get size(): number {
    return this.seen.size + this.rejected.size + this.anonymous;
  }

  result(): Listing<T> {
    const problems: string[] = [];
    if (this.missingTotal > 0) problems.push(`${this.missingTotal} page(s) without a total`);
    if (this.totals.size > 1)
      problems.push(`the total changed while paging (${[...this.totals].join(' → ')})`);
    if (this.repeated > 0) problems.push(`${this.repeated} id(s) repeated across pages`);
    if (this.anonymous > 0) problems.push(`${this.anonymous} unreadable record(s) without an id`);
    const total = [...this.totals].at(-1);
    if (total !== undefined && this.size !== total)
      problems.push(`listed ${this.size} distinct of a total of ${total}`);
    return {
      items: [...this.seen.values()],
      complete: problems.length === 0,
      problems,
      rejected: [...this.rejected.values()],
    };
  }
}

/** Where one pass over a listing got to: its pages so far and the position of the next page. */
export interface ListingState<T> {
  pages: ListingCollector<T>;
  /** The next page's position (`skip`, `startIndex`); undefined once the pass is finished. */
  next: number | undefined;
}

/**
 * Issue 15: a listing that can be resumed where an earlier attempt stopped (the caller keeps the
 * state, e.g. a reconciliation's checkpoint). `take` hands over the saved state once: a second
 * pass of the same listing (read again because it did not add up) starts from the first page.
 */
export interface ListingResume<T> {
  take(): ListingState<T> | undefined;
  /** Called after every page read, and so once the pass is finished. */
  save(state: ListingState<T>): void;
}

/**
 * One pass over a paged listing, from `first` or from where `resume` left it: `readPage` reads
 * the page at a position into `pages` and returns the next position, or undefined after the
 * last page. A page that fails leaves the saved state at the page before it.
 */
export async function pageThrough<T>(
  options: { key: (item: T) => string; first: number; resume?: ListingResume<T>; maxPages?: number },
  readPage: (position: number, pages: ListingCollector<T>) => Promise<number | undefined>,
): Promise<Listing<T>> {
  const resumed = options.resume?.take();
  const pages = resumed ? resumed.pages.clone() : new ListingCollector<T>(options.key);
  let next = resumed ? resumed.next : options.first;
  for (let read = 0; next !== undefined && read < (options.maxPages ?? 100_000); read++) {
    next = await readPage(next, pages);
    options.resume?.save({ pages, next });
  }
  return pages.result();
}

/** Reads a listing again (the directory may have been changing) until it is complete, a few times. */
export async function readComplete<T>(read: () => Promise<Listing<T>>, attempts = 3): Promise<Listing<T>> {
  let listing = await read();
  for (let attempt = 1; attempt < attempts && !listing.complete; attempt++) listing = await read();
  return listing;
}

/**
 * The entries of a listing that must be whole (a fresh check of one entity's binding or
 * membership): an incomplete one is a retryable error, never a shorter answer.
 */
export function requireComplete<T>(
  listing: Listing<T>,
  where: { service: ApiService; operation: string; entity?: string },
): T[] {
  if (listing.complete) return listing.items;
  throw new ApiError({
    ...where,
    class: 'retryable',
    code: 'IncompleteListing',
    detail: `incomplete listing (${listing.problems.join('; ')}): nothing is concluded from it`,
  });
}
