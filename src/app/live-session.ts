/**
 * One subscriber's stream, whatever carries it (WebSocket, Server-Sent Events).
 *
 * Resuming from a cursor happens in three phases:
 *   1. catch-up: pages of the log from the database (or the feed's in-memory tail) up to the
 *      feed's head, paced by what the client actually reads;
 *   2. hand-over: the last stretch comes from the tail in the same synchronous step that marks
 *      the session live, so no feed delivery can fall between them;
 *   3. live: each event the feed reads is sent if it is past the session's cursor.
 * The cursor (every event of the subscribed stories up to it has been sent) makes each step
 * idempotent: nothing is sent twice and nothing is skipped. A client that cannot keep up is
 * closed with the cursor to resume from, instead of buffering without bound.
 */
import { StorylineError } from '../domain/errors.ts';
import type { RecordedEvent } from '../domain/event-types.ts';
import type { StoryProjection } from '../domain/story-view.ts';
import { FeedEntry, type LiveFeed } from './live-feed.ts';
import type { LogReader } from './ports.ts';

export type LiveMessage =
  | {
      readonly type: 'subscribed';
      readonly stories: readonly string[] | '*';
      readonly epoch: string;
      readonly position: number;
      readonly recovered: boolean;
    }
  | {
      readonly type: 'snapshot';
      readonly storyId: string;
      readonly position: number;
      /** The story view and its timeline at `position`; null if not opened yet. */
      readonly state: StoryProjection | null;
    }
  | { readonly type: 'unsubscribed'; readonly stories: readonly string[] | '*' }
  | { readonly type: 'replay.event'; readonly event: RecordedEvent }
  | { readonly type: 'replay.end'; readonly storyId: string; readonly position: number }
  | {
      readonly type: 'error';
      readonly code: string;
      readonly message: string;
      readonly [detail: string]: unknown;
    };

/** Why a session ends; the transport turns it into its own close code. */
export type LiveCloseReason = 'slow_consumer' | 'going_away';

export interface LiveTransport {
  sendEvent(entry: FeedEntry): void;
  sendMessage(message: LiveMessage): void;
  /** Bytes handed to the transport and not yet written to the network. */
  readonly bufferedBytes: number;
  readonly isOpen: boolean;
  /** `after`: the position the client should resume from. */
  close(reason: LiveCloseReason, after: number): void;
}

export interface SubscribeCommand {
  readonly stories: readonly string[] | '*';
  readonly after?: number | undefined;
  readonly epoch?: string | undefined;
}

export interface ReplayCommand {
  readonly storyId: string;
  /** First and last position to replay (inclusive); the whole story by default. */
  readonly from?: number | undefined;
  readonly until?: number | undefined;
  /** 1 is real time, 60 a minute per second; 0 as fast as the client reads. */
  readonly speed: number;
  /** Pace by when the log recorded each event (default) or when it happened. */
  readonly clock?: 'recorded' | 'occurred' | undefined;
}

export interface LiveSessionOptions {
  /** Unsent bytes a live client may have before it is closed as too slow. */
  readonly maxBufferedBytes?: number;
  readonly maxStories?: number;
  readonly pageSize?: number;
  /** How long catch-up waits for a client to read before giving up on it. */
  readonly drainTimeoutMs?: number;
  /** The longest pause a replay makes between two events, in milliseconds. */
  readonly maxReplayGapMs?: number;
  /** Called when the server ends a session (too slow, shutting down); for metrics. */
  readonly onEnd?: (reason: LiveCloseReason) => void;
}

export class LiveSession {
  readonly #feed: LiveFeed;
  readonly #reader: LogReader;
  readonly #transport: LiveTransport;
  readonly #maxBuffered: number;
  readonly #maxStories: number;
  readonly #pageSize: number;
  readonly #drainTimeoutMs: number;
  readonly #maxReplayGapMs: number;
  readonly #onEnd: ((reason: LiveCloseReason) => void) | undefined;
  /** null: nothing; 'all': every story. */
  #stories: Set<string> | 'all' | null = null;
  #state: 'idle' | 'catching-up' | 'live' | 'closed' = 'idle';
  /** Every event of the subscribed stories up to here has been sent. */
  #cursor = 0;
  /** During catch-up: per story, the position its stream already covers (snapshots). */
  #floors = new Map<string, number>();
  #defaultFloor = 0;
  /** Bumped by every subscribe, unsubscribe and close, so a stale catch-up stops. */
  #generation = 0;
  #replayGeneration = 0;

