/**
 * The latest story views in memory, each with its JSON encoded once, kept fresh by the live feed.
 *
 * Why an entry is never staler than what this process has seen of the log:
 *
 * - A view read at story position `p` holds every event of its story up to `p`; what it lacks
 *   are the story's events at positions above `p`. Each of those was either appended through
 *   this server (its append route reports it here, `noteCommitted`, after the commit and before
 *   it answers), or will be read by the feed, which delivers every event after its start in
 *   order (that covers other processes, and appends made here by other means).
 * - Both report to `#noteStory`, which remembers the highest position known for the story and
 *   drops a cached view older than it. So once an event is known, no request is served a view
 *   that lacks it: a client answered 201 on this process reads its write on its next request.
 * - A read races with appends: it may start before an event commits and end after the feed
 *   delivered it. `put` therefore refuses a view older than the highest position known for its
 *   story, and views read before a `clear` (their generation is older) are not kept either.
 *
 * So the cache is exactly as fresh as the feed for other processes' appends (the feed's
 * notification latency, with its poll as the bound) and exact for this process's own. It is
 * bounded by count and by encoded bytes, least recently used first out.
 */
import type { StoryView } from '../domain/story-view.ts';

/** A story view as read, with its JSON made once and shared by every request that serves it. */
export interface StoryRead {
  readonly view: StoryView;
  readonly json: string;
  /**
   * The epoch of the log the view was read from: a position names a version of a story only
   * within one log (after a restore, another log may have other content at the same position).
   */
  readonly epoch: string;
}

export interface StoryViewCacheOptions {
  readonly maxStories?: number;
  readonly maxBytes?: number;
  /** Stories whose latest position is remembered; past it everything is forgotten at once. */
  readonly maxKnownStories?: number;
}

export class StoryViewCache {
  readonly #maxStories: number;
  readonly #maxBytes: number;
  readonly #maxKnownStories: number;
  /** In least-recently-used order: a hit moves its entry to the end. */
  readonly #entries = new Map<string, StoryRead>();
  #bytes = 0;
  /** The highest position of each story that is known to be committed. */
  readonly #known = new Map<string, number>();
  /** Bumped by `clear`: reads begun before it are not cached. */
  #generation = 0;

  constructor(options: StoryViewCacheOptions = {}) {
    this.#maxStories = options.maxStories ?? 1000;
    this.#maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.#maxKnownStories = options.maxKnownStories ?? 100_000;
  }

  get generation(): number {
    return this.#generation;
  }

  get(storyId: string): StoryRead | undefined {
    const entry = this.#entries.get(storyId);
    if (entry === undefined) return undefined;
    this.#entries.delete(storyId);
    this.#entries.set(storyId, entry);
    return entry;
  }

  /** Keeps a view read while the cache was at `generation`, unless something newer is known. */
  put(read: StoryRead, generation: number): void {
    const { storyId, position } = read.view;
    if (generation !== this.#generation) return;
    if ((this.#known.get(storyId) ?? 0) > position) return;
    const bytes = read.json.length;
    if (bytes > this.#maxBytes) return;
    this.#remove(storyId);
    this.#entries.set(storyId, read);
    this.#bytes += bytes;
    for (const [oldest] of this.#entries) {
      if (this.#entries.size <= this.#maxStories && this.#bytes <= this.#maxBytes) break;
      this.#remove(oldest);
    }
  }

  /** An event of the story at this position is committed (read by the feed, or appended here). */
  noteCommitted(storyId: string, position: number): void {
    if ((this.#known.get(storyId) ?? 0) >= position) return;
    if (this.#known.size >= this.#maxKnownStories && !this.#known.has(storyId)) {
      // Forgetting what is known would let an old read in; forgetting everything cannot.
      this.clear();
    }
    this.#known.set(storyId, position);
    const entry = this.#entries.get(storyId);
    if (entry !== undefined && entry.view.position < position) this.#remove(storyId);
  }

  clear(): void {
    this.#generation += 1;
    this.#entries.clear();
    this.#known.clear();
    this.#bytes = 0;
  }

  #remove(storyId: string): void {
    const entry = this.#entries.get(storyId);
    if (entry === undefined) return;
    this.#entries.delete(storyId);
    this.#bytes -= entry.json.length;
  }
}
