/**
 * What one live client can cost, over the in-memory LogReader and a transport that can stop
 * reading: every byte queued counts against the buffer limit (snapshots and replays too), a
 * flood of replays runs one at a time, live reads share a bounded number of database
 * connections, "*" obeys the story limit, and a subscription the database fails ends the session
 * with where to resume instead of leaving it open and dead.
 */
import { describe, expect, it } from 'vitest';
import { LiveFeed, type ChangeSignal } from '../../src/app/live-feed.ts';
import { ReadCancelled, ReadGate } from '../../src/app/live-reads.ts';
import { LiveSession, type LiveSessionOptions } from '../../src/app/live-session.ts';
import { LiveSessions } from '../../src/app/live-sessions.ts';
import { MemoryReader, RecordingTransport } from '../support/memory-reader.ts';

const quietSignal: ChangeSignal = { start: () => undefined, close: () => Promise.resolve() };

async function live(reader: MemoryReader, maxDatabaseReads = 3, tailSize = 10_000) {
  const feed = new LiveFeed(reader, quietSignal, { pollIntervalMs: 600_000, tailSize });
  await feed.start();
  const sessions = new LiveSessions(feed, reader, { maxDatabaseReads });
  const open = (options: LiveSessionOptions = {}) => {
    const transport = new RecordingTransport();
    const session = new LiveSession(sessions, transport, { pageSize: 2, ...options });
    sessions.add(session);
    return { transport, session };
  };
  return { feed, sessions, open };
}

describe('the buffer limit', () => {
  it('given a client that never reads, subscribing and unsubscribing a big story again and again, it is closed (4008) with little queued', async () => {
    const reader = new MemoryReader();
    reader.commit('big', 3);
    const { feed, open } = await live(reader);
    const maxBufferedBytes = 1024 * 1024;
    const { transport, session } = open({ maxBufferedBytes, drainTimeoutMs: 20 });
    transport.snapshotBytes = 4_700_000;
    transport.reading = false;

    for (let round = 0; round < 400 && transport.isOpen; round += 1) {
      await session.subscribe({ stories: ['big'] });
      session.unsubscribe(['big']);
    }

    expect(transport.closed).toEqual({ reason: 'slow_consumer', after: 3 });
    expect(transport.snapshots().length).toBe(1);
    expect(transport.queued).toBeLessThan(maxBufferedBytes + transport.snapshotBytes + 10_000);
    await feed.close();
  });

  it('given a client that stops reading during its snapshots, the next snapshot waits for it and it is closed when it does not read', async () => {
    const reader = new MemoryReader();
    for (const storyId of ['a', 'b', 'c', 'd']) reader.commit(storyId);
    const { feed, open } = await live(reader);
    const { transport, session } = open({ maxBufferedBytes: 64 * 1024, drainTimeoutMs: 20 });
    transport.snapshotBytes = 50_000;
    transport.reading = false;

    await session.subscribe({ stories: ['a', 'b', 'c', 'd'] });

    expect(transport.snapshots().map((snapshot) => snapshot.storyId)).toEqual(['a']);
    expect(transport.closed?.reason).toBe('slow_consumer');
    await feed.close();
  });

  it('given a client that reads slowly, every snapshot arrives and the session goes live', async () => {
    const reader = new MemoryReader();
    for (const storyId of ['a', 'b', 'c']) reader.commit(storyId);
    const { feed, open } = await live(reader);
    const { transport, session } = open({ maxBufferedBytes: 64 * 1024, drainTimeoutMs: 60_000 });
    transport.snapshotBytes = 50_000;
    transport.reading = false;
    const reads = setInterval(() => {
      transport.resume();
      transport.reading = false;
    }, 5);

    await session.subscribe({ stories: ['a', 'b', 'c'] });
    clearInterval(reads);

    expect(transport.snapshots().map((snapshot) => snapshot.storyId)).toEqual(['a', 'b', 'c']);
    expect(session.live).toBe(true);
    expect(transport.closed).toBeNull();
    await feed.close();
  });

  it('given a replay to a client that stops reading, the client is closed, not left holding the replay', async () => {
    const reader = new MemoryReader();
    reader.commit('a', 50);
    const { feed, open } = await live(reader);
    const { transport, session } = open({ maxBufferedBytes: 16 * 1024, drainTimeoutMs: 20 });
    transport.reading = false;

    await session.replay({ storyId: 'a', speed: 0 });

    expect(transport.closed?.reason).toBe('slow_consumer');
    expect(transport.messages('replay.event').length).toBeLessThan(50);
    expect(transport.messages('replay.end')).toEqual([]);
    await feed.close();
  });
});

