/**
 * One process's view of the log's tip. A change signal (PostgreSQL LISTEN) only wakes it; what it
 * delivers it always reads from the log by position, so a lost notification, a dropped LISTEN
 * connection or a database restart delays events but never loses one. A periodic poll backs the
 * signal up.
 *
 * It keeps a bounded tail of recent events, each encoded at most once per wire format however
 * many subscribers receive it, so that reconnecting clients resume from memory and only older
 * positions go to the database.
 */
import type { RecordedEvent } from '../domain/event-types.ts';
import type { LogReader } from './ports.ts';

/** A recent event and its encodings, made once per format and shared by every subscriber. */
export class FeedEntry {
  readonly event: RecordedEvent;
  readonly #encoded = new Map<string, Buffer>();

  constructor(event: RecordedEvent) {
    this.event = event;
  }

  get position(): number {
    return this.event.position;
  }

  get storyId(): string {
    return this.event.storyId;
  }

  encoded(format: string, encode: (event: RecordedEvent) => Buffer): Buffer {
    let bytes = this.#encoded.get(format);
    if (bytes === undefined) {
      bytes = encode(this.event);
      this.#encoded.set(format, bytes);
    }
    return bytes;
  }
}

/** Wakes the feed when the log may have grown. */
export interface ChangeSignal {
  start(onChange: () => void): void;
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

export class LiveFeed {
  readonly #reader: LogReader;
  readonly #signal: ChangeSignal;
  readonly #tailSize: number;
  readonly #pollIntervalMs: number;
  readonly #pageSize: number;
  readonly #onError: (error: unknown) => void;
  readonly #listeners = new Set<FeedListener>();
  #tail: FeedEntry[] = [];
  /** Every event up to here has been read and handed to the listeners. */
  #head = 0;
  /** The tail holds every event after this position (up to the head). */
  #floor = 0;
  #epoch = '';
  #pumping: Promise<void> | null = null;
  #again = false;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(reader: LogReader, signal: ChangeSignal, options: LiveFeedOptions = {}) {
    this.#reader = reader;
    this.#signal = signal;
    this.#tailSize = options.tailSize ?? 10_000;
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
    this.#signal.start(() => this.wake());
    this.#timer = setInterval(() => this.wake(), this.#pollIntervalMs);
    this.#timer.unref();
  }

  get epoch(): string {
    return this.#epoch;
  }

  get head(): number {
    return this.#head;
  }

  listen(listener: FeedListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Every event after `position` up to the feed's head, from memory; `null` when the tail no
   * longer reaches back that far (read the database instead).
   */
  entriesAfter(position: number): readonly FeedEntry[] | null {
    if (position < this.#floor) return null;
    if (position >= this.#head) return [];
    let low = 0;
    let high = this.#tail.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.#tail[middle] as FeedEntry).position <= position) low = middle + 1;
      else high = middle;
    }
    return this.#tail.slice(low);
  }

  /** Reads whatever the log has beyond the head; concurrent wakes fold into one more round. */
  wake(): void {
    if (this.#closed) return;
    if (this.#pumping !== null) {
      this.#again = true;
      return;
    }
    this.#pumping = this.#pump().finally(() => {
      this.#pumping = null;
      if (this.#again) {
        this.#again = false;
        this.wake();
      }
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    await this.#signal.close();
    await this.#pumping;
    this.#listeners.clear();
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        const page = await this.#reader.readEvents({ after: this.#head, limit: this.#pageSize });
        if (page.events.length === 0 || this.#closed) return;
        const entries = page.events.map((event) => new FeedEntry(event));
        this.#tail.push(...entries);
        this.#head = entries.at(-1)?.position ?? this.#head;
        const excess = this.#tail.length - this.#tailSize;
        if (excess > 0) {
          this.#floor = (this.#tail[excess - 1] as FeedEntry).position;
          this.#tail = this.#tail.slice(excess);
        }
        for (const listener of this.#listeners) {
          try {
            listener(entries);
          } catch (error) {
            this.#onError(error);
          }
        }
        if (page.events.length < this.#pageSize) return;
      }
    } catch (error) {
      // The database is away: the next wake (a notification, the poll) tries again.
      this.#onError(error);
    }
  }
}
