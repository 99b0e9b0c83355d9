/**
 * One process's view of the log's tip. A change signal (PostgreSQL LISTEN) only wakes it; what it
 * delivers it always reads from the log by position, so a lost notification, a dropped LISTEN
 * connection or a database restart delays events but never loses one. A periodic poll backs the
 * signal up. Events this process commits itself may be offered directly (`offer`), which saves
 * the round trip; they are accepted only where they extend the head exactly.
 *
 * It keeps a bounded tail of recent events, each encoded at most once per wire format however
 * many subscribers receive it, so that reconnecting clients resume from memory and only older
 * positions go to the database.
 *
 * The one invariant everything rests on: entries reach the listeners exactly once each, in
 * position order, with no gaps, and `head` is the last of them. Every path that delivers (a read
 * page, an offer) goes through `#accept`, which drops what is at or below the head.
 *
 * That holds within one log. Each read also brings the log's epoch and head (the same statement,
 * so it costs nothing more): if the epoch changed, or the head is behind where it was when the
 * read began (the database was restored or recreated under the running process), positions no
 * longer mean what they meant. The feed then tells its reset listeners (which end every session,
 * so that clients come back and get `recovered: false`), forgets its tail, and starts again at
 * the new log's head.
 */
import type { RecordedEvent } from '../domain/event-types.ts';
import type { LogReader } from './ports.ts';

/** Something encoded at most once per wire format, the same bytes for every subscriber. */
export class EncodedOnce<T> {
  #format: string | undefined;
  #bytes: Buffer | undefined;
  /** Other formats than the first one asked for (rare: a process serving WebSocket and SSE). */
  #others: Map<string, Buffer> | undefined;

  protected encodedAs(format: string, value: T, encode: (value: T) => Buffer): Buffer {
    if (this.#format === format && this.#bytes !== undefined) return this.#bytes;
    if (this.#format === undefined) {
      this.#format = format;
      this.#bytes = encode(value);
      return this.#bytes;
    }
    this.#others ??= new Map();
    let bytes = this.#others.get(format);
    if (bytes === undefined) {
      bytes = encode(value);
      this.#others.set(format, bytes);
    }
    return bytes;
  }
}

/** A recent event and its encodings, made once per format and shared by every subscriber. */
export class FeedEntry extends EncodedOnce<RecordedEvent> {
  readonly event: RecordedEvent;

  constructor(event: RecordedEvent) {
    super();
    this.event = event;
  }

  get position(): number {
    return this.event.position;
  }

  get storyId(): string {
    return this.event.storyId;
  }

  encoded(format: string, encode: (event: RecordedEvent) => Buffer): Buffer {
    return this.encodedAs(format, this.event, encode);
  }
}

/** Wakes the feed when the log may have grown. */
export interface ChangeSignal {
  /** `onChange` gets the last position written when the signal knows it. */
  start(onChange: (position?: number) => void): void;
  close(): Promise<void>;
}

export interface LiveFeedOptions {
  /** Events kept in memory for resuming subscribers. */
  readonly tailSize?: number;
  /** Fallback poll when no notification arrives, in milliseconds. */
  readonly pollIntervalMs?: number;
  readonly pageSize?: number;
  readonly onError?: (error: unknown) => void;
}

export type FeedListener = (entries: readonly FeedEntry[]) => void;

/** The log the feed followed was replaced: `epoch` and `head` are the new log's. */
export type ResetListener = (replaced: { readonly epoch: string; readonly head: number }) => void;

/**
 * The newest entries in a fixed ring: pushing past the capacity overwrites the oldest, so a full
 * tail costs nothing more per event than an empty one (no shifting, no copying).
 */
class EntryRing {
  readonly #slots: (FeedEntry | undefined)[];
  /** Slot of the oldest entry. */
  #start = 0;
  #size = 0;

  constructor(capacity: number) {
    this.#slots = new Array<FeedEntry | undefined>(Math.max(capacity, 1)).fill(undefined);
  }

  get size(): number {
    return this.#size;
  }

