/**
 * Every error body carries the request's id, also the ones written outside hono's `onError`:
 * `/readyz`'s 503, the WebSocket upgrade's refusals (written on the raw socket), the SSE cap's
 * 503, and what the HTTP server answers before any route sees a request (400 for a malformed
 * one, 431 for headers too large, 408 for one sent too slowly). The id in the body is the one in `X-Request-Id`, and a client's own (valid) id is kept,
 * so that a report quoting it can be found in the logs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type RunningServer } from '../../src/composition.ts';
import { readConfig } from '../../src/config.ts';
import { expectError } from '../support/api-errors.ts';
import { createHarness, silentLogger, type Harness } from '../support/harness.ts';
import { until } from '../support/live-client.ts';
import { opened, startLiveServer, type LiveServer } from '../support/live-server.ts';
import { headerOf, openRaw } from '../support/raw-http.ts';

/** Sends a WebSocket upgrade request on a raw socket; the whole answer once the server closes. */
async function upgrade(
  url: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number | null; headers: string; body: string }> {
  const connection = await openRaw(url);
  const lines = Object.entries({
    Host: new URL(url).host,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version': '13',
    ...headers,
  }).map(([name, value]) => `${name}: ${value}\r\n`);
  connection.write(`GET ${path} HTTP/1.1\r\n${lines.join('')}\r\n`);
  await connection.closed;
  const received = connection.received();
  const [head = '', body = ''] = received.split('\r\n\r\n');
  return { status: connection.status(), headers: head, body };
}

function expectRequestId(
  answer: { headers: string; body: string },
  code: string,
  sent?: string,
): void {
  const body = JSON.parse(answer.body) as { error: { code: string; requestId?: string } };
  expect(body.error.code).toBe(code);
  expect(typeof body.error.requestId).toBe('string');
  expect(headerOf(answer.headers, 'X-Request-Id')).toBe(body.error.requestId);
  if (sent !== undefined) expect(body.error.requestId).toBe(sent);
}

describe('GET /readyz when the database does not answer', () => {
  it('is 503 unavailable with the request id', async () => {
    const h = await createHarness();
    try {
      await h.storyline.close();
      const response = await h.app.request('/readyz', { headers: { 'X-Request-Id': 'ready-1' } });
      const error = await expectError(response.clone(), 503, 'unavailable');
      expect(error.requestId).toBe('ready-1');
      expect(response.headers.get('X-Request-Id')).toBe('ready-1');
    } finally {
      await h.database.drop();
    }
  });
});

describe('refused WebSocket upgrades', () => {
  let live: LiveServer;
  beforeAll(async () => {
    live = await startLiveServer({ allowedOrigins: ['https://news.example'], maxConnections: 1 });
  });
  afterAll(() => live.close());

  it('400 for a bad subscription in the query', async () => {
    const answer = await upgrade(live.url, '/v1/live?stories=NOT%20AN%20ID', {
      'X-Request-Id': 'upgrade-400',
    });
    expect(answer.status).toBe(400);
    expectRequestId(answer, 'invalid_request', 'upgrade-400');
  });

  it('403 for an origin not on the list', async () => {
    const answer = await upgrade(live.url, '/v1/live', { Origin: 'https://evil.example' });
    expect(answer.status).toBe(403);
    expectRequestId(answer, 'forbidden');
  });

  it('404 for another path', async () => {
    const answer = await upgrade(live.url, '/v1/elsewhere');
    expect(answer.status).toBe(404);
    expectRequestId(answer, 'route_not_found');
  });

  it('a client id that is not a valid request id is replaced', async () => {
    const answer = await upgrade(live.url, '/v1/elsewhere', { 'X-Request-Id': 'a b;<c>' });
    expect(answer.status).toBe(404);
    expectRequestId(answer, 'route_not_found');
    expect(headerOf(answer.headers, 'X-Request-Id')).not.toBe('a b;<c>');
  });

  it('503 past the connection cap', async () => {
    const { LiveClient } = await import('../support/live-client.ts');
    const first = await LiveClient.open(live.url, '');
    try {
      const answer = await upgrade(live.url, '/v1/live');
      expect(answer.status).toBe(503);
      expectRequestId(answer, 'unavailable');
    } finally {
      await first.close();
    }
  });
});