describe('replays', () => {
  it('given a flood of replays on one session, they run one at a time and only the last one finishes', async () => {
    const reader = new MemoryReader();
    reader.commit('a', 5);
    const { feed, open } = await live(reader);
    const { transport, session } = open();
    let release: () => void = () => undefined;
    reader.gate = new Promise((resolve) => (release = resolve));

    const replays = Array.from({ length: 300 }, () =>
      session.replay({ storyId: 'a', speed: 0 }).catch((error: unknown) => error),
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    const runningDuringFlood = reader.running;
    reader.gate = null;
    release();
    const outcomes = await Promise.all(replays);

    expect(runningDuringFlood).toBe(1);
    expect(reader.mostRunning).toBe(1);
    expect(outcomes.every((outcome) => outcome === undefined)).toBe(true);
    expect(transport.messages('replay.end')).toEqual([
      { type: 'replay.end', storyId: 'a', position: 5 },
    ]);
    expect(transport.messages('replay.event').length).toBe(5);
    await feed.close();
  });

  it('a new replay cuts the running one short, even in the middle of a pause', async () => {
    const reader = new MemoryReader();
    reader.commit('a', 3);
    const { feed, open } = await live(reader);
    const { transport, session } = open({ maxReplayGapMs: 600_000 });
    // Real time with gaps of ten minutes (capped at ten minutes): it would take twenty.
    reader.events = reader.events.map((event, index) => ({
      ...event,
      recordedAt: new Date(Date.UTC(2025, 11, 1, 7, index * 10)).toISOString(),
    }));

    const slow = session.replay({ storyId: 'a', speed: 1 });
    await new Promise((resolve) => setTimeout(resolve, 10));
    await session.replay({ storyId: 'a', speed: 0, from: 2 });
    await slow;

    expect(transport.messages('replay.end')).toEqual([
      { type: 'replay.end', storyId: 'a', position: 3 },
    ]);
    await feed.close();
  });
});

describe("the live path's share of the database", () => {
  it('given many sessions catching up from the database at once, at most the allowed reads run together', async () => {
    const reader = new MemoryReader();
    for (let round = 0; round < 20; round += 1) reader.commit(`s${round % 7}`, 3);
    const { feed, open } = await live(reader, 2, 1);
    reader.mostRunning = 0;

    const clients = Array.from({ length: 40 }, (_, index) => open({ pageSize: 2 + (index % 3) }));
    await Promise.all(
      clients.map(({ session }, index) =>
        index % 2 === 0
          ? session.subscribe({ stories: [`s${index % 7}`], after: 0 })
          : session.subscribe({ stories: [`s${index % 7}`, 'nothing-yet'] }),
      ),
    );

    expect(reader.mostRunning).toBe(2);
    expect(clients.every(({ session }) => session.live)).toBe(true);
    await feed.close();
  });

  it('a read no longer wanted when its turn comes is dropped, not run', async () => {
    const gate = new ReadGate(1);
    let release: () => void = () => undefined;
    const first = gate.run(() => new Promise<void>((resolve) => (release = resolve)));
    let ran = false;
    const dropped = gate.run(
      () => {
        ran = true;
        return Promise.resolve();
      },
      () => false,
    );
    const next = gate.run(() => Promise.resolve('next'));
    expect(gate.queued).toBe(2);
    release();

    await first;
    await expect(dropped).rejects.toBeInstanceOf(ReadCancelled);
    expect(await next).toBe('next');
    expect(ran).toBe(false);
    expect(gate.running).toBe(0);
  });
});

describe('"*"', () => {
  it('without a cursor, with more stories than a connection may follow: refused, the session unchanged', async () => {
    const reader = new MemoryReader();
    for (let index = 0; index < 5; index += 1) reader.commit(`story-${index}`);
    const { feed, open } = await live(reader);
    const { transport, session } = open({ maxStories: 3 });

    await expect(session.subscribe({ stories: '*' })).rejects.toMatchObject({
      code: 'too_many_stories',
      details: { limit: 3 },
    });
    expect(transport.snapshots()).toEqual([]);
    expect(reader.calls.storySnapshot).toBe(0);
    expect(session.stories).toEqual(new Set());
    expect(transport.closed).toBeNull();

    // With a cursor there is nothing to snapshot: every story, from there.
    await session.subscribe({ stories: '*', after: 3, epoch: 'epoch-1' });
    expect(transport.events()).toEqual([4, 5]);
    await feed.close();
  });
});

describe('a subscription the database fails', () => {
  it('given the database away during a catch-up page, the session ends with unavailable and its cursor', async () => {
    const reader = new MemoryReader();
    reader.commit('a', 6);
    const { feed, open } = await live(reader, 3, 1);
    const { transport, session } = open({ pageSize: 2 });
    let pages = 0;
    const failSecondPage = () => {
      pages += 1;
      if (pages === 2) reader.failure = new Error('Connection terminated unexpectedly');
      else reader.hooks.readEvents = failSecondPage;
    };
    reader.hooks.readEvents = failSecondPage;

    await expect(session.subscribe({ stories: ['a'], after: 0 })).rejects.toThrow(
      /Connection terminated/,
    );

    expect(transport.events()).toEqual([1, 2]);
    expect(transport.closed).toEqual({ reason: 'unavailable', after: 2 });
    await feed.close();
  });

  it('given the database away during a snapshot read, the session ends with unavailable', async () => {
    const reader = new MemoryReader();
    reader.commit('a', 2);
    const { feed, open } = await live(reader);
    const { transport, session } = open();
    reader.failure = new Error('connect ECONNREFUSED 127.0.0.1:5432');

    await expect(session.subscribe({ stories: ['a'] })).rejects.toThrow(/ECONNREFUSED/);

    expect(transport.messages('subscribed')).toHaveLength(1);
    expect(transport.closed?.reason).toBe('unavailable');
    await feed.close();
  });
});
