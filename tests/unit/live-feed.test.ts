/**
 * The live feed against an in-memory LogReader (the port, not PostgreSQL): offered events and
 * events read by position reach the listeners once each, in order, whatever the interleaving;
 * and the tail answers resuming subscribers from memory.
 */
import { describe, expect, it } from 'vitest';
import { memoryEvent } from '../support/memory-reader.ts';
import { LiveFeed, type ChangeSignal } from '../../src/app/live-feed.ts';
import type { EventPage, EventQuery, LogReader } from '../../src/app/ports.ts';
import type { RecordedEvent } from '../../src/domain/event-types.ts';

const event = (position: number, storyId = 'story'): RecordedEvent =>
  memoryEvent(position, storyId);

/** The log in memory; `hold()` makes the next reads wait until released, to interleave. */
class MemoryLog implements Pick<LogReader, 'logInfo' | 'readEvents'> {
  readonly events: RecordedEvent[] = [];
  reads = 0;
  #held: Promise<void> | null = null;
  #release: () => void = () => undefined;

  commit(count: number, storyId = 'story'): RecordedEvent[] {
    const added = Array.from({ length: count }, (_, index) =>
      event(this.events.length + index + 1, storyId),
    );
    this.events.push(...added);
    return added;
  }

  hold(): () => void {
    this.#held = new Promise((resolve) => (this.#release = resolve));
    return () => {
      this.#held = null;
      this.#release();
    };
  }

  logInfo() {
    return Promise.resolve({ epoch: 'epoch-1', head: this.events.length });
  }

  async readEvents(query: EventQuery): Promise<EventPage> {
    this.reads += 1;
    // The snapshot is taken when the read starts, as a database statement's would be.
    const head = this.events.length;
    const events = this.events
      .slice(0, head)
      .filter((candidate) => candidate.position > query.after)
      .slice(0, query.limit);
    await this.#held;
    return { events, head, epoch: 'epoch-1' };
  }
}

const quietSignal: ChangeSignal = { start: () => undefined, close: () => Promise.resolve() };

async function feedOver(log: MemoryLog, options: { tailSize?: number; pageSize?: number } = {}) {
  const feed = new LiveFeed(log as unknown as LogReader, quietSignal, {
    pollIntervalMs: 600_000,
    ...options,
  });
  await feed.start();
  const delivered: number[] = [];
  feed.listen((entries) => delivered.push(...entries.map((entry) => entry.position)));
  return { feed, delivered };
}

const settled = async (feed: LiveFeed) => {
  await feed.readLog();
};

describe('LiveFeed.offer', () => {
  it('given events that extend the head, delivers them at once without reading the log', async () => {
    const log = new MemoryLog();
    log.commit(3);
    const { feed, delivered } = await feedOver(log);

    feed.offer(log.commit(2));

    expect(delivered).toEqual([4, 5]);
    expect(feed.head).toBe(5);
    expect(log.reads).toBe(0);
    expect(feed.entriesAfter(3)?.map((entry) => entry.position)).toEqual([4, 5]);
    await feed.close();
  });

  it('given events at or below the head, ignores them; given some past it, takes only those', async () => {
    const log = new MemoryLog();
    const { feed, delivered } = await feedOver(log);
    const first = log.commit(3);
    feed.offer(first);

    feed.offer(first);
    feed.offer(first.slice(1));
    const more = log.commit(2);
    feed.offer([...first.slice(2), ...more]);

    expect(delivered).toEqual([1, 2, 3, 4, 5]);
    expect(log.reads).toBe(0);
    await feed.close();
  });

  it('given a gap (another process committed in between), reads the log, which brings both', async () => {
    const log = new MemoryLog();
    const { feed, delivered } = await feedOver(log);
    log.commit(2); // another process's commit, not offered
    const ours = log.commit(2);

    feed.offer(ours);
    expect(delivered).toEqual([]);
    await settled(feed);

    expect(delivered).toEqual([1, 2, 3, 4]);
    feed.offer(ours);
    expect(delivered).toEqual([1, 2, 3, 4]);
    await feed.close();
  });

  it('while a read is in flight, an offer delivers once and the read skips what it already has', async () => {
    const log = new MemoryLog();
    const { feed, delivered } = await feedOver(log, { pageSize: 3 });
    log.commit(2);
    const release = log.hold();
    feed.wake(); // reads positions 1–2 (and a second page), held
    await Promise.resolve();

    // The read is held: offers past the head wait for it; then ours extend what it brings.
    const ours = log.commit(2);
    feed.offer(ours);
    expect(delivered).toEqual([]);
    release();
    await settled(feed);
    feed.offer(ours);
    feed.offer(log.commit(1));

    expect(delivered).toEqual([1, 2, 3, 4, 5]);
    await feed.close();
  });

  it('when an offer overtakes a read, the read does not deliver those positions again', async () => {
    const log = new MemoryLog();
    const { feed, delivered } = await feedOver(log, { pageSize: 2 });
    const release = log.hold();
    const first = log.commit(3);
    feed.wake(); // its first page (1–2) is read now and held
    await Promise.resolve();
    feed.offer([]);
    // Nothing past the head yet, so only an offer that starts at 1 is accepted.
    feed.offer(first);
    expect(delivered).toEqual([1, 2, 3]);

    release();
    await settled(feed);
    feed.offer(log.commit(1));

    expect(delivered).toEqual([1, 2, 3, 4]);
    await feed.close();
  });

  it('never hands a listener a position twice, across a random mix of offers and reads', async () => {
    const log = new MemoryLog();
    const { feed, delivered } = await feedOver(log, { pageSize: 4, tailSize: 16 });
    let seed = 7;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pending: Promise<void>[] = [];
    for (let step = 0; step < 300; step += 1) {
      const committed = log.commit(1 + Math.floor(next() * 3), next() < 0.5 ? 'a' : 'b');
      const choice = next();
      if (choice < 0.5) feed.offer(committed);
      else if (choice < 0.8) feed.wake();
      else pending.push(feed.readLog());
      if (next() < 0.3) await Promise.resolve();
    }
    await Promise.all(pending);
    await settled(feed);

    expect(delivered).toEqual(log.events.map((candidate) => candidate.position));
    await feed.close();
  });
});

describe('the tail', () => {
  it('when full, keeps the newest events and answers from memory only what it still holds', async () => {
    const log = new MemoryLog();
    const { feed } = await feedOver(log, { tailSize: 5 });
    for (let round = 0; round < 4; round += 1) feed.offer(log.commit(3));

    expect(feed.head).toBe(12);
    expect(feed.entriesAfter(6)).toBeNull();
    expect(feed.entriesAfter(7)?.map((entry) => entry.position)).toEqual([8, 9, 10, 11, 12]);
    expect(feed.entriesAfter(9, 2)?.map((entry) => entry.position)).toEqual([10, 11]);
    expect(feed.entriesAfter(12)).toEqual([]);
    await feed.close();
  });

  it('readLog waits for a read that began after it was called, one read for all who wait', async () => {
    const log = new MemoryLog();
    const { feed } = await feedOver(log);
    const release = log.hold();
    feed.wake(); // a read that began before: it cannot answer the callers below
    log.commit(4);

    const waiting = Promise.all([feed.readLog(), feed.readLog(), feed.readLog()]);
    release();
    await waiting;

    expect(feed.head).toBe(4);
    expect(log.reads).toBe(2);
    await feed.close();
  });
});
