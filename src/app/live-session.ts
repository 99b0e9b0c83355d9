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
 * idempotent: nothing is sent twice and nothing is skipped. Per-story floors do the same for
 * snapshots, which may be ahead of the cursor: a story's events at or below its snapshot's
 * position are never sent, in catch-up or live.
 *
 * Every byte queued for the client counts against `maxBufferedBytes`, whatever it carries
 * (snapshots, catch-up pages, replays, live events): before each snapshot, page or replayed
 * event the session waits for the client to have read most of what is queued, and a client that
 * does not within `drainTimeoutMs` is closed with the cursor to resume from; a live client over
 * the limit when an event comes is closed at once. So what one client holds is bounded by the
 * limit plus one frame, however it asks. A subscription that fails (the database went away) also
 * ends the session, with the cursor, so the client comes back instead of waiting on a stream
 * that will never go live.
 */
import { isStorylineError, StorylineError } from '../domain/errors.ts';
import type { RecordedEvent } from '../domain/event-types.ts';
import type { StoryProjection } from '../domain/story-view.ts';
import { FeedEntry, type LiveFeed } from './live-feed.ts';
import { ReadCancelled } from './live-reads.ts';
import type { LiveSessions } from './live-sessions.ts';
import type { SnapshotCache, StorySnapshot } from './live-snapshots.ts';
import type { EventPage, LogReader } from './ports.ts';

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

/**
 * Why a session ends; the transport turns it into its own close code. `unavailable`: a
 * subscription failed (the database is away), try again later; `log_replaced`: the database was
 * restored or recreated, resume with the old epoch to get fresh snapshots.
 */
export type LiveCloseReason = 'slow_consumer' | 'going_away' | 'unavailable' | 'log_replaced';

export interface LiveTransport {
  /**
   * Sends an event frame (the entry's bytes, encoded once for every subscriber). `written`, if
   * given, is called once the frame has been written out to the network, or could not be.
   */
  sendEvent(entry: FeedEntry, written?: () => void): void;
  /** Sends a snapshot frame (encoded once for every subscriber); `written` as for events. */
  sendSnapshot(snapshot: StorySnapshot, written?: () => void): void;
  sendMessage(message: LiveMessage, written?: () => void): void;
  /**
   * Between `cork()` and `uncork()` frames are collected and written together (one system call
   * for a page or a batch instead of one per frame), as Node's Writable does.
   */
  cork(): void;
  uncork(): void;
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
  /**
   * How long the session waits for a client over half its buffer to read before closing it
   * (catch-up, snapshots, replays, and once after the hand-over).
   */
  readonly drainTimeoutMs?: number;
  /** The longest pause a replay makes between two events, in milliseconds. */
  readonly maxReplayGapMs?: number;
  /** Called when the server ends a session (too slow, shutting down); for metrics. */
  readonly onEnd?: (reason: LiveCloseReason) => void;
}

export class LiveSession {
  readonly #sessions: LiveSessions;
  readonly #feed: LiveFeed;
  readonly #reader: LogReader;
  readonly #snapshots: SnapshotCache;
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
  /**
   * Per story, the position its stream already covers (the last sent or its snapshot's). During
   * catch-up for every story streamed; once live only those ahead of the cursor (snapshots read
   * after the feed's head), each dropped when the cursor passes it.
   */
  #floors = new Map<string, number>();
  #defaultFloor = 0;
  /** While a batch is corked: the bytes that were unsent when it (or its last write) began. */
  #corkedAt: number | null = null;
  /** Bumped by every subscribe, unsubscribe and close, so a stale catch-up stops. */
  #generation = 0;
  #replayGeneration = 0;
  /** The running replay, settled (never rejects) once it is done; null when none runs. */
  #replaying: Promise<void> | null = null;
  /** Aborted when a replay is replaced, to cut its pause short. */
  #replayAbort = new AbortController();
  /** Whether a check that the client reads what the hand-over left queued is running. */
  #watchingBuffer = false;

  /** `sessions`: this process's live sessions, whose feed, reader and snapshots it uses. */
  constructor(sessions: LiveSessions, transport: LiveTransport, options: LiveSessionOptions = {}) {
    this.#sessions = sessions;
    this.#feed = sessions.feed;
    this.#reader = sessions.reader;
    this.#snapshots = sessions.snapshots;
    this.#transport = transport;
    this.#maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.#maxStories = options.maxStories ?? 100;
    this.#pageSize = options.pageSize ?? 500;
    this.#drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
    this.#maxReplayGapMs = options.maxReplayGapMs ?? 2000;
    this.#onEnd = options.onEnd;
  }