  constructor(
    feed: LiveFeed,
    reader: LogReader,
    transport: LiveTransport,
    options: LiveSessionOptions = {},
  ) {
    this.#feed = feed;
    this.#reader = reader;
    this.#transport = transport;
    this.#maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.#maxStories = options.maxStories ?? 100;
    this.#pageSize = options.pageSize ?? 500;
    this.#drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
    this.#maxReplayGapMs = options.maxReplayGapMs ?? 2000;
    this.#onEnd = options.onEnd;
  }

  /** The position a client should resume after. */
  get position(): number {
    return this.#cursor;
  }

  get live(): boolean {
    return this.#state === 'live';
  }

  async subscribe(command: SubscribeCommand): Promise<void> {
    const generation = ++this.#generation;
    const wasActive = this.#state === 'live' || this.#state === 'catching-up';
    const previousCursor = this.#cursor;
    const added = this.#addStories(command.stories);
    this.#state = 'catching-up';

    const { epoch, head } = await this.#reader.logInfo();
    if (generation !== this.#generation) return;
    const recovered =
      command.after !== undefined &&
      (command.epoch === undefined || command.epoch === epoch) &&
      command.after <= head;
    this.#transport.sendMessage({
      type: 'subscribed',
      stories: this.#stories === 'all' ? '*' : [...(this.#stories ?? [])],
      epoch,
      position: head,
      recovered,
    });

    // Stories already streaming continue from where they were.
    this.#floors = new Map();
    this.#defaultFloor = wasActive ? previousCursor : head;
    if (recovered) {
      const after = command.after ?? 0;
      if (added === 'all') this.#defaultFloor = Math.min(this.#defaultFloor, after);
      else for (const storyId of added) this.#floors.set(storyId, after);
    } else {
      const storyIds =
        added === 'all' ? (await this.#reader.listStories()).map((story) => story.storyId) : added;
      if (added === 'all') this.#defaultFloor = Math.min(this.#defaultFloor, head);
      for (const storyId of storyIds) {
        const snapshot = await this.#reader.storySnapshot(storyId);
        if (generation !== this.#generation) return;
        const position = snapshot.projection?.story.position ?? snapshot.head;
        this.#floors.set(storyId, position);
        this.#transport.sendMessage({
          type: 'snapshot',
          storyId,
          position,
          state: snapshot.projection,
        });
      }
    }
    const start = Math.min(this.#defaultFloor, ...this.#floors.values());
    await this.#catchUp(generation, start);
  }

  unsubscribe(stories: readonly string[] | '*'): void {
    if (stories === '*' || this.#stories === 'all') {
      this.#stories = null;
    } else {
      for (const storyId of stories) this.#stories?.delete(storyId);
    }
    this.#transport.sendMessage({ type: 'unsubscribed', stories });
  }

