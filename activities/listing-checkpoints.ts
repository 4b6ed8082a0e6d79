/**
 * Issue 15: a reconciliation retried after one of its listings failed part-way resumes each
 * listing from its last page, instead of reading 200 pages again from the first. The pages read
 * can be megabytes, so they stay out of Temporal: this worker process keeps them, under a key
 * that the attempt's heartbeat details carry (with the positions reached, for `describe`). The
 * next attempt takes the entry its predecessor's details name; on another worker process, or
 * once the entry is older than its time to live, it starts from the first page as before.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { ListingResume, ListingState } from '../api/listing';

/** Long enough for a retry after a failed page; short enough that no attempt acts on old pages. */
const TIME_TO_LIVE_MS = 15 * 60_000;

interface Entry {
  savedAt: number;
  listings: Map<string, ListingState<unknown>>;
}

/** What a reconciliation's heartbeat details say about its listings. */
export const checkpointDetailsSchema = z.looseObject({ checkpoint: z.string().optional() });

/** One attempt's listings: each resumable by name, as the previous attempt left them. */
export class ListingCheckpoint {
  private readonly inherited: Map<string, ListingState<unknown>>;

  constructor(
    readonly key: string,
    private readonly entry: Entry,
    inherited: Map<string, ListingState<unknown>> | undefined,
    private readonly now: () => number,
    private readonly release: () => void,
    private readonly onSave?: () => void,
  ) {
    this.inherited = new Map(inherited ?? []);
  }

  /** Whether this attempt started from an earlier attempt's pages. */
  get resumed(): boolean {
    return this.inherited.size > 0;
  }

  /** The listing `name`, resumed once from the inherited state and saved after every page. */
  listing<T>(name: string): ListingResume<T> {
    return {
      take: () => {
        const state = this.inherited.get(name);
        this.inherited.delete(name);
        return state as ListingState<T> | undefined;
      },
      save: (state) => {
        this.entry.listings.set(name, state as ListingState<unknown>);
        this.entry.savedAt = this.now();
        this.onSave?.();
      },
    };
  }

  /** Where each listing is: the next position, or `done`. For the heartbeat details. */
  positions(): Record<string, number | 'done'> {
    const out: Record<string, number | 'done'> = {};
    for (const [name, state] of this.entry.listings) out[name] = state.next ?? 'done';
    return out;
  }

  /** The activity finished: nothing is kept. */
  close(): void {
    this.release();
  }
}

/** The checkpoints of one worker process. */
export class ListingCheckpoints {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly timeToLiveMs = TIME_TO_LIVE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A checkpoint for a new attempt, taking over the entry `previous` names if it is still held;
   * `onSave` is called after every page (the activity heartbeats its positions).
   */
  open(previous: string | undefined, onSave?: () => void): ListingCheckpoint {
    this.expire();
    const taken = previous === undefined ? undefined : this.entries.get(previous);
    if (previous !== undefined) this.entries.delete(previous);
    const key = randomUUID();
    // The new entry starts where the taken one was, so a third attempt still finds those pages.
    const entry: Entry = { savedAt: this.now(), listings: new Map(taken?.listings ?? []) };
    this.entries.set(key, entry);
    const release = () => this.entries.delete(key);
    return new ListingCheckpoint(key, entry, taken?.listings, this.now, release, onSave);
  }

  /** Entries held (for tests). */
  get size(): number {
    return this.entries.size;
  }

  private expire(): void {
    const oldest = this.now() - this.timeToLiveMs;
    for (const [key, entry] of this.entries) if (entry.savedAt < oldest) this.entries.delete(key);
  }
}
