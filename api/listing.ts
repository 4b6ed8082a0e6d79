/**
 * A whole paged listing and whether it can be trusted to be whole (issue 14). Offset paging over
 * a directory that changes while it is read skips or repeats entries, and a proxy or an outage
 * can cut a listing short: a listing is complete only when its distinct entries match the total
 * the service announced, the same total on every page. Only a complete listing may prove that
 * something is absent (deleted, unbound); an incomplete one still proves what it holds.
 */
import { ApiError, type ApiService } from './errors';

export interface Listing<T> {
  items: T[];
  complete: boolean;
  /** Why the listing is not complete, for reports. */
  problems: string[];
}

/** Collects pages, noting repeated ids and totals that are missing or change between pages. */
export class ListingCollector<T> {
  private readonly seen = new Map<string, T>();
  private repeated = 0;
  private readonly totals = new Set<number>();
  private missingTotal = 0;

  constructor(private readonly key: (item: T) => string) {}

  /** Adds one page; `total` is what the page announced (undefined: no total sent). */
  add(items: readonly T[], total: number | undefined): void {
    for (const item of items) {
      const id = this.key(item);
      if (this.seen.has(id)) this.repeated += 1;
      else this.seen.set(id, item);
    }
    if (total === undefined) this.missingTotal += 1;
    else this.totals.add(total);
  }

  /** Distinct entries so far. */
  get size(): number {
    return this.seen.size;
  }

  result(): Listing<T> {
    const problems: string[] = [];
    if (this.missingTotal > 0) problems.push(`${this.missingTotal} page(s) without a total`);
    if (this.totals.size > 1)
      problems.push(`the total changed while paging (${[...this.totals].join(' → ')})`);
    if (this.repeated > 0) problems.push(`${this.repeated} id(s) repeated across pages`);
    const total = [...this.totals].at(-1);
    if (total !== undefined && this.seen.size !== total)
      problems.push(`listed ${this.seen.size} distinct of a total of ${total}`);
    return { items: [...this.seen.values()], complete: problems.length === 0, problems };
  }
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
