/**
 * A body over the limit gets 413 with the JSON error body, every time, on a real socket: with a
 * Content-Length and chunked, through node:http and through fetch. A server that answers and
 * closes while the client is still sending resets the connection, and the client then sees the
 * reset instead of the answer; so the server reads the rest of the body before it answers.
 */
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type RunningServer } from '../../src/composition.ts';
import { readConfig } from '../../src/config.ts';
import { createHarness, silentLogger, type Harness } from '../support/harness.ts';

const limit = 1024 * 1024;
const tries = 20;

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly headers: http.IncomingHttpHeaders;
}

/** POSTs `body` with node:http, in 64 KiB writes when chunked; a reset rejects. */
function post(
  url: string,
  body: Buffer,
  { chunked, token }: { chunked: boolean; token: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: 'POST',
      agent: false,
      headers: {
        'Content-Type': 'application/json',
        Authorization: `Bearer ${token}`,
        ...(chunked ? {} : { 'Content-Length': String(body.length) }),
      },
    });
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, text, headers: response.headers }),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
    if (!chunked) {
      request.end(body);
      return;
    }
    let offset = 0;
    const writeMore = () => {
      while (offset < body.length) {
        const piece = body.subarray(offset, offset + 64 * 1024);
        offset += piece.length;
        if (!request.write(piece)) {
          request.once('drain', writeMore);
          return;
        }
      }
      request.end();
    };
    writeMore();
  });
}

/** A well-formed append of about `bytes` bytes. */
function appendOf(bytes: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      events: [
        {
          type: 'story.opened',
          data: { title: 'Big', summary: 'x'.repeat(bytes), timeZone: 'Europe/Moscow' },
        },
      ],
    }),
  );
}

describe('oversized bodies on a real socket', () => {
  let h: Harness;
  let server: RunningServer;
  let url: string;
  const big = appendOf(2 * 1024 * 1024);

  beforeAll(async () => {
    h = await createHarness();
    server = await startHttpServer(
      h.storyline,
      { host: '127.0.0.1', port: 0, bodyLimit: limit, live: readConfig({}).live },
      silentLogger,
    );
    url = `${server.url}/v1/stories/big-story/events`;
  });
  afterAll(async () => {
    await server.close();
    await h.close();
  });

  function expect413(answer: Answer): void {
    expect(answer.status, answer.text).toBe(413);
    const body = JSON.parse(answer.text) as { error: { code: string; limit: number } };
    expect(body.error).toMatchObject({ code: 'payload_too_large', limit });
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
  }

  it.each([
    ['with Content-Length', false],
    ['chunked', true],
  ])(`answers a 2 MB body %s with 413, ${tries} times out of ${tries}`, async (_name, chunked) => {
    for (let attempt = 0; attempt < tries; attempt += 1) {
      expect413(await post(url, big, { chunked, token: h.token }));
    }
  });

  it(`answers a 2 MB body sent by fetch with 413, ${tries} times out of ${tries}`, async () => {
    for (let attempt = 0; attempt < tries; attempt += 1) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${h.token}` },
        body: big,
      });
      expect413({
        status: res.status,
        text: await res.text(),
        headers: Object.fromEntries(res.headers),
      });
    }
  });

  it('answers other refusals of a 2 MB body too, instead of resetting', async () => {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      // Declared too large: 413 before the token is even looked at.
      expect413(await post(url, big, { chunked: false, token: 'sl_unknown' }));
      // Chunked: the token is refused first, and the body read to its end before the answer.
      const refused = await post(url, big, { chunked: true, token: 'sl_unknown' });
      expect(refused.status, refused.text).toBe(401);
      expect(JSON.parse(refused.text)).toMatchObject({ error: { code: 'unauthorized' } });
    }
  });

  it('keeps serving after a client goes away in the middle of a body', async () => {
    const { port } = new URL(server.url);
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => {
        socket.write(
          `POST /v1/stories/big-story/events HTTP/1.1\r\nHost: x\r\n` +
            `Authorization: Bearer ${h.token}\r\nContent-Type: application/json\r\n` +
            `Content-Length: 100000\r\n\r\n{"events":[`,
          () => {
            socket.destroy();
            resolve();
          },
        );
      });
      socket.on('error', reject);
    });
    const answer = await post(`${server.url}/v1/stories/gone-story/events`, appendOf(10), {
      chunked: false,
      token: h.token,
    });
    expect(answer.status, answer.text).toBe(201);
  });

  it('still takes a body within the limit, and nothing oversized was written', async () => {
    const answer = await post(url, appendOf(1000), { chunked: true, token: h.token });
    expect(answer.status, answer.text).toBe(201);
    const count = await h.storyline.connection.pool.query<{ n: number }>(
      'select count(*)::int as n from events',
    );
    expect(count.rows[0]?.n).toBe(2);
  });
});
