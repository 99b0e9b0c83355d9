/**
 * Hostile input to the live endpoints, over real sockets: frames on `/v1/live`, the query string
 * of its upgrade, and the query of the Server-Sent Events stream. None may end in a 500, an
 * `internal` error frame or a 1011 close; a client's mistakes get `invalid_command` (or a 4xx
 * refusal of the upgrade), and the connection still answers a ping afterwards.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  hostileJson,
  hostileQueryValue,
  nastyString,
  nastyValue,
} from '../support/hostile-inputs.ts';
import { LiveClient, until } from '../support/live-client.ts';
import { opened, startLiveServer, type LiveServer } from '../support/live-server.ts';

/** A frame as text: a command with hostile fields, hostile JSON, or not JSON at all. */
const frame: fc.Arbitrary<string> = fc.oneof(
  fc
    .record(
      {
        type: fc.constantFrom('subscribe', 'unsubscribe', 'replay', 'ping', 'nope'),
        stories: fc.oneof(
          fc.constant(['live-hostile']),
          fc.constant('*'),
          fc.array(nastyString, { maxLength: 3 }),
          nastyValue,
        ),
        storyId: fc.oneof(fc.constant('live-hostile'), nastyString),
        after: fc.oneof(fc.nat(), nastyValue),
        from: fc.oneof(fc.nat(), nastyValue),
        until: fc.oneof(fc.nat(), nastyValue),
        speed: fc.oneof(fc.constant(1000), nastyValue),
        epoch: fc.oneof(fc.constant('x'), nastyValue),
        clock: fc.oneof(fc.constant('recorded'), nastyValue),
      },
      { requiredKeys: ['type'] },
    )
    .map(hostileJson),
  nastyValue.map(hostileJson),
  nastyString,
);

describe('hostile input to the live endpoints', () => {
  let live: LiveServer;
  beforeAll(async () => {
    live = await startLiveServer();
    await live.post('live-hostile', [opened('Live hostile')]);
  });
  afterAll(() => live.close());

  it('no frame gets an internal error or a 1011 close, and a ping still answers', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 3 }), async (frames) => {
        const client = await LiveClient.open(live.url);
        try {
          for (const text of frames) client.send(text);
          client.send({ type: 'ping' });
          await until(
            () => client.of('pong').length > 0 || client.closed !== null,
            'a pong or a close',
          );
          const shown = frames.map((text) => text.slice(0, 200)).join(' | ');
          expect(
            client.of('error').filter((error) => error.code === 'internal'),
            shown,
          ).toEqual([]);
          expect(client.closed?.code, shown).not.toBe(1011);
        } finally {
          await client.close();
        }
      }),
      { numRuns: 150 },
    );
  });

  it('no upgrade query gets a 500 or a 1011 close', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('stories', 'after', 'epoch', 'x'), hostileQueryValue), {
          maxLength: 3,
        }),
        async (query) => {
          const search = query.map(([name, value]) => `${name}=${value}`).join('&');
          const outcome = await upgrade(`${live.url.replace(/^http/, 'ws')}/v1/live?${search}`);
          expect(outcome.status ?? 101, search).toBeLessThan(500);
          expect(outcome.closeCode, search).not.toBe(1011);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('no Server-Sent Events query gets a 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('after', 'epoch'), hostileQueryValue), { maxLength: 2 }),
        // Header values are visible ASCII; fetch refuses anything else before sending.
        fc.oneof(
          fc.constant(undefined),
          hostileQueryValue.filter((v) => /^[\x21-\x7e]*$/.test(v)),
        ),
        async (query, lastEventId) => {
          const search = query.map(([name, value]) => `${name}=${value}`).join('&');
          const abort = new AbortController();
          const headers: Record<string, string> =
            lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId };
          const res = await fetch(`${live.url}/v1/stories/live-hostile/live?${search}`, {
            headers,
            signal: abort.signal,
          });
          expect(res.status, `${search} ${lastEventId ?? ''}`).toBeLessThan(500);
          abort.abort();
          await res.body?.cancel().catch(() => undefined);
        },
      ),
      { numRuns: 100 },
    );
  });
});

/** Opens a WebSocket; the refusal's status, or how the opened socket closed after a ping. */
function upgrade(url: string): Promise<{ status?: number; closeCode?: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('unexpected-response', (_request, response) => {
      resolve({ status: response.statusCode ?? 0 });
      socket.terminate();
    });
    socket.once('open', () => {
      socket.send(JSON.stringify({ type: 'ping' }));
      socket.once('message', () => socket.close());
    });
    socket.once('close', (code) => resolve({ closeCode: code }));
    socket.once('error', (error) => {
      if (socket.readyState === WebSocket.CLOSED) return;
      reject(error);
    });
  });
}
