/**
 * /v1/live on real sockets and a real PostgreSQL: snapshots, resuming, replay, bad frames and
 * the limits that keep one client from hurting the others.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedIfEmpty } from '../../src/composition.ts';
import type { RecordedEvent } from '../../src/domain/event-types.ts';
import { foldOnto } from '../../src/domain/story-fold.ts';
import type { StoryProjection } from '../../src/domain/story-view.ts';
import { silentLogger } from '../support/harness.ts';
import { LiveClient, until } from '../support/live-client.ts';
import { development, opened, startLiveServer, type LiveServer } from '../support/live-server.ts';

const eventsDir = path.resolve(import.meta.dirname, '../../events');

describe('/v1/live', () => {
  let live: LiveServer;
  const clients: LiveClient[] = [];
  const connect = async (query = '') => {
    const client = await LiveClient.open(live.url, query);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    live = await startLiveServer();
    await seedIfEmpty(live.h.storyline, eventsDir, silentLogger);
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await live.close();
  });

  it('without a cursor: a snapshot that, folded with the events after it, is the final view', async () => {
    const client = await connect();
    client.send({ type: 'subscribe', stories: ['kremlin-talks'] });
    await until(() => client.of('snapshot').length === 1, 'the snapshot');
    const [subscribed] = client.of('subscribed');
    expect(subscribed).toMatchObject({ stories: ['kremlin-talks'], recovered: false });
    const snapshot = client.of('snapshot')[0];
    expect(snapshot?.position).toBe(snapshot?.state.story.position);

    await live.post('kremlin-talks', [development('Kremlin: next round not yet scheduled')]);
    const first = client.of('snapshot')[0]?.state.timeline[0].developmentId as string;
    await live.post('kremlin-talks', [
      {
        type: 'development.corrected',
        data: {
          developmentId: first,
          changes: { headline: 'Corrected' },
          note: 'n',
          severity: 'typo',
        },
      },
      { type: 'summary.revised', data: { keyPoints: ['One', 'Two'] } },
    ]);
    await until(() => client.of('event').length === 3, 'three events');

    const folded = foldOnto(
      snapshot?.state as StoryProjection,
      client.of('event').map((frame) => frame.event as RecordedEvent),
    );
    const view = await live.h.getJson('/v1/stories/kremlin-talks');
    expect(folded?.story).toEqual(view.body);
    const timeline = await live.h.getJson('/v1/stories/kremlin-talks/timeline?limit=500');
    expect(folded?.timeline).toEqual(timeline.body.entries);
  });

  it('with a cursor: every event after it, once, then live', async () => {
    const { positions } = await live.post('kremlin-talks', [development(), development()]);
    const after = (positions[0] ?? 0) - 5;
    const { body } = await live.h.getJson(
      `/v1/stories/kremlin-talks/events?after=${after}&limit=1000`,
    );
    const expected: number[] = body.events.map((event: RecordedEvent) => event.position);

    const client = await connect(`?stories=kremlin-talks&after=${after}`);
    await until(() => client.of('event').length >= expected.length, 'the catch-up');
    expect(client.of('subscribed')[0]).toMatchObject({ recovered: true });
    expect(client.of('snapshot')).toEqual([]);
    const { positions: more } = await live.post('kremlin-talks', [development()]);
    await until(() => client.of('event').length === expected.length + 1, 'the live event');
    expect(client.eventPositions()).toEqual([...expected, ...more]);
  });

  it('a stale epoch or a cursor beyond the head gets recovered:false and a fresh snapshot', async () => {
    const stale = await connect();
    stale.send({
      type: 'subscribe',
      stories: ['kremlin-talks'],
      after: 3,
      epoch: '00000000-0000-4000-8000-000000000000',
    });
    const beyond = await connect();
    beyond.send({ type: 'subscribe', stories: ['kremlin-talks'], after: 1_000_000 });
    for (const client of [stale, beyond]) {
      await until(() => client.of('snapshot').length === 1, 'a snapshot');
      expect(client.of('subscribed')[0]).toMatchObject({ recovered: false });
      expect(client.of('event')).toEqual([]);
    }
  });

  it('answers malformed and unknown commands with error frames and stays open', async () => {
    const client = await connect();
    client.send('not json');
    client.send({ type: 'teleport' });
    client.send({ type: 'subscribe', stories: ['Bad Story'] });
    client.send({ type: 'replay', storyId: 'kremlin-talks', speed: -1 });
    client.send({ type: 'replay', storyId: 'no-such-story', speed: 0 });
    await until(() => client.of('error').length === 5, 'five error frames');
    expect(client.of('error').map((frame) => frame.code)).toEqual([
      'invalid_command',
      'invalid_command',
      'invalid_command',
      'invalid_command',
      'story_not_found',
    ]);
    client.send({ type: 'ping' });
    await until(() => client.of('pong').length === 1, 'a pong');
    expect(client.closed).toBeNull();
  });

  it('closes a connection that floods it with bad frames (1008)', async () => {
    const client = await connect();
    for (let index = 0; index < 50; index += 1) client.send('{');
    await until(() => client.closed !== null, 'the close');
    expect(client.closed?.code).toBe(1008);
    expect(client.closed?.reason).toMatch(/resume with after=\d+/);
  });

  it('replays the seed story in order, as fast as possible or paced, and ends with replay.end', async () => {
    const { body } = await live.h.getJson('/v1/stories/kremlin-talks/events?limit=1000');
    const expected = body.events.map((event: RecordedEvent) => event.position);
    for (const command of [
      { type: 'replay', storyId: 'kremlin-talks', speed: 0 },
      { type: 'replay', storyId: 'kremlin-talks', speed: 100_000_000 / 100, clock: 'occurred' },
    ]) {
      const client = await connect();
      client.send(command);
      await until(() => client.of('replay.end').length === 1, 'replay.end', 60_000);
      expect(client.of('replay.event').map((frame) => frame.event.position)).toEqual(expected);
      expect(client.of('replay.end')[0]).toMatchObject({ position: expected.at(-1) });
      expect(client.of('event')).toEqual([]);
    }
  });

  it('replays a range', async () => {
    const client = await connect();
    client.send({ type: 'replay', storyId: 'kremlin-talks', from: 5, until: 9, speed: 0 });
    await until(() => client.of('replay.end').length === 1, 'replay.end');
    expect(client.of('replay.event').map((frame) => frame.event.position)).toEqual([5, 6, 7, 8, 9]);
  });

  it('refuses upgrades on other paths and from origins not allowed', async () => {
    await expect(
      LiveClient.open(live.url.replace(/\/?$/, ''), '', {}).then((client) => client.close()),
    ).resolves.toBeUndefined();
    const wrongPath = new Promise((resolve) => {
      void import('ws').then(({ default: WebSocket }) => {
        const socket = new WebSocket(`${live.url.replace(/^http/, 'ws')}/v1/elsewhere`);
        socket.on('unexpected-response', (_request, response) => resolve(response.statusCode));
        socket.on('error', () => undefined);
      });
    });
    expect(await wrongPath).toBe(404);
  });
});

describe('/v1/live with a restricted origin list', () => {
  let live: LiveServer;
  beforeAll(async () => {
    live = await startLiveServer({ allowedOrigins: ['https://news.example'] });
  });
  afterAll(() => live.close());

  it('accepts the listed origin and refuses others with 403', async () => {
    const good = await LiveClient.open(live.url, '', { Origin: 'https://news.example' });
    await good.close();
    await expect(LiveClient.open(live.url, '', { Origin: 'https://evil.example' })).rejects.toThrow(
      /403/,
    );
  });
});

describe('a subscriber that stops reading', () => {
  let live: LiveServer;
  beforeAll(async () => {
    live = await startLiveServer({ maxBufferedBytes: 64 * 1024 });
    await live.post('slow', [opened('Slow')]);
  });
  afterAll(() => live.close());

  it('is closed with 4008 and where to resume, while the others keep receiving', async () => {
    const slow = await LiveClient.open(live.url, '?stories=slow&after=1');
    const fast = await LiveClient.open(live.url, '?stories=slow&after=1');
    await until(
      () => slow.of('subscribed').length === 1 && fast.of('subscribed').length === 1,
      'subscriptions',
    );
    slow.socket.pause();

    // About 24 MiB, far more than loopback socket buffers hold.
    const body = 'x'.repeat(20_000);
    const positions: number[] = [];
    for (let batch = 0; batch < 60; batch += 1) {
      const result = await live.post(
        'slow',
        Array.from({ length: 20 }, () => development(undefined, body)),
      );
      positions.push(...result.positions);
    }
    await until(() => fast.of('event').length === positions.length, 'the fast subscriber', 60_000);
    expect(fast.eventPositions()).toEqual(positions);
    expect(fast.closed).toBeNull();

    // The server gave up on the slow one; once it reads again it learns why and where to resume.
    slow.socket.resume();
    await until(() => slow.closed !== null, 'the slow subscriber to be closed', 60_000);
    expect(slow.closed?.code).toBe(4008);
    const after = Number(/after=(\d+)/.exec(slow.closed?.reason ?? '')?.[1]);
    const received = slow.eventPositions();
    expect(received.at(-1) ?? 1).toBe(after);
    expect(received.length).toBeLessThan(positions.length);

    // Resuming from there delivers exactly the rest.
    const resumed = await LiveClient.open(live.url, `?stories=slow&after=${after}`);
    await until(
      () => [...received, ...resumed.eventPositions()].length === positions.length,
      'the rest',
      60_000,
    );
    expect([...received, ...resumed.eventPositions()]).toEqual(positions);
    await resumed.close();
    await fast.close();
  });
});

describe('limits and shutdown', () => {
  it('refuses connections past the limit with 503, and frames too big with 1009', async () => {
    const live = await startLiveServer({ maxConnections: 2, maxFrameBytes: 1024 });
    try {
      const first = await LiveClient.open(live.url);
      const second = await LiveClient.open(live.url);
      await expect(LiveClient.open(live.url)).rejects.toThrow(/503/);
      first.send({ type: 'subscribe', stories: ['x'.repeat(2000)] });
      await until(() => first.closed !== null, 'the close');
      expect(first.closed?.code).toBe(1009);
      await second.close();
    } finally {
      await live.close();
    }
  });

  it('refuses more stories per connection than allowed, keeping the connection', async () => {
    const live = await startLiveServer({ maxStories: 2 });
    try {
      const client = await LiveClient.open(live.url);
      client.send({ type: 'subscribe', stories: ['a', 'b', 'c'] });
      await until(() => client.of('error').length === 1, 'an error frame');
      expect(client.of('error')[0]).toMatchObject({ code: 'too_many_stories', limit: 2 });
      expect(client.closed).toBeNull();
      await client.close();
    } finally {
      await live.close();
    }
  });

  it('closes every connection with 1001 and the position to resume after on shutdown', async () => {
    const live = await startLiveServer();
    await live.post('closing', [opened('Closing')]);
    const { positions } = await live.post('closing', [development(), development()]);
    const client = await LiveClient.open(live.url, '?stories=closing&after=0');
    await until(() => client.of('event').length === 3, 'the catch-up');
    await live.close();
    await until(() => client.closed !== null, 'the close');
    expect(client.closed).toEqual({
      code: 1001,
      reason: `going away; resume with after=${positions.at(-1) ?? 0}`,
    });
  });
});
