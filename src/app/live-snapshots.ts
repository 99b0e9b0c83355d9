/**
 * Story snapshots for live subscribers, read once and shared: a burst of subscribers to one story
 * costs one database read and one encoding, not one per subscriber.
 *
 * Why a cached snapshot is never wrong: a snapshot is the story's state at its `position`, and a
 * subscriber is caught up from that position, so even an old one is correct (it only means more
 * catch-up). To keep them fresh, the cache listens to the live feed, which sees every event in
 * order: an event of a story drops that story's snapshot, and marks a read in flight for it as
 * stale (its result still serves the callers waiting for it, but is not kept).
 *
 * A story that does not exist yet has no position of its own: its snapshot is `null` at the log's
 * head. Such a snapshot read at head H stays true at the feed's head h ≥ H, because every event in
 * (H, h] reached the feed after the read began, and none of them was this story's (it would have
 * dropped the snapshot); so a hit is re-stamped with the feed's head.
 */
import type { StoryProjection } from '../domain/story-view.ts';
import { EncodedOnce, type LiveFeed } from './live-feed.ts';
import { ReadGate } from './live-reads.ts';
import type { LogReader } from './ports.ts';

/** A story's state at a position, encoded at most once per wire format. */
export class StorySnapshot extends EncodedOnce<StorySnapshot> {
  readonly storyId: string;
  readonly position: number;
  /** The story view and its whole timeline; null if the story was not opened by `position`. */
  readonly state: StoryProjection | null;

  constructor(storyId: string, position: number, state: StoryProjection | null) {
    super();
    this.storyId = storyId;
    this.position = position;
    this.state = state;
  }

  encoded(format: string, encode: (snapshot: StorySnapshot) => Buffer): Buffer {
    return this.encodedAs(format, this, encode);
  }
}

export interface SnapshotCacheOptions {
  /** Stories whose snapshots are kept; the least recently used go first. */
  readonly maxStories?: number;
  /** The live path's share of the database (a gate of its own if not given). */
  readonly reads?: ReadGate;
}

interface Load {
  /** Set right after the load is registered (so a read that fails at once still unregisters). */
  promise: Promise<StorySnapshot> | null;
  stale: boolean;
}

export class SnapshotCache {
  readonly #reader: LogReader;
  readonly #feed: LiveFeed;
  readonly #maxStories: number;
  readonly #reads: ReadGate;
  /** In least-recently-used order (a Map iterates in insertion order). */
  readonly #snapshots = new Map<string, StorySnapshot>();
  readonly #loads = new Map<string, Load>();
  readonly #unlisten: () => void;

  constructor(reader: LogReader, feed: LiveFeed, options: SnapshotCacheOptions = {}) {
    this.#reader = reader;
    this.#feed = feed;
    this.#maxStories = options.maxStories ?? 1000;
    this.#reads = options.reads ?? new ReadGate(3);
    this.#unlisten = feed.listen((entries) => {
      for (const entry of entries) this.#invalidate(entry.storyId);
    });
  }

  /** The story's latest snapshot known; concurrent callers share one read. */
  get(storyId: string): Promise<StorySnapshot> {
    const cached = this.#snapshots.get(storyId);
    if (cached !== undefined) {
      this.#snapshots.delete(storyId);
      let snapshot = cached;
      if (cached.state === null && cached.position < this.#feed.head) {
        snapshot = new StorySnapshot(storyId, this.#feed.head, null);
      }
      this.#snapshots.set(storyId, snapshot);
      return Promise.resolve(snapshot);
    }
    const running = this.#loads.get(storyId)?.promise;
    if (running !== undefined && running !== null) return running;
    const load: Load = { promise: null, stale: false };
    this.#loads.set(storyId, load);
    const promise = this.#load(storyId, load);
    load.promise = promise;
    return promise;
  }

  /** Forgets every snapshot (the log was replaced); reads in flight are not kept. */
  clear(): void {
    this.#snapshots.clear();
    for (const load of this.#loads.values()) load.stale = true;
    this.#loads.clear();
  }

  close(): void {
    this.#unlisten();
    this.clear();
  }

  async #load(storyId: string, load: Load): Promise<StorySnapshot> {
    try {
      const { projection, head } = await this.#reads.run(() => this.#reader.storySnapshot(storyId));
      const snapshot = new StorySnapshot(storyId, projection?.story.position ?? head, projection);
      if (!load.stale) {
        this.#snapshots.set(storyId, snapshot);
        if (this.#snapshots.size > this.#maxStories) {
          const oldest = this.#snapshots.keys().next();
          if (oldest.done !== true) this.#snapshots.delete(oldest.value);
        }
      }
      return snapshot;
    } finally {
      if (this.#loads.get(storyId) === load) this.#loads.delete(storyId);
    }
  }

  #invalidate(storyId: string): void {
    this.#snapshots.delete(storyId);
    const load = this.#loads.get(storyId);
    if (load !== undefined) {
      load.stale = true;
      this.#loads.delete(storyId);
    }
  }
}
