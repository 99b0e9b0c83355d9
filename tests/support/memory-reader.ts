/**
 * The LogReader port in memory, for the live path's unit tests, with hooks that run at the
 * start of a read (before it takes its snapshot of the log) so a test can commit at exactly
 * that moment; and a transport that records what a session sends and can stop "reading".
 */
import type { FeedEntry } from '../../src/app/live-feed.ts';
import type { LiveCloseReason, LiveMessage, LiveTransport } from '../../src/app/live-session.ts';
import type { StorySnapshot } from '../../src/app/live-snapshots.ts';
import type { EventPage, EventQuery, LogReader, StoryListItem } from '../../src/app/ports.ts';
import type { RecordedEvent } from '../../src/domain/event-types.ts';
import type { StoryProjection } from '../../src/domain/story-view.ts';

export const memoryEvent = (position: number, storyId: string): RecordedEvent => ({
  position,
  storyId,
  version: position,
  id: `event-${position}`,
  type: 'summary.revised',
  schemaVersion: 1,
  data: { keyPoints: [] },
  metadata: {},
  occurredAt: '2025-12-01T10:00:00+03:00',
  recordedAt: '2025-12-01T07:00:00.000Z',
});

type Hook = (argument: string | EventQuery | undefined) => void | Promise<void>;

export class MemoryReader implements LogReader {
  events: RecordedEvent[] = [];
  epoch = 'epoch-1';
  readonly calls = { logInfo: 0, readEvents: 0, storySnapshot: 0, listStories: 0 };
  /** Reads running now, and the most that ever ran at once. */
  running = 0;
  mostRunning = 0;
  /** Run at the start of the named read, before its snapshot; one-shot unless re-set. */
  readonly hooks: {
    storySnapshot?: Hook | undefined;
    listStories?: Hook | undefined;
    readEvents?: Hook | undefined;
  } = {};
  /** When set, reads wait for it (a slow database). */
  gate: Promise<void> | null = null;
  /** When set, reads fail with it (the database is away). */
  failure: Error | null = null;

  commit(storyId: string, count = 1): RecordedEvent[] {
    const head = this.events.at(-1)?.position ?? 0;
    const added = Array.from({ length: count }, (_, index) =>
      memoryEvent(head + index + 1, storyId),
    );
    this.events.push(...added);
    return added;
  }

  get head(): number {
    return this.events.at(-1)?.position ?? 0;
  }

  logInfo() {
    this.calls.logInfo += 1;
    return Promise.resolve({ epoch: this.epoch, head: this.head });
  }

  readEvents(query: EventQuery): Promise<EventPage> {
    this.calls.readEvents += 1;
    return this.#reading('readEvents', query, () => {
      const events = this.events
        .filter(
          (candidate) =>
            candidate.position > query.after &&
            (query.storyIds === undefined || query.storyIds.includes(candidate.storyId)),
        )
        .slice(0, query.limit);
      return { events, head: this.head, epoch: this.epoch };
    });
  }

  storySnapshot(storyId: string) {
    this.calls.storySnapshot += 1;
    return this.#reading('storySnapshot', storyId, () => {
      const position = this.events.filter((event) => event.storyId === storyId).at(-1)?.position;
      const projection =
        position === undefined
          ? null
          : ({ story: { storyId, position }, timeline: [] } as unknown as StoryProjection);
      return { projection, head: this.head };
    });
  }

  listStories(): Promise<readonly StoryListItem[]> {
    this.calls.listStories += 1;
    return this.#reading('listStories', undefined, () =>
      [...new Set(this.events.map((event) => event.storyId))].map((storyId) => ({
        storyId,
        title: storyId,
        status: 'live',
        version: 1,
        position: 1,
        updatedAt: '2025-12-01T07:00:00.000Z',
        timeZone: 'UTC',
        counts: { developments: 0, retracted: 0, corrections: 0, disputes: 0, keyEvents: 0 },
      })),
    );
  }

  storyEvents(): Promise<readonly RecordedEvent[]> {
    return Promise.reject(new Error('not used by the live path'));
  }
  getStory(): Promise<null> {
    return Promise.reject(new Error('not used by the live path'));
  }
  timeline(): Promise<never[]> {
    return Promise.reject(new Error('not used by the live path'));
  }
  correctedEntries(): Promise<never[]> {
    return Promise.reject(new Error('not used by the live path'));
  }
  ready(): Promise<boolean> {
    return Promise.resolve(true);
  }

  /** Runs the hook, then takes the snapshot (`read`) and answers a turn later, like a query. */
  async #reading<T>(
    name: keyof MemoryReader['hooks'],
    argument: string | EventQuery | undefined,
    read: () => T,
  ): Promise<T> {
    this.running += 1;
    this.mostRunning = Math.max(this.mostRunning, this.running);
    try {
      const hook = this.hooks[name];
      if (hook !== undefined) {
        this.hooks[name] = undefined;
        await hook(argument);
      }
      await this.gate;
      if (this.failure !== null) throw this.failure;
      const result = read();
      await Promise.resolve();
      return result;
    } finally {
      this.running -= 1;
    }
  }
}