describe('the SSE stream cap', () => {
  let live: LiveServer;
  beforeAll(async () => {
    live = await startLiveServer({ maxSseStreams: 1 });
    await live.post('capped', [opened('Capped')]);
  });
  afterAll(() => live.close());

  it('503 with the request id', async () => {
    const controller = new AbortController();
    const first = await fetch(`${live.url}/v1/stories/capped/live`, { signal: controller.signal });
    expect(first.status).toBe(200);
    try {
      let refused: Response | undefined;
      await until(async () => {
        refused = await fetch(`${live.url}/v1/stories/capped/live`, {
          headers: { 'X-Request-Id': 'sse-cap' },
        });
        return refused.status === 503;
      }, 'the refusal');
      const error = await expectError(refused as Response, 503, 'unavailable');
      expect(error.requestId).toBe('sse-cap');
    } finally {
      controller.abort();
    }
  });
});

describe('a body over the limit (413, answered while the body is drained)', () => {
  it('carries the request id', async () => {
    const h = await createHarness({ bodyLimit: 2048 });
    try {
      const response = await h.app.request('/v1/stories/big/events', {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Authorization: `Bearer ${h.token}`,
          'X-Request-Id': 'big-1',
        },
        body: JSON.stringify({ events: [{ padding: 'x'.repeat(4096) }] }),
      });
      const error = await expectError(response, 413, 'payload_too_large');
      expect(error.requestId).toBe('big-1');
    } finally {
      await h.close();
    }
  });
});

describe('requests the HTTP server cannot read (answered before any route)', () => {
  let h: Harness;
  let server: RunningServer;
  beforeAll(async () => {
    h = await createHarness();
    server = await startHttpServer(
      h.storyline,
      {
        host: '127.0.0.1',
        port: 0,
        bodyLimit: 1024 * 1024,
        live: readConfig({}).live,
        http: { headersTimeoutMs: 300, requestTimeoutMs: 600, maxConnectionsPerAddress: 100 },
      },
      silentLogger,
    );
  });
  afterAll(async () => {
    await server.close();
    await h.close();
  });

  async function answerTo(request: string, dribble?: string) {
    const connection = await openRaw(server.url);
    connection.write(request);
    // A slow client: a header line every 100 ms until the server gives up on it.
    for (let sent = 0; dribble !== undefined && sent < 300 && !connection.isClosed(); sent++) {
      connection.write(dribble);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await connection.closed;
    const [headers = '', body = ''] = connection.received().split('\r\n\r\n');
    expect(headerOf(headers, 'Content-Type')).toMatch(/^application\/json/);
    expect(headerOf(headers, 'Connection')).toBe('close');
    return { status: connection.status(), headers, body };
  }

  it('400 invalid_request for a malformed request', async () => {
    const answer = await answerTo('NOT HTTP AT ALL\r\n\r\n');
    expect(answer.status).toBe(400);
    expectRequestId(answer, 'invalid_request');
  });

  it('431 headers_too_large for headers past the limit', async () => {
    // Past Node's 16 KiB, and small enough that the server has read it all when it closes (unread
    // bytes would make the close a reset, which could cost the client the answer).
    const answer = await answerTo(
      `GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'x'.repeat(20 * 1024)}\r\n\r\n`,
    );
    expect(answer.status).toBe(431);
    expectRequestId(answer, 'headers_too_large');
  });

  it('408 request_timeout for headers sent too slowly', async () => {
    const answer = await answerTo('GET /healthz HTTP/1.1\r\nHost: localhost\r\n', 'X-Slow: 1\r\n');
    expect(answer.status).toBe(408);
    expectRequestId(answer, 'request_timeout');
  });
});
