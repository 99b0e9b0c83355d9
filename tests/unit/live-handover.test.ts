/**
 * The catch-up → live hand-over, with appends injected at exactly the moments that matter (not
 * hoped for in a timing race): between the head a subscription reads and its snapshot or story
 * list, and during a catch-up page. Whatever the moment, each event reaches the client once:
 * never both in a snapshot and as an event, never twice as an event.
 */
import { describe, expect, it } from 'vitest';
import { LiveFeed, type ChangeSignal } from '../../src/app/live-feed.ts';
import { LiveSession } from '../../src/app/live-session.ts';
import { LiveSessions } from '../../src/app/live-sessions.ts';
import { MemoryReader, RecordingTransport } from '../support/memory-reader.ts';

const quietSignal: ChangeSignal = { start: () => undefined, close: () => Promise.resolve() };

async function live(reader: MemoryReader, tailSize = 10_000) {
  const feed = new LiveFeed(reader, quietSignal, {
    pollIntervalMs: 600_000,
    pageSize: 3,
    tailSize,
  });
  await feed.start();
  const sessions = new LiveSessions(feed, reader);
  const open = () => {
    const transport = new RecordingTransport();
    const session = new LiveSession(sessions, transport, { pageSize: 2 });
    sessions.add(session);
    return { transport, session };
  };
  return { feed, open };
}

/**
 * Each story's events the client got are exactly the log's events of that story after what it
 * already had (its latest snapshot's position, or the cursor it gave), in order, once each.
 */
function expectEachEventOnce(
  reader: MemoryReader,
  transport: RecordingTransport,
  stories: Record<string, number | 'snapshot'>,
) {
  for (const [storyId, from] of Object.entries(stories)) {
    const snapshot = transport.snapshots().filter((item) => item.storyId === storyId);
    const floor = from === 'snapshot' ? (snapshot.at(-1)?.position ?? 0) : from;
    const expected = reader.events
      .filter((event) => event.storyId === storyId && event.position > floor)
      .map((event) => event.position);
    expect(transport.events(storyId), `the events of ${storyId}`).toEqual(expected);
  }
  const all = transport.events();
  expect(new Set(all).size, 'no event twice').toBe(all.length);
}