export type Sent =
  | { readonly kind: 'event'; readonly storyId: string; readonly position: number }
  | { readonly kind: 'snapshot'; readonly storyId: string; readonly position: number }
  | { readonly kind: 'message'; readonly message: LiveMessage };

/**
 * Records what a session sends. `reading` false: the client has stopped reading, so every byte
 * sent stays queued (`bufferedBytes`) and no `written` callback comes.
 */
export class RecordingTransport implements LiveTransport {
  readonly sent: Sent[] = [];
  closed: { reason: LiveCloseReason; after: number } | null = null;
  reading = true;
  queued = 0;
  /** Bytes a snapshot frame takes (its state is not really encoded here). */
  snapshotBytes = 100;
  readonly #waiting: (() => void)[] = [];

  get bufferedBytes(): number {
    return this.queued;
  }

  get isOpen(): boolean {
    return this.closed === null;
  }

  sendEvent(entry: FeedEntry, written?: () => void): void {
    this.sent.push({ kind: 'event', storyId: entry.storyId, position: entry.position });
    this.#queue(200, written);
  }

  sendSnapshot(snapshot: StorySnapshot, written?: () => void): void {
    this.sent.push({ kind: 'snapshot', storyId: snapshot.storyId, position: snapshot.position });
    this.#queue(this.snapshotBytes, written);
  }

  sendMessage(message: LiveMessage, written?: () => void): void {
    this.sent.push({ kind: 'message', message });
    this.#queue(JSON.stringify(message).length, written);
  }

  cork(): void {}
  uncork(): void {}

  close(reason: LiveCloseReason, after: number): void {
    if (this.closed === null) this.closed = { reason, after };
  }

  /** The client reads again: everything queued is written out. */
  resume(): void {
    this.reading = true;
    this.queued = 0;
    for (const written of this.#waiting.splice(0)) written();
  }

  events(storyId?: string): number[] {
    return this.sent.flatMap((item) =>
      item.kind === 'event' && (storyId === undefined || item.storyId === storyId)
        ? [item.position]
        : [],
    );
  }

  snapshots(): { storyId: string; position: number }[] {
    return this.sent.flatMap((item) =>
      item.kind === 'snapshot' ? [{ storyId: item.storyId, position: item.position }] : [],
    );
  }

  messages(type?: string): LiveMessage[] {
    return this.sent.flatMap((item) =>
      item.kind === 'message' && (type === undefined || item.message.type === type)
        ? [item.message]
        : [],
    );
  }

  #queue(bytes: number, written?: () => void): void {
    if (this.reading) {
      if (written !== undefined) queueMicrotask(written);
      return;
    }
    this.queued += bytes;
    if (written !== undefined) this.#waiting.push(written);
  }
}
