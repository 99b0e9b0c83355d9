/**
 * A database restored or recreated under a running process: the feed notices on its next read
 * (another epoch, or a head behind the one it had), forgets its tail, follows the new log, and
 * every session ends so that its client comes back and gets `recovered: false`. A read that an
 * offer overtakes is not mistaken for it.
 */
import { describe, expect, it } from 'vitest';
import { LiveFeed, type ChangeSignal } from '../../src/app/live-feed.ts';
import { LiveSession } from '../../src/app/live-session.ts';
import { LiveSessions } from '../../src/app/live-sessions.ts';
import type { EventPage, EventQuery } from '../../src/app/ports.ts';
import { MemoryReader, RecordingTransport, memoryEvent } from '../support/memory-reader.ts';

const quietSignal: ChangeSignal = { start: () => undefined, close: () => Promise.resolve() };

async function live(reader: MemoryReader) {
  const feed = new LiveFeed(reader, quietSignal, { pollIntervalMs: 600_000 });
  await feed.start();
  const sessions = new LiveSessions(feed, reader);
  const open = () => {
    const transport = new RecordingTransport();
    const session = new LiveSession(sessions, transport);
    sessions.add(session);
    return { transport, session };
  };
  return { feed, open };
}

describe('the log replaced under a running process', () => {
  it('given a new epoch (a recreated database), sessions end with log_replaced, the tail is forgotten, and a returning client gets recovered:false', async () => {
    const reader = new MemoryReader();
    reader.commit('a', 3);
    const { feed, open } = await live(reader);
    const { transport, session } = open();
    await session.subscribe({ stories: ['a'], after: 0 });
    feed.offer(reader.commit('a', 2));
    expect(transport.events()).toEqual([1, 2, 3, 4, 5]);

    reader.events = [1, 2, 3, 4, 5, 6, 7].map((position) => memoryEvent(position, 'a'));
    reader.epoch = 'epoch-2';
    await feed.readLog();

    expect(transport.closed).toEqual({ reason: 'log_replaced', after: 5 });
    expect(feed.epoch).toBe('epoch-2');
    expect(feed.head).toBe(7);
    expect(feed.entriesAfter(4)).toBeNull();

    const back = open();
    await back.session.subscribe({ stories: ['a'], after: 5, epoch: 'epoch-1' });
    expect(back.transport.messages('subscribed')[0]).toMatchObject({
      epoch: 'epoch-2',
      recovered: false,
    });
    expect(back.transport.snapshots()).toEqual([{ storyId: 'a', position: 7 }]);
    feed.offer(reader.commit('a'));
    expect(back.transport.events()).toEqual([8]);
    await feed.close();
  });

  it('given the same epoch but a head gone back (a restored backup), the same happens', async () => {
    const reader = new MemoryReader();
    reader.commit('a', 6);
    const { feed, open } = await live(reader);
    const { transport, session } = open();
    await session.subscribe({ stories: ['a'] });

    reader.events = reader.events.slice(0, 4);
    await feed.readLog();

    expect(transport.closed).toEqual({ reason: 'log_replaced', after: 6 });
    expect(feed.head).toBe(4);
    const back = open();
    await back.session.subscribe({ stories: ['a'], after: 6, epoch: 'epoch-1' });
    expect(back.transport.messages('subscribed')[0]).toMatchObject({ recovered: false });
    feed.offer(reader.commit('a'));
    expect(back.transport.events()).toEqual([5]);
    await feed.close();
  });

  it('a read that an offer overtakes (its snapshot older than the head it returns to) is not a replaced log', async () => {
    class HeldReader extends MemoryReader {
      held: Promise<void> | null = null;
      override async readEvents(query: EventQuery): Promise<EventPage> {
        const page = await super.readEvents(query);
        await this.held;
        return page;
      }
    }
    const reader = new HeldReader();
    reader.commit('a', 2);
    const { feed, open } = await live(reader);
    const { transport, session } = open();
    await session.subscribe({ stories: ['a'], after: 0 });
    let release: () => void = () => undefined;
    reader.held = new Promise((resolve) => (release = resolve));

    const reading = feed.readLog();
    await new Promise((resolve) => setTimeout(resolve, 5));
    feed.offer(reader.commit('a')); // committed here after the read's snapshot, offered at once
    release();
    await reading;

    expect(transport.closed).toBeNull();
    expect(feed.head).toBe(3);
    expect(transport.events()).toEqual([1, 2, 3]);
    await feed.close();
  });
});