describe('the hand-over', () => {
  it('given an append that commits (and reaches the feed) between the head read and the snapshot, it is in the snapshot and never sent again', async () => {
    const reader = new MemoryReader();
    reader.commit('a', 3);
    const { feed, open } = await live(reader);
    const { transport, session } = open();
    reader.hooks.storySnapshot = () => {
      feed.offer(reader.commit('a'));
    };

    await session.subscribe({ stories: ['a'] });
    feed.offer(reader.commit('a', 2));
    await feed.readLog();

    expect(transport.messages('subscribed')[0]).toMatchObject({ position: 3, recovered: false });
    expect(transport.snapshots()).toEqual([{ storyId: 'a', position: 4 }]);
    expect(transport.events('a')).toEqual([5, 6]);
    expectEachEventOnce(reader, transport, { a: 'snapshot' });
    await feed.close();
  });

  it('given an append in the snapshot that the feed reads only after the hand-over, it is not sent live', async () => {
    const reader = new MemoryReader();
    reader.commit('a', 3);
    const { feed, open } = await live(reader);
    const { transport, session } = open();
    reader.hooks.storySnapshot = () => {
      reader.commit('a', 2); // committed by another process: the feed has not read it yet
    };

    await session.subscribe({ stories: ['a'] });
    expect(session.live).toBe(true);
    await feed.readLog();
    feed.offer(reader.commit('a'));

    expect(transport.snapshots()).toEqual([{ storyId: 'a', position: 5 }]);
    expect(transport.events('a')).toEqual([6]);
    expectEachEventOnce(reader, transport, { a: 'snapshot' });
    await feed.close();
  });

  it('given "*" without a cursor and a story opened between the head read and the list, each story comes once', async () => {
    const reader = new MemoryReader();
    reader.commit('a', 2);
    reader.commit('b', 1);
    const { feed, open } = await live(reader);
    const { transport, session } = open();
    // The first list is the limit check; the second, after the head is read, the real one.
    reader.hooks.listStories = () => {
      reader.hooks.listStories = () => {
        feed.offer(reader.commit('c', 2));
        feed.offer(reader.commit('a'));
      };
    };
    reader.hooks.storySnapshot = () => {
      reader.commit('b'); // not read by the feed yet
    };

    await session.subscribe({ stories: '*' });
    await feed.readLog();
    feed.offer([...reader.commit('c'), ...reader.commit('b')]);

    expectEachEventOnce(reader, transport, { a: 'snapshot', b: 'snapshot', c: 'snapshot' });
    await feed.close();
  });

  it('given a story added to a live subscription, appends during its snapshot reach the client once each', async () => {
    const reader = new MemoryReader();
    reader.commit('a', 2);
    reader.commit('b', 2);
    const { feed, open } = await live(reader);
    const { transport, session } = open();
    await session.subscribe({ stories: ['a'], after: 0 });
    feed.offer(reader.commit('a'));
    reader.hooks.storySnapshot = () => {
      feed.offer([...reader.commit('b'), ...reader.commit('a')]);
      reader.commit('a'); // and one the feed reads later
    };

    await session.subscribe({ stories: ['b'] });
    await feed.readLog();
    feed.offer([...reader.commit('b'), ...reader.commit('a')]);

    expectEachEventOnce(reader, transport, { a: 0, b: 'snapshot' });
    await feed.close();
  });

  it('given a snapshot ahead of the feed, a later subscription on the same session does not forget it', async () => {
    const reader = new MemoryReader();
    reader.commit('a', 2);
    reader.commit('b');
    reader.commit('c');
    const { feed, open } = await live(reader);
    const { transport, session } = open();
    reader.hooks.storySnapshot = () => {
      reader.commit('b'); // by another process: the snapshot is ahead of the feed
    };

    await session.subscribe({ stories: ['b'] });
    await session.subscribe({ stories: ['c'] });
    await feed.readLog();
    feed.offer([...reader.commit('b'), ...reader.commit('c')]);

    expect(transport.snapshots()).toEqual([
      { storyId: 'b', position: 5 },
      { storyId: 'c', position: 4 },
    ]);
    expectEachEventOnce(reader, transport, { b: 'snapshot', c: 'snapshot' });
    await feed.close();
  });

  it('given a live subscription, "*" from an older cursor sends the stories already followed nothing twice', async () => {
    const reader = new MemoryReader();
    reader.commit('a', 3);
    reader.commit('b', 3);
    const { feed, open } = await live(reader);
    const { transport, session } = open();
    await session.subscribe({ stories: ['a'], after: 0 });
    feed.offer(reader.commit('a'));

    await session.subscribe({ stories: '*', after: 2, epoch: 'epoch-1' });
    feed.offer([...reader.commit('b'), ...reader.commit('a')]);

    expectEachEventOnce(reader, transport, { a: 0, b: 2 });
    await feed.close();
  });

  it('given "*" live, "*" again (from a cursor or from snapshots) sends nothing twice', async () => {
    const reader = new MemoryReader();
    reader.commit('a', 2);
    reader.commit('b', 2);
    const { feed, open } = await live(reader);
    const { transport, session } = open();
    await session.subscribe({ stories: '*', after: 0 });
    feed.offer(reader.commit('a'));

    await session.subscribe({ stories: '*', after: 1, epoch: 'epoch-1' });
    feed.offer(reader.commit('b'));
    await session.subscribe({ stories: '*' });
    feed.offer(reader.commit('a'));

    expect(transport.snapshots()).toEqual([]);
    expectEachEventOnce(reader, transport, { a: 0, b: 0 });
    await feed.close();
  });

  it('given a cursor older than the tail, appends during each catch-up page reach the client once each', async () => {
    const reader = new MemoryReader();
    reader.commit('a', 9);
    const { feed, open } = await live(reader, 2);
    const { transport, session } = open();
    let pages = 0;
    const commitDuringPage = () => {
      pages += 1;
      feed.offer(reader.commit('a'));
      if (pages < 4) reader.hooks.readEvents = commitDuringPage;
    };
    reader.hooks.readEvents = commitDuringPage;

    await session.subscribe({ stories: ['a'], after: 1, epoch: 'epoch-1' });
    feed.offer(reader.commit('a'));
    await feed.readLog();

    expect(pages).toBeGreaterThan(1);
    expectEachEventOnce(reader, transport, { a: 1 });
    await feed.close();
  });
});