  /**
   * The position a client should resume after. A live session has been handed every event of
   * its stories up to the feed's head: the feed delivers synchronously, so between deliveries
   * (the only time anyone asks) no event it has read is still on its way to a live session.
   */
  get position(): number {
    return this.#state === 'live' ? Math.max(this.#cursor, this.#feed.head) : this.#cursor;
  }

  get live(): boolean {
    return this.#state === 'live';
  }

  /** The stories followed, for LiveSessions' index. */
  get stories(): ReadonlySet<string> | '*' {
    if (this.#stories === 'all') return '*';
    return this.#stories ?? new Set();
  }

  /**
   * Subscribes to more stories (or every story), from a cursor or from snapshots. Rejects with a
   * StorylineError the client caused (too many stories), the session staying as it was; any
   * other failure (the database went away) ends the session with `unavailable` and the cursor to
   * resume from, and rejects too, for the transport to log.
   */
  async subscribe(command: SubscribeCommand): Promise<void> {
    const generation = ++this.#generation;
    try {
      await this.#subscribe(command, generation);
    } catch (error) {
      // Replaced or ended meanwhile: what failed was nobody's any more.
      if (error instanceof ReadCancelled || generation !== this.#generation) return;
      if (isStorylineError(error) && error.code !== 'unavailable' && error.code !== 'internal') {
        throw error;
      }
      this.#end('unavailable');
      throw error;
    }
  }

  async #subscribe(command: SubscribeCommand, generation: number): Promise<void> {
    const current = () => generation === this.#generation && this.#transport.isOpen;
    const sameLog = command.epoch === undefined || command.epoch === this.#feed.epoch;
    // Snapshots of every story cost as much as that many subscriptions: the same limit applies,
    // checked before anything changes (a cursor needs no snapshots and has no such limit).
    const mayNeedSnapshots =
      command.after === undefined || !sameLog || command.after > this.#feed.head;
    if (command.stories === '*' && this.#stories !== 'all' && mayNeedSnapshots) {
      const count = (await this.#read(() => this.#reader.listStories(), current)).length;
      if (generation !== this.#generation) return;
      if (count > this.#maxStories) {
        throw new StorylineError(
          'too_many_stories',
          `"*" without a cursor sends a snapshot of every story, and there are more than ` +
            `${this.#maxStories}: subscribe with a cursor (after) or name the stories`,
          { limit: this.#maxStories },
        );
      }
    }
    const wasActive = this.#state === 'live' || this.#state === 'catching-up';
    const previousCursor = this.position;
    const followed = command.stories === '*' && this.#stories instanceof Set ? this.#stories : null;
    const added = this.#addStories(command.stories);
    this.#state = 'catching-up';

    /*
     * The epoch and head come from the feed, not from a query per subscriber, so a reconnect
     * storm costs no database reads here. The feed's head may lag the database's (a
     * notification not handled yet; a client coming from a process further ahead), so a cursor
     * beyond it is not yet proof of a cursor beyond the log. The client saw its cursor before it
     * connected, so a read of the log that begins now reaches it if it is real: wait for one
     * (every such subscriber shares it) and only then call it beyond the head. Declaring
     * recovered:false right away would be correct, but would cost each of them a snapshot.
     */
    if (command.after !== undefined && sameLog && command.after > this.#feed.head) {
      await this.#feed.readLog();
      if (generation !== this.#generation) return;
    }
    const epoch = this.#feed.epoch;
    const head = this.#feed.head;
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

    /*
     * Stories already streaming continue from where they were: from the cursor (the default
     * floor), or from their own floor where a snapshot put them ahead of it. When "*" replaces a
     * list of stories and lowers the default floor, the listed ones keep the cursor as theirs.
     */
    const floors = new Map<string, number>();
    if (wasActive) {
      for (const [storyId, floor] of this.#floors) {
        if (floor > previousCursor) floors.set(storyId, floor);
      }
      for (const storyId of followed ?? []) {
        floors.set(storyId, Math.max(floors.get(storyId) ?? 0, previousCursor));
      }
    }
    this.#floors = floors;
    this.#defaultFloor = wasActive ? previousCursor : head;
    let written: Promise<void> = Promise.resolve();
    if (recovered) {
      const after = command.after ?? 0;
      if (added === 'all') this.#defaultFloor = Math.min(this.#defaultFloor, after);
      else for (const storyId of added) this.#floors.set(storyId, after);
    } else {
      /*
       * The head was read before the stories are listed and each snapshot is read, so a story
       * missing from the list has all its events after the head (the default floor), and an
       * event committed between the head and a snapshot is in the snapshot (its floor). One at a
       * time, each after the client has read most of the one before: the cache serves repeats,
       * and the client's buffer bounds what is queued.
       */
      const storyIds =
        added === 'all'
          ? (await this.#read(() => this.#reader.listStories(), current))
              .map((story) => story.storyId)
              .filter((storyId) => !(wasActive && followed?.has(storyId) === true))
          : added;
      if (added === 'all') this.#defaultFloor = Math.min(this.#defaultFloor, head);
      for (const storyId of storyIds) {
        if (!(await this.#drained(written, current))) {
          if (current()) this.#end('slow_consumer');
          return;
        }
        const snapshot = await this.#snapshots.get(storyId);
        if (!current()) return;
        this.#floors.set(snapshot.storyId, snapshot.position);
        written = new Promise((resolve) => {
          this.#transport.sendSnapshot(snapshot, resolve);
        });
      }
    }
    // Every event of the stories now followed up to `start` is with the client (sent, or in a
    // snapshot): the cursor to resume from if the session ends before catch-up moves it on.
    const start = Math.min(this.#defaultFloor, ...this.#floors.values());
    this.#cursor = start;
    if (!(await this.#drained(written, current))) {
      if (current()) this.#end('slow_consumer');
      return;
    }
    await this.#catchUp(generation, start);
  }

  unsubscribe(stories: readonly string[] | '*'): void {
    if (stories === '*' || this.#stories === 'all') {
      this.#unfollowAll();
      this.#stories = null;
    } else {
      this.#sessions.unfollow(this, stories);
      for (const storyId of stories) this.#stories?.delete(storyId);
    }
    this.#transport.sendMessage({ type: 'unsubscribed', stories });
  }

  /**
   * Called for each event the feed reads of a story this session follows, in position order;
   * sends it unless the client has it already. The hot path of fan-out: no allocation, the
   * entry's shared bytes.
   */
  onEntry(entry: FeedEntry): void {
    if (this.#state !== 'live') return;
    const position = entry.position;
    if (position <= this.#cursor) return;
    if (this.#wants(entry.storyId) && !this.#coveredBySnapshot(entry)) {
      const transport = this.#transport;
      // Corked, what the client has not read is what was unsent when the batch began.
      const unsent = this.#corkedAt ?? transport.bufferedBytes;
      if (unsent > this.#maxBuffered) {
        // Not `position`: the feed's head is already past this entry.
        this.#end('slow_consumer', this.#cursor);
        return;
      }
      transport.sendEvent(entry);
      if (this.#corkedAt !== null && transport.bufferedBytes - this.#corkedAt > corkedBytes) {
        transport.uncork();
        transport.cork();
        this.#corkedAt = transport.bufferedBytes;
      }
    }
    this.#cursor = position;
  }

  /**
   * A batch of the feed's entries, some of them this session's: written together (a write for
   * every `corkedBytes` instead of one per frame).
   */
  onEntries(entries: readonly FeedEntry[]): void {
    if (this.#state !== 'live') return;
    this.#transport.cork();
    this.#corkedAt = this.#transport.bufferedBytes;
    try {
      for (const entry of entries) this.onEntry(entry);
    } finally {
      this.#corkedAt = null;
      this.#transport.uncork();
    }
  }

  /**
   * Streams a story's history as `replay.event` frames, paced by the gaps between events
   * divided by `speed` (each gap capped), then `replay.end`. It is independent of the live
   * stream. One replay runs at a time: a new one stops the running one (cutting its pause
   * short) and starts once it has stopped, so a flood of replays costs one replay's reads.
   */
  async replay(command: ReplayCommand): Promise<void> {
    const generation = ++this.#replayGeneration;
    this.#replayAbort.abort();
    this.#replayAbort = new AbortController();
    const signal = this.#replayAbort.signal;
    while (this.#replaying !== null) {
      await this.#replaying;
      if (generation !== this.#replayGeneration) return;
    }
    const running = this.#replay(command, generation, signal).catch((error: unknown) => {
      if (!(error instanceof ReadCancelled)) throw error;
    });
    const settled: Promise<void> = running.then(noop, noop).then(() => {
      if (this.#replaying === settled) this.#replaying = null;
    });
    this.#replaying = settled;
    await running;
  }

  async #replay(command: ReplayCommand, generation: number, signal: AbortSignal): Promise<void> {
    const wanted = () =>
      generation === this.#replayGeneration && this.#state !== 'closed' && this.#transport.isOpen;
    if ((await this.#snapshots.get(command.storyId)).state === null) {
      if (!wanted()) return;
      throw new StorylineError('story_not_found', `no story ${command.storyId}`);
    }
    let after = (command.from ?? 1) - 1;
    const until = command.until ?? Number.MAX_SAFE_INTEGER;
    let previous: number | null = null;
    let last = 0;
    let written: Promise<void> = Promise.resolve();
    for (;;) {
      if (!wanted()) return;
      const query = { after, limit: this.#pageSize, storyIds: [command.storyId] };
      const page = await this.#read(() => this.#reader.readEvents(query), wanted);
      for (const event of page.events) {
        if (event.position > until) break;
        const at = Date.parse(command.clock === 'occurred' ? event.occurredAt : event.recordedAt);
        if (previous !== null && command.speed > 0) {
          const gap = Math.min(Math.max(at - previous, 0) / command.speed, this.#maxReplayGapMs);
          if (gap > 0) await sleep(gap, signal);
        }
        previous = at;
        if (!(await this.#drained(written, wanted))) {
          if (wanted()) this.#end('slow_consumer');
          return;
        }
        written = new Promise((resolve) => {
          this.#transport.sendMessage({ type: 'replay.event', event }, resolve);
        });
        last = event.position;
      }
      const lastInPage = page.events.at(-1)?.position;
      if (lastInPage === undefined || lastInPage >= until || page.events.length < this.#pageSize) {
        break;
      }
      after = lastInPage;
    }
    if (wanted()) {
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
    this.#replayAbort.abort();
  }

  #end(reason: LiveCloseReason, after = this.position): void {
    if (this.#state === 'closed') return;
    this.detach();
    this.#transport.close(reason, after);
    this.#onEnd?.(reason);
  }

  /** Follows the stories; returns those not followed before ('all': every story, newly). */
  #addStories(stories: readonly string[] | '*'): readonly string[] | 'all' {
    if (stories === '*') {
      if (this.#stories === 'all') return [];
      this.#unfollowAll();
      this.#stories = 'all';
      this.#sessions.follow(this, '*');
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
    this.#sessions.follow(this, added);
    return added;
  }

  #unfollowAll(): void {
    if (this.#stories === 'all') this.#sessions.unfollow(this, '*');
    else if (this.#stories !== null) this.#sessions.unfollow(this, [...this.#stories]);
  }

  #wants(storyId: string): boolean {
    return this.#stories === 'all' || (this.#stories?.has(storyId) ?? false);
  }

  /** Live: whether the entry is already in a snapshot sent ahead of the cursor. */
  #coveredBySnapshot(entry: FeedEntry): boolean {
    if (this.#floors.size === 0) return false;
    const floor = this.#floors.get(entry.storyId);
    if (floor === undefined) return false;
    if (entry.position <= floor) return true;
    this.#floors.delete(entry.storyId);
    return false;
  }

  /**
   * Sends pages until the feed's tail holds the rest, then hands over to live. Pages come from
   * the feed's tail when it reaches back far enough (entries already encoded), else from the
   * database, the next page read while the client takes the current one. Each page waits for
   * room in the client's buffer, woken by the transport's write callbacks, not by polling.
   */
  async #catchUp(generation: number, from: number): Promise<void> {
    let position = from;
    const current = () => generation === this.#generation && this.#transport.isOpen;
    let written: Promise<void> = Promise.resolve();
    let nextPage: Promise<EventPage> | null = null;
    while (current()) {
      const fromMemory = this.#feed.entriesAfter(position, this.#pageSize);
      let entries: readonly FeedEntry[];
      if (fromMemory !== null) {
        nextPage = null;
        const reached = fromMemory.at(-1)?.position ?? position;
        if (reached >= this.#feed.head) {
          // The hand-over: the rest from memory and the switch to live, in one synchronous step.
          this.#transport.cork();
          for (const entry of fromMemory) this.#deliverCatchUp(entry);
          this.#transport.uncork();
          this.#goLive(Math.max(reached, this.#feed.head));
          return;
        }
        entries = fromMemory;
        position = reached;
      } else {
        let page: EventPage;
        try {
          page = await (nextPage ?? this.#readPage(position, current));
        } catch (error) {
          if (!current()) return;
          throw error;
        }
        nextPage = null;
        if (!current()) return;
        entries = page.events.map((event) => new FeedEntry(event));
        position = Math.max(position, entries.at(-1)?.position ?? position);
        if (page.events.length < this.#pageSize) {
          // A short page holds every matching event up to the head it was read at.
          position = Math.max(position, page.head);
        } else if (this.#feed.entriesAfter(position, 0) === null) {
          nextPage = this.#readPage(position, current);
        }
      }
      written = this.#sendPage(entries, written);
      this.#cursor = position;
      if (!(await this.#drained(written, current))) {
        if (current()) this.#end('slow_consumer');
        return;
      }
    }
  }

  #readPage(after: number, wanted: () => boolean): Promise<EventPage> {
    const query = {
      after,
      limit: this.#pageSize,
      ...(this.#stories === 'all' ? {} : { storyIds: [...(this.#stories ?? [])] }),
    };
    const page = this.#read(() => this.#reader.readEvents(query), wanted);
    // It may be abandoned (the session ended meanwhile): a failure then is nobody's to report.
    page.catch(() => undefined);
    return page;
  }

  /** Sends what the client lacks of a page; resolves once it is written (or `previous` if none). */
  #sendPage(entries: readonly FeedEntry[], previous: Promise<void>): Promise<void> {
    const sending: FeedEntry[] = [];
    for (const entry of entries) if (this.#advanceFloor(entry)) sending.push(entry);
    const last = sending.length - 1;
    if (last < 0) return previous;
    this.#transport.cork();
    for (let index = 0; index < last; index += 1) {
      this.#transport.sendEvent(sending[index] as FeedEntry);
    }
    const written = new Promise<void>((resolve) => {
      this.#transport.sendEvent(sending[last] as FeedEntry, resolve);
    });
    this.#transport.uncork();
    return written;
  }

  #deliverCatchUp(entry: FeedEntry): void {
    if (this.#advanceFloor(entry)) this.#transport.sendEvent(entry);
  }

  /** During catch-up: whether the client lacks the entry; if so, counts it as sent. */
  #advanceFloor(entry: FeedEntry): boolean {
    if (!this.#wants(entry.storyId)) return false;
    const floor = this.#floors.get(entry.storyId) ?? this.#defaultFloor;
    if (entry.position <= floor) return false;
    this.#floors.set(entry.storyId, entry.position);
    return true;
  }

  #goLive(cursor: number): void {
    this.#cursor = cursor;
    for (const [storyId, floor] of this.#floors) {
      if (floor <= cursor) this.#floors.delete(storyId);
    }
    this.#state = 'live';
    // The hand-over may leave more than the limit queued and no event may come to notice it.
    if (this.#transport.bufferedBytes > this.#maxBuffered) this.#watchBuffer();
  }

  /** Closes the session unless the client reads its buffer down to the limit in time. */
  #watchBuffer(): void {
    if (this.#watchingBuffer) return;
    this.#watchingBuffer = true;
    const wanted = () => this.#state === 'live';
    void this.#drained(Promise.resolve(), wanted, this.#maxBuffered).then((room) => {
      this.#watchingBuffer = false;
      if (!room && wanted()) this.#end('slow_consumer');
    });
  }

  /** A read of the live path's share of the database; dropped if no longer `wanted` by then. */
  #read<T>(read: () => Promise<T>, wanted: () => boolean): Promise<T> {
    return this.#sessions.reads.run(read, wanted);
  }

  /**
   * Waits until at most `limit` bytes are queued for the client: first for `written` (the last
   * frame this step sent is out), then, if frames sent by other steps (live events, an earlier
   * subscription's snapshots) still hold the buffer up, by looking again every 50 ms. False if
   * that does not happen within the drain timeout, the transport closed, or the work is no
   * longer `wanted`.
   */
  async #drained(
    written: Promise<void>,
    wanted: () => boolean,
    limit = this.#maxBuffered / 2,
  ): Promise<boolean> {
    const transport = this.#transport;
    if (transport.bufferedBytes <= limit) return transport.isOpen && wanted();
    const deadline = Date.now() + this.#drainTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.#drainTimeoutMs);
    });
    try {
      if (await Promise.race([written.then(() => false), timedOut])) return false;
    } finally {
      clearTimeout(timer);
    }
    while (transport.bufferedBytes > limit) {
      const left = deadline - Date.now();
      if (left <= 0 || !transport.isOpen || !wanted()) return false;
      await sleep(Math.min(left, 50));
    }
    return transport.isOpen && wanted();
  }
}

/** How much a corked batch collects before it is written out. */
const corkedBytes = 64 * 1024;

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

const noop = () => undefined;
