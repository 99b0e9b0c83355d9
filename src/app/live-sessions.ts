/**
 * Every live session of this process, fed from the one feed, and what they share: the feed, the
 * log reader and the snapshot cache.
 *
 * Sessions are indexed by the stories they follow (plus those following every story), so a batch
 * only visits the sessions that want one of its events: an event of one story costs a loop over
 * that story's followers, each handed the same entry (and so the same encoded bytes).
 *
 * Their database reads (catch-up pages, snapshots, replays) share one gate, so live clients
 * together use at most `maxDatabaseReads` of the pool's connections. When the feed finds the
 * log replaced (a restored or recreated database), every session is ended, so that its client
 * comes back with its old epoch and gets `recovered: false` and fresh snapshots.
 */
import type { FeedEntry, LiveFeed } from './live-feed.ts';
import { ReadGate } from './live-reads.ts';
import type { LiveCloseReason, LiveSession } from './live-session.ts';
import { SnapshotCache, type SnapshotCacheOptions } from './live-snapshots.ts';
import type { LogReader } from './ports.ts';

export interface LiveSessionsOptions extends SnapshotCacheOptions {
  /** Database reads the live sessions may run at once (the rest wait their turn). */
  readonly maxDatabaseReads?: number;
}

export class LiveSessions {
  readonly feed: LiveFeed;
  readonly reader: LogReader;
  readonly snapshots: SnapshotCache;
  /** Every database read a session makes goes through here. */
  readonly reads: ReadGate;
  readonly #sessions = new Set<LiveSession>();
  readonly #followersByStory = new Map<string, Set<LiveSession>>();
  readonly #followersOfAll = new Set<LiveSession>();
  readonly #unlisten: () => void;
  readonly #unlistenReset: () => void;
  /** Set by `endAll`: no session is taken after it (the feed no longer feeds them). */
  #ended: LiveCloseReason | null = null;

  constructor(feed: LiveFeed, reader: LogReader, options: LiveSessionsOptions = {}) {
    this.feed = feed;
    this.reader = reader;
    this.reads = new ReadGate(options.maxDatabaseReads ?? 3);
    this.snapshots = new SnapshotCache(reader, feed, { ...options, reads: this.reads });
    this.#unlisten = feed.listen((entries) => {
      this.#fanOut(entries);
    });
    this.#unlistenReset = feed.onReset(() => {
      this.snapshots.clear();
      for (const session of this.#sessions) session.end('log_replaced');
    });
  }

  get size(): number {
    return this.#sessions.size;
  }

  /**
   * Registers a session (with the stories it already follows); returns what removes it. After
   * `endAll` (shutdown) nothing follows the feed any more: the session is ended at once, with
   * the same reason, instead of being left open and silent.
   */
  add(session: LiveSession): () => void {
    if (this.#ended !== null) {
      session.end(this.#ended);
      return () => session.detach();
    }
    this.#sessions.add(session);
    const stories = session.stories;
    this.follow(session, stories === '*' ? '*' : [...stories]);
    return () => {
      session.detach();
      const following = session.stories;
      this.unfollow(session, following === '*' ? '*' : [...following]);
      this.#sessions.delete(session);
    };
  }

  /** The session now also follows these stories (`'*'`: every story). */
  follow(session: LiveSession, stories: readonly string[] | '*'): void {
    if (!this.#sessions.has(session)) return;
    if (stories === '*') {
      this.#followersOfAll.add(session);
      return;
    }
    for (const storyId of stories) {
      let followers = this.#followersByStory.get(storyId);
      if (followers === undefined) {
        followers = new Set();
        this.#followersByStory.set(storyId, followers);
      }
      followers.add(session);
    }
  }

  /** The session no longer follows these stories (`'*'`: no longer every story). */
  unfollow(session: LiveSession, stories: readonly string[] | '*'): void {
    if (stories === '*') {
      this.#followersOfAll.delete(session);
      return;
    }
    for (const storyId of stories) {
      const followers = this.#followersByStory.get(storyId);
      if (followers?.delete(session) === true && followers.size === 0) {
        this.#followersByStory.delete(storyId);
      }
    }
  }

  /** Ends every session (each told where to resume) and stops listening to the feed. */
  endAll(reason: LiveCloseReason): void {
    this.#ended = reason;
    this.#unlisten();
    this.#unlistenReset();
    this.snapshots.close();
    for (const session of this.#sessions) session.end(reason);
    this.#sessions.clear();
    this.#followersByStory.clear();
    this.#followersOfAll.clear();
  }

  /**
   * One event: a loop over its story's followers. Several: each session that follows one of
   * their stories takes the whole batch in order, in one write.
   */
  #fanOut(entries: readonly FeedEntry[]): void {
    const everyStory = this.#followersOfAll;
    if (entries.length === 1) {
      const entry = entries[0] as FeedEntry;
      const followers = this.#followersByStory.get(entry.storyId);
      if (followers !== undefined) for (const session of followers) session.onEntry(entry);
      for (const session of everyStory) session.onEntry(entry);
      return;
    }
    const storyIds = new Set<string>();
    for (const entry of entries) storyIds.add(entry.storyId);
    let visiting: ReadonlySet<LiveSession> | undefined;
    if (storyIds.size === 1) {
      visiting = this.#followersByStory.get((entries[0] as FeedEntry).storyId);
    } else {
      const union = new Set<LiveSession>();
      for (const storyId of storyIds) {
        for (const session of this.#followersByStory.get(storyId) ?? []) union.add(session);
      }
      visiting = union;
    }
    // A session follows either some stories or every story, never both.
    if (visiting !== undefined) for (const session of visiting) session.onEntries(entries);
    for (const session of everyStory) session.onEntries(entries);
  }
}
