/**
 * One anonymous live client, on real sockets and a real PostgreSQL, trying to take the server's
 * memory, its database pool or the process itself: the attacks from the issue, scaled down but
 * of the same shape, each bounded in count and time. The server closes the client (or refuses
 * it) and keeps answering everyone else.
 */
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedIfEmpty } from '../../src/composition.ts';
import { silentLogger } from '../support/harness.ts';
import { LiveClient, until } from '../support/live-client.ts';
import { development, opened, startLiveServer, type LiveServer } from '../support/live-server.ts';

const eventsDir = path.resolve(import.meta.dirname, '../../events');
const megabyte = 1024 * 1024;

/** A story whose snapshot is about `megabytes` MB. */
async function bigStory(live: LiveServer, storyId: string, megabytes: number) {
  await live.post(storyId, [opened('Big')]);
  const body = 'x'.repeat(20_000);
  for (let batch = 0; batch < Math.ceil((megabytes * megabyte) / (20 * 20_000)); batch += 1) {
    await live.post(
      storyId,
      Array.from({ length: 20 }, () => development(undefined, body)),
    );
  }
}

/** The process's resident memory, sampled until stopped; the highest seen. */
function sampleRss() {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  return () => {
    clearInterval(timer);
    return Math.max(peak, process.memoryUsage().rss);
  };
}

async function sseStreams(live: LiveServer): Promise<number> {
  const text = await (await fetch(`${live.url}/metrics`)).text();
  return Number(/storyline_live_subscribers\{transport="sse"\} (\d+)/.exec(text)?.[1] ?? NaN);
}

async function endedSlow(live: LiveServer): Promise<number> {
  const text = await (await fetch(`${live.url}/metrics`)).text();
  const line = /storyline_live_sessions_ended_total\{reason="slow_consumer"\} (\d+)/.exec(text);
  return Number(line?.[1] ?? 0);
}

describe('a client that never reads', () => {
  let live: LiveServer;
  beforeAll(async () => {
    live = await startLiveServer({
      maxBufferedBytes: 256 * 1024,
      drainTimeoutMs: 300,
      commandsPerSecond: 10_000,
    });
    // Bigger than what loopback socket buffers take from a client that does not read (about
    // 4 MB here), so that most of it stays queued in the server.
    await bigStory(live, 'big', 6);
  });
  afterAll(() => live.close());

  it('subscribing and unsubscribing a big story again and again on WebSocket: closed with 4008 and its cursor, memory bounded', async () => {
    const client = await LiveClient.open(live.url);
    client.socket.pause();
    const idle = process.memoryUsage().rss;
    const peak = sampleRss();
    for (let round = 0; round < 100; round += 1) {
      client.send({ type: 'subscribe', stories: ['big'] });
      client.send({ type: 'unsubscribe', stories: ['big'] });
    }
    await until(async () => (await endedSlow(live)) >= 1, 'the server to give up on it', 20_000);
    const grown = peak() - idle;

    client.socket.resume();
    await until(() => client.closed !== null, 'the close', 40_000);
    expect(client.closed?.code).toBe(4008);
    expect(client.closed?.reason).toMatch(/resume with after=\d+/);
    // Those the kernel's socket buffers took before the server's own queue filled up, no more.
    expect(client.of('snapshot').length).toBeLessThan(10);
    expect(grown).toBeLessThan(150 * megabyte);
  });

  it('many Server-Sent Events streams of a big story that never read: every one ended, memory bounded', async () => {
    const idle = process.memoryUsage().rss;
    const peak = sampleRss();
    const streams = await Promise.all(
      Array.from(
        { length: 12 },
        () =>
          new Promise<http.IncomingMessage>((resolve, reject) => {
            const request = http.get(`${live.url}/v1/stories/big/live`, (response) => {
              response.pause(); // never read
              resolve(response);
            });
            request.on('error', reject);
          }),
      ),
    );
    expect(streams.every((response) => response.statusCode === 200)).toBe(true);
    // Seen from the server: a client that does not read does not notice its socket closing.
    await until(async () => (await sseStreams(live)) === 0, 'every stream to be ended', 30_000);
    expect(await endedSlow(live)).toBeGreaterThanOrEqual(streams.length);
    const grown = peak() - idle;

    expect(grown).toBeLessThan(150 * megabyte);
    const response = await fetch(`${live.url}/v1/stories/big`);
    expect(response.status).toBe(200);
    for (const stream of streams) stream.destroy();
  });
});