  /** Appends; returns the entry it overwrote, if the ring was full. */
  push(entry: FeedEntry): FeedEntry | undefined {
    const capacity = this.#slots.length;
    if (this.#size < capacity) {
      this.#slots[(this.#start + this.#size) % capacity] = entry;
      this.#size += 1;
      return undefined;
    }
    const evicted = this.#slots[this.#start];
    this.#slots[this.#start] = entry;
    this.#start = (this.#start + 1) % capacity;
    return evicted;
  }

  /** The entry `index` places after the oldest (0 ≤ index < size). */
  at(index: number): FeedEntry {
    return this.#slots[(this.#start + index) % this.#slots.length] as FeedEntry;
  }

  /** The index of the first entry with a position above `position` (size if none). */
  indexAfter(position: number): number {
    let low = 0;
    let high = this.#size;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.at(middle).position <= position) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** A copy of the entries from index `from`, at most `limit` of them. */
  copy(from: number, limit: number): FeedEntry[] {
    const count = Math.max(Math.min(this.#size - from, limit), 0);
    const entries = new Array<FeedEntry>(count);
    for (let index = 0; index < count; index += 1) entries[index] = this.at(from + index);
    return entries;
  }
}

export class LiveFeed {
  readonly #reader: LogReader;
  readonly #signal: ChangeSignal;
  readonly #pollIntervalMs: number;
  readonly #pageSize: number;
  readonly #onError: (error: unknown) => void;
  readonly #listeners = new Set<FeedListener>();
  readonly #resetListeners = new Set<ResetListener>();
  readonly #tailSize: number;
  #tail: EntryRing;
  /** Every event up to here has been read and handed to the listeners. */
  #head = 0;
  /** The tail holds every event after this position (up to the head). */
  #floor = 0;
  #epoch = '';
  #started = false;
  #pumping: Promise<void> | null = null;
  #again = false;
  /** Callers of `readLog` waiting for a pump that starts after they asked. */
  #waiting: (() => void)[] = [];
  /** True while listeners run: an offer then must not deliver in the middle of a delivery. */
  #delivering = false;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(reader: LogReader, signal: ChangeSignal, options: LiveFeedOptions = {}) {
    this.#reader = reader;
    this.#signal = signal;
    this.#tailSize = options.tailSize ?? 10_000;
    this.#tail = new EntryRing(this.#tailSize);
    this.#pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.#pageSize = options.pageSize ?? 1000;
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Starts at the log's current head: earlier events are the database's to serve. */
  async start(): Promise<void> {
    const { epoch, head } = await this.#reader.logInfo();
    this.#epoch = epoch;
    this.#head = head;
    this.#floor = head;
    this.#started = true;
    // A notification of this process's own commit needs no read: the commit is offered. Its
    // notification and its answer arrive on two connections in either order, so look again
    // after this turn of the event loop, by which the offer has usually landed.
    this.#signal.start((position) => {
      if (position === undefined) this.wake();
      else
        setImmediate(() => {
          if (position > this.#head) this.wake();
        });
    });
    this.#timer = setInterval(() => this.wake(), this.#pollIntervalMs);
    this.#timer.unref();
  }

  get epoch(): string {
    return this.#epoch;
  }

  /** The last position handed to the listeners; the database's head may be ahead of it. */
  get head(): number {
    return this.#head;
  }

  /** Observes every batch, in position order, each position once. Returns what undoes it. */
  listen(listener: FeedListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Called when the log turns out to have been replaced (another epoch, or a head gone back),
   * before the feed moves to the new log: `head` and `epoch` are still the old log's then.
   */
  onReset(listener: ResetListener): () => void {
    this.#resetListeners.add(listener);
    return () => this.#resetListeners.delete(listener);
  }

  /**
   * Events after `position` up to the feed's head, from memory, at most `limit` of them (a copy
   * of just those); `null` when the tail no longer reaches back that far (read the database
   * instead). They run to the head when the last one is at the head.
   */
  entriesAfter(position: number, limit = Number.MAX_SAFE_INTEGER): readonly FeedEntry[] | null {
    if (position < this.#floor) return null;
    if (position >= this.#head) return [];
    return this.#tail.copy(this.#tail.indexAfter(position), limit);
  }

  /**
   * Events this process just committed, in position order. If they extend the head exactly they
   * are delivered now, without reading the database; what is at or below the head was already
   * delivered and is ignored; after a gap (another process committed in between) the feed is
   * woken to read the log by position, which brings these too.
   */
  offer(events: readonly RecordedEvent[]): void {
    if (this.#closed || !this.#started) return;
    let first = 0;
    while (first < events.length && (events[first] as RecordedEvent).position <= this.#head) {
      first += 1;
    }
    if (first === events.length) return;
    // Listeners are running (one of them led to this offer): the read path delivers it after.
    if (this.#delivering || (events[first] as RecordedEvent).position !== this.#head + 1) {
      this.wake();
      return;
    }
    let end = first + 1;
    while (
      end < events.length &&
      (events[end] as RecordedEvent).position === (events[end - 1] as RecordedEvent).position + 1
    ) {
      end += 1;
    }
    this.#accept(events, first, end);
    if (end < events.length) this.wake();
  }

  /** Reads whatever the log has beyond the head; concurrent wakes fold into one more round. */
  wake(): void {
    if (this.#closed) return;
    if (this.#pumping !== null) {
      this.#again = true;
      return;
    }
    const waiting = this.#waiting;
    this.#waiting = [];
    this.#pumping = this.#pump().finally(() => {
      this.#pumping = null;
      for (const resolve of waiting) resolve();
      if (this.#again || this.#waiting.length > 0) {
        this.#again = false;
        this.wake();
      }
    });
  }

  /**
   * Resolves once a read of the log that began after this call has finished (successfully or
   * not): then the head covers every event committed before the call, unless the database is
   * unreachable. Many callers share one read.
   */
  readLog(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.wake();
    return done;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    await this.#signal.close();
    await this.#pumping;
    for (const resolve of this.#waiting) resolve();
    this.#waiting = [];
    this.#listeners.clear();
    this.#resetListeners.clear();
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        const epoch = this.#epoch;
        const head = this.#head;
        const page = await this.#reader.readEvents({ after: head, limit: this.#pageSize });
        if (this.#closed) return;
        // Everything up to `head` was committed before the read began, so its snapshot holds it:
        // a lower head (or another epoch) is another log. An offer may have moved the head on
        // meanwhile, which is why the comparison is with the head the read began at.
        if (page.epoch !== epoch || page.head < head) {
          this.#reset(page.epoch, page.head);
          return;
        }
        // An offer may have moved the head while the page was read: #accept skips those.
        this.#accept(page.events, 0, page.events.length);
        if (page.events.length < this.#pageSize) return;
      }
    } catch (error) {
      // The database is away: the next wake (a notification, the poll) tries again.
      this.#onError(error);
    }
  }

  /** Moves to a new log: the old one's listeners are told first, then the tail is forgotten. */
  #reset(epoch: string, head: number): void {
    for (const listener of this.#resetListeners) {
      try {
        listener({ epoch, head });
      } catch (error) {
        this.#onError(error);
      }
    }
    this.#epoch = epoch;
    this.#head = head;
    this.#floor = head;
    this.#tail = new EntryRing(this.#tailSize);
  }

  /**
   * Appends events[from, end) past the head to the tail and hands them to the listeners. The
   * caller guarantees they are consecutive positions starting at or below head + 1 (a page read
   * by position after an earlier head; an offer checked to extend the head).
   */
  #accept(events: readonly RecordedEvent[], from: number, end: number): void {
    let start = from;
    while (start < end && (events[start] as RecordedEvent).position <= this.#head) start += 1;
    if (start === end) return;
    const entries = new Array<FeedEntry>(end - start);
    for (let index = start; index < end; index += 1) {
      const entry = new FeedEntry(events[index] as RecordedEvent);
      entries[index - start] = entry;
      const evicted = this.#tail.push(entry);
      if (evicted !== undefined) this.#floor = evicted.position;
    }
    this.#head = (entries[entries.length - 1] as FeedEntry).position;
    this.#delivering = true;
    try {
      for (const listener of this.#listeners) {
        try {
          listener(entries);
        } catch (error) {
          this.#onError(error);
        }
      }
    } finally {
      this.#delivering = false;
    }
  }
}