  /** Called with each batch the feed reads; sends what this subscriber has not had yet. */
  onFeed(entries: readonly FeedEntry[]): void {
    if (this.#state !== 'live') return;
    for (const entry of entries) {
      if (entry.position <= this.#cursor) continue;
      if (this.#wants(entry.storyId)) {
        if (this.#transport.bufferedBytes > this.#maxBuffered) {
          this.#end('slow_consumer');
          return;
        }
        this.#transport.sendEvent(entry);
      }
      this.#cursor = entry.position;
    }
  }

  /**
   * Streams a story's history as `replay.event` frames, paced by the gaps between events
   * divided by `speed` (each gap capped), then `replay.end`. It is independent of the live
   * stream; a new replay on the same session replaces a running one.
   */
  async replay(command: ReplayCommand): Promise<void> {
    const generation = ++this.#replayGeneration;
    if ((await this.#reader.getStory(command.storyId)) === null) {
      throw new StorylineError('story_not_found', `no story ${command.storyId}`);
    }
    let after = (command.from ?? 1) - 1;
    const until = command.until ?? Number.MAX_SAFE_INTEGER;
    let previous: number | null = null;
    let last = 0;
    for (;;) {
      const page = await this.#reader.readEvents({
        after,
        limit: this.#pageSize,
        storyIds: [command.storyId],
      });
      for (const event of page.events) {
        if (event.position > until) break;
        const at = Date.parse(command.clock === 'occurred' ? event.occurredAt : event.recordedAt);
        if (previous !== null && command.speed > 0) {
          const gap = Math.min(Math.max(at - previous, 0) / command.speed, this.#maxReplayGapMs);
          if (gap > 0) await sleep(gap);
        }
        previous = at;
        if (!(await this.#waitForRoom()) || generation !== this.#replayGeneration) return;
        this.#transport.sendMessage({ type: 'replay.event', event });
        last = event.position;
      }
      const lastInPage = page.events.at(-1)?.position;
      if (lastInPage === undefined || lastInPage >= until || page.events.length < this.#pageSize) {
        break;
      }
      after = lastInPage;
    }
    if (generation === this.#replayGeneration && this.#transport.isOpen) {
      this.#transport.sendMessage({ type: 'replay.end', storyId: command.storyId, position: last });
    }
  }

  /** Ends the session from the server's side (shutdown), telling the client where to resume. */
  end(reason: LiveCloseReason): void {
    this.#end(reason);
  }

  /** The transport went away: stop any catch-up or replay. */
  detach(): void {
    this.#state = 'closed';
    this.#generation += 1;
    this.#replayGeneration += 1;
  }

  #end(reason: LiveCloseReason): void {
    if (this.#state === 'closed') return;
    this.detach();
    this.#transport.close(reason, this.#cursor);
    this.#onEnd?.(reason);
  }

  #addStories(stories: readonly string[] | '*'): readonly string[] | 'all' {
    if (stories === '*') {
      this.#stories = 'all';
      return 'all';
    }
    if (this.#stories === 'all') return [];
    const current = this.#stories ?? new Set<string>();
    const added = stories.filter((storyId) => !current.has(storyId));
    if (current.size + added.length > this.#maxStories) {
      throw new StorylineError(
        'too_many_stories',
        `a connection follows at most ${this.#maxStories} stories`,
        { limit: this.#maxStories },
      );
    }
    for (const storyId of added) current.add(storyId);
    this.#stories = current;
    return added;
  }

  #wants(storyId: string): boolean {
    return this.#stories === 'all' || (this.#stories?.has(storyId) ?? false);
  }

  async #catchUp(generation: number, from: number): Promise<void> {
    let position = from;
    const current = () => generation === this.#generation && this.#transport.isOpen;
    while (current()) {
      const fromMemory = this.#feed.entriesAfter(position);
      if (fromMemory !== null && fromMemory.length <= this.#pageSize) {
        // The hand-over: the rest from memory and the switch to live, in one synchronous step.
        for (const entry of fromMemory) this.#deliverCatchUp(entry);
        this.#cursor = Math.max(position, this.#feed.head);
        this.#floors.clear();
        this.#state = 'live';
        return;
      }
      let entries: readonly FeedEntry[];
      if (fromMemory !== null) {
        entries = fromMemory.slice(0, this.#pageSize);
      } else {
        const page = await this.#reader.readEvents({
          after: position,
          limit: this.#pageSize,
          ...(this.#stories === 'all' ? {} : { storyIds: [...(this.#stories ?? [])] }),
        });
        if (!current()) return;
        entries = page.events.map((event) => new FeedEntry(event));
        // A short page holds every matching event up to the head it was read at.
        if (page.events.length < this.#pageSize) position = Math.max(position, page.head);
      }
      for (const entry of entries) this.#deliverCatchUp(entry);
      position = Math.max(position, entries.at(-1)?.position ?? position);
      this.#cursor = position;
      if (!(await this.#waitForRoom())) {
        if (current()) this.#end('slow_consumer');
        return;
      }
    }
  }

  #deliverCatchUp(entry: FeedEntry): void {
    if (!this.#wants(entry.storyId)) return;
    const floor = this.#floors.get(entry.storyId) ?? this.#defaultFloor;
    if (entry.position <= floor) return;
    this.#transport.sendEvent(entry);
    this.#floors.set(entry.storyId, entry.position);
  }

  /** Waits until the client has read most of what was sent; false if it does not in time. */
  async #waitForRoom(): Promise<boolean> {
    const deadline = Date.now() + this.#drainTimeoutMs;
    while (this.#transport.bufferedBytes > this.#maxBuffered / 2) {
      if (!this.#transport.isOpen || Date.now() > deadline) return false;
      await sleep(5);
    }
    return this.#transport.isOpen;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
