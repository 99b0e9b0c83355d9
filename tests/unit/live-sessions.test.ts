/**
 * Live sessions over an in-memory LogReader (the port) and a recording transport: each follower
 * gets its stories' events once, in order, however offers and reads interleave, and a burst of
 * subscribers shares one snapshot read and one encoding.
 */
import { describe, expect, it } from 'vitest';
import { memoryEvent } from '../support/memory-reader.ts';
import { LiveFeed, type FeedEntry } from '../../src/app/live-feed.ts';
import { LiveSession, type LiveTransport } from '../../src/app/live-session.ts';
import { LiveSessions } from '../../src/app/live-sessions.ts';
import type { StorySnapshot } from '../../src/app/live-snapshots.ts';
import type { EventPage, EventQuery, LogReader } from '../../src/app/ports.ts';
import type { RecordedEvent } from '../../src/domain/event-types.ts';
import type { StoryProjection } from '../../src/domain/story-view.ts';

const event = memoryEvent;

class MemoryLog {
  readonly events: RecordedEvent[] = [];
  readonly calls = { logInfo: 0, readEvents: 0, storySnapshot: 0 };

  commit(storyId: string, count = 1): RecordedEvent[] {
    const added = Array.from({ length: count }, (_, index) =>
      event(this.events.length + index + 1, storyId),
    );
    this.events.push(...added);
    return added;
  }

  logInfo() {
    this.calls.logInfo += 1;
    return Promise.resolve({ epoch: 'epoch-1', head: this.events.length });
  }

  async readEvents(query: EventQuery): Promise<EventPage> {
    this.calls.readEvents += 1;
    const head = this.events.length;
    await Promise.resolve();
    const events = this.events
      .slice(0, head)
      .filter(
        (candidate) =>
          candidate.position > query.after &&
          (query.storyIds === undefined || query.storyIds.includes(candidate.storyId)),
      )
      .slice(0, query.limit);
    return { events, head, epoch: 'epoch-1' };
  }

  async storySnapshot(storyId: string) {
    this.calls.storySnapshot += 1;
    const head = this.events.length;
    await Promise.resolve();
    const last = this.events.slice(0, head).filter((candidate) => candidate.storyId === storyId);
    const position = last.at(-1)?.position;
    const projection =
      position === undefined
        ? null
        : ({ story: { storyId, position }, timeline: [] } as unknown as StoryProjection);
    return { projection, head };
  }
}

class RecordingTransport implements LiveTransport {
  readonly events: number[] = [];
  readonly snapshots: StorySnapshot[] = [];
  readonly messages: unknown[] = [];
  bufferedBytes = 0;
  isOpen = true;
  sendEvent(entry: FeedEntry, written?: () => void): void {
    this.events.push(entry.position);
    if (written !== undefined) queueMicrotask(written);
  }
  sendSnapshot(snapshot: StorySnapshot): void {
    this.snapshots.push(snapshot);
  }
  sendMessage(message: unknown, written?: () => void): void {
    this.messages.push(message);
    if (written !== undefined) queueMicrotask(written);
  }
  cork(): void {}
  uncork(): void {}
  close(): void {
    this.isOpen = false;
  }
}

async function live(log: MemoryLog) {
  const feed = new LiveFeed(
    log as unknown as LogReader,
    { start: () => undefined, close: () => Promise.resolve() },
    { pollIntervalMs: 600_000, pageSize: 3 },
  );
  await feed.start();
  const sessions = new LiveSessions(feed, log as unknown as LogReader);
  const open = () => {
    const transport = new RecordingTransport();
    const session = new LiveSession(sessions, transport, { pageSize: 2 });
    sessions.add(session);
    return { transport, session };
  };
  return { feed, sessions, open };
}

const positionsOf = (log: MemoryLog, storyId: string, after: number) =>
  log.events
    .filter((candidate) => candidate.storyId === storyId && candidate.position > after)
    .map((candidate) => candidate.position);

describe('live sessions', () => {
  it('given offers and reads interleaved with a resume, each follower gets its story once, in order', async () => {
    const log = new MemoryLog();
    log.commit('a', 3);
    log.commit('b', 2);
    const { feed, open } = await live(log);
    const north = open();
    const south = open();
    const subscribing = Promise.all([
      north.session.subscribe({ stories: ['a'], after: 1, epoch: 'epoch-1' }),
      south.session.subscribe({ stories: ['b'], after: 0 }),
    ]);
    for (let step = 0; step < 40; step += 1) {
      const committed = log.commit(step % 3 === 0 ? 'b' : 'a', 1 + (step % 2));
      if (step % 4 !== 1) feed.offer(committed);
      if (step % 5 === 0) feed.wake();
      await Promise.resolve();
    }
    await subscribing;
    await feed.readLog();

    expect(north.transport.events).toEqual(positionsOf(log, 'a', 1));
    expect(south.transport.events).toEqual(positionsOf(log, 'b', 0));
    expect(north.session.position).toBe(log.events.length);
    expect(log.calls.logInfo).toBe(1); // the feed's start, none per subscriber
    await feed.close();
  });

  it('a cursor beyond the feed head but within the log waits for the feed instead of failing', async () => {
    const log = new MemoryLog();
    log.commit('a', 2);
    const { feed, open } = await live(log);
    log.commit('a', 3); // committed (say, by another process) but not read yet

    const { transport, session } = open();
    await session.subscribe({ stories: ['a'], after: 4, epoch: 'epoch-1' });

    expect(transport.messages[0]).toMatchObject({ type: 'subscribed', recovered: true });
    expect(transport.events).toEqual([5]);
    expect(transport.snapshots).toEqual([]);
    await feed.close();
  });

  it('a burst of subscribers without a cursor shares one snapshot read and one encoding', async () => {
    const log = new MemoryLog();
    log.commit('a', 4);
    const { feed, open } = await live(log);
    const clients = Array.from({ length: 200 }, open);

    await Promise.all(clients.map(({ session }) => session.subscribe({ stories: ['a'] })));

    expect(log.calls.storySnapshot).toBe(1);
    const encodings = new Set(
      clients.map(({ transport }) =>
        transport.snapshots[0]?.encoded('test', () => Buffer.from('x')),
      ),
    );
    expect(encodings.size).toBe(1);

    // An event of the story drops the cached snapshot: the next subscriber reads a fresh one.
    feed.offer(log.commit('a'));
    const late = open();
    await late.session.subscribe({ stories: ['a'] });
    expect(log.calls.storySnapshot).toBe(2);
    expect(late.transport.snapshots[0]?.position).toBe(5);
    expect(clients.every(({ transport }) => transport.events.join() === '5')).toBe(true);
    await feed.close();
  });

  it('a session added after endAll is ended at once with the same reason, and fed nothing', async () => {
    const log = new MemoryLog();
    log.commit('a', 2);
    const { feed, sessions, open } = await live(log);
    sessions.endAll('going_away');

    const late = open();
    expect(late.transport.isOpen).toBe(false);
    expect(sessions.size).toBe(0);
    feed.offer(log.commit('a'));
    expect(late.transport.events).toEqual([]);
    await feed.close();
  });
});