describe('floods of commands', () => {
  let live: LiveServer;
  beforeAll(async () => {
    live = await startLiveServer({ maxStories: 2 });
    await seedIfEmpty(live.h.storyline, eventsDir, silentLogger);
  });
  afterAll(() => live.close());

  it('1,500 replays on each of several connections: closed for flooding, while reads keep answering', async () => {
    const flooders = await Promise.all(Array.from({ length: 6 }, () => LiveClient.open(live.url)));
    const flooding = flooders.map(async (client) => {
      for (let index = 0; index < 1500 && client.closed === null; index += 1) {
        client.send({ type: 'replay', storyId: 'kremlin-talks', speed: 0 });
        if (index % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
      }
    });
    const answered: number[] = [];
    const reading = (async () => {
      for (let round = 0; round < 10; round += 1) {
        const [story, ready] = await Promise.all([
          fetch(`${live.url}/v1/stories/kremlin-talks`),
          fetch(`${live.url}/readyz`),
        ]);
        answered.push(story.status, ready.status);
      }
    })();
    await Promise.all(flooding);
    // A generous bound, not a timing assertion: the reads answer while the flood runs.
    await Promise.race([
      reading,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('reads stalled behind the flood')), 10_000),
      ),
    ]);

    expect(answered).toHaveLength(20);
    expect(answered.every((status) => status === 200)).toBe(true);
    for (const client of flooders) {
      await until(() => client.closed !== null, 'the flooder to be closed');
      expect(client.closed?.code).toBe(1008);
      expect(client.closed?.reason).toMatch(/too many commands; resume with after=\d+/);
      expect(client.of('replay.end').length).toBeLessThanOrEqual(1);
    }
  });

  it('subscribe and unsubscribe in a loop: closed for flooding', async () => {
    const client = await LiveClient.open(live.url);
    for (let index = 0; index < 500 && client.closed === null; index += 1) {
      client.send({ type: 'subscribe', stories: ['kremlin-talks'] });
      client.send({ type: 'unsubscribe', stories: ['kremlin-talks'] });
    }
    await until(() => client.closed !== null, 'the close');
    expect(client.closed?.code).toBe(1008);
    expect(client.of('snapshot').length).toBeLessThanOrEqual(40);
  });

  it('"*" without a cursor and more stories than a connection may follow: an error frame, and the connection stays', async () => {
    await live.post('one-more', [opened('One more')]);
    await live.post('and-another', [opened('And another')]); // three stories, two allowed
    const client = await LiveClient.open(live.url);
    client.send({ type: 'subscribe', stories: '*' });
    await until(() => client.of('error').length === 1, 'an error frame');
    expect(client.of('error')[0]).toMatchObject({ code: 'too_many_stories', limit: 2 });
    expect(client.of('snapshot')).toEqual([]);

    const { body } = await live.h.getJson('/v1/events?limit=1');
    client.send({ type: 'subscribe', stories: '*', after: 0, epoch: body.epoch });
    await until(() => client.of('subscribed').length === 1, 'the subscription');
    expect(client.of('subscribed')[0]).toMatchObject({ stories: '*', recovered: true });
    expect(client.closed).toBeNull();
    await client.close();
  });
});

describe('refused upgrades', () => {
  let live: LiveServer;
  beforeAll(async () => {
    live = await startLiveServer({ maxConnections: 1 });
  });
  afterAll(() => live.close());

  it('whose client resets the connection at once, many times: the server stays up', async () => {
    const { port } = new URL(live.url);
    const upgrade = (target: string) =>
      `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    const keep = await LiveClient.open(live.url); // the one connection allowed: later ones get 503
    const targets = ['/v1/elsewhere', '/v1/live?after=x', '/v1/live'];
    for (let round = 0; round < 20; round += 1) {
      await Promise.all(
        Array.from(
          { length: 30 },
          (_, index) =>
            new Promise<void>((resolve) => {
              const socket = net.connect(Number(port), '127.0.0.1', () => {
                socket.write(upgrade(targets[index % targets.length] ?? '/'), () => {
                  socket.resetAndDestroy();
                });
              });
              socket.on('error', () => undefined);
              socket.on('close', () => resolve());
            }),
        ),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect((await fetch(`${live.url}/healthz`)).status).toBe(200);
    const refused = await new Promise<http.IncomingMessage>((resolve) => {
      http
        .get(`${live.url}/v1/live`, {
          headers: {
            Upgrade: 'websocket',
            Connection: 'Upgrade',
            'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
            'Sec-WebSocket-Version': '13',
          },
        })
        .on('response', resolve)
        .on('upgrade', (response) => resolve(response));
    });
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    refused.destroy();
    await keep.close();
  });
});

describe('Server-Sent Events streams', () => {
  let live: LiveServer;
  beforeAll(async () => {
    live = await startLiveServer({ maxSseStreams: 2 });
    await live.post('capped', [opened('Capped')]);
  });
  afterAll(() => live.close());

  it('past the cap: 503 with Retry-After and the JSON error; room again once one closes', async () => {
    const open = () => {
      const controller = new AbortController();
      return {
        controller,
        response: fetch(`${live.url}/v1/stories/capped/live`, { signal: controller.signal }),
      };
    };
    const first = open();
    const second = open();
    expect((await first.response).status).toBe(200);
    expect((await second.response).status).toBe(200);

    const refused = await fetch(`${live.url}/v1/stories/capped/live`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.json()).toMatchObject({ error: { code: 'unavailable' } });

    first.controller.abort();
    await until(async () => {
      const again = open();
      const response = await again.response;
      again.controller.abort();
      return response.status === 200;
    }, 'room for a stream');
    second.controller.abort();
  });
});
