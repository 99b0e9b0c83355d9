/**
 * Connection-level limits of the HTTP server: a client that dribbles its headers or its body is
 * cut off at the request timeouts (408), while SSE streams and WebSockets, which are long
 * responses and upgraded connections rather than slow requests, stay open; and one address gets
 * at most so many connections, past which it is answered 503 with `Retry-After`. A drain
 * answers what it accepted and refuses what arrives after it began.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type RunningServer } from '../../src/composition.ts';
import { readConfig, type HttpConfig } from '../../src/config.ts';
import { createHarness, silentLogger, type Harness } from '../support/harness.ts';
import { LiveClient, until } from '../support/live-client.ts';
import { development, opened } from '../support/live-server.ts';
import { headerOf, openRaw, type RawConnection } from '../support/raw-http.ts';
import { openEventStream } from '../support/sse-stream.ts';

describe('HTTP connection limits', () => {
  let h: Harness;
  const servers: RunningServer[] = [];

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    // Closing twice is harmless: the drain test closed its server already.
    for (const server of servers) await server.close();
    await h.close();
  });

  async function serve(http: HttpConfig): Promise<RunningServer> {
    const server = await startHttpServer(
      h.storyline,
      { host: '127.0.0.1', port: 0, bodyLimit: 1024 * 1024, live: readConfig({}).live, http },
      silentLogger,
    );
    servers.push(server);
    return server;
  }

  /** Writes `piece` every 100 ms until the server closes the connection (at most 30 s). */
  async function dribble(connection: RawConnection, piece: string): Promise<void> {
    for (let sent = 0; sent < 300 && !connection.isClosed(); sent += 1) {
      connection.write(piece);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const short = { headersTimeoutMs: 500, requestTimeoutMs: 1000, maxConnectionsPerAddress: 100 };
  const defaultHttp = readConfig({}).http;

  it('cuts off a client that dribbles its body, with 408', async () => {
    const server = await serve(short);
    const connection = await openRaw(server.url);
    connection.write(
      `POST /v1/stories/dribble/events HTTP/1.1\r\nHost: localhost\r\n` +
        `Authorization: Bearer ${h.token}\r\nContent-Type: application/json\r\n` +
        `Content-Length: 100000\r\n\r\n{"events":[`,
    );
    await dribble(connection, ' ');
    expect(connection.isClosed()).toBe(true);
    expect(connection.status()).toBe(408);
  });

  it('cuts off a client that dribbles its headers, with 408', async () => {
    const server = await serve(short);
    const connection = await openRaw(server.url);
    connection.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n');
    await dribble(connection, 'X-Slow: yes\r\n');
    expect(connection.isClosed()).toBe(true);
    expect(connection.status()).toBe(408);
  });

  it('keeps SSE streams and WebSockets open past the request timeout', async () => {
    const server = await serve(short);
    const post = (events: unknown[]) =>
      fetch(`${server.url}/v1/stories/long-lived/events`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${h.token}` },
        body: JSON.stringify({ events }),
      });
    expect((await post([opened('Long-lived')])).status).toBe(201);
    const socket = await LiveClient.open(server.url, '?stories=long-lived');
    const stream = openEventStream(`${server.url}/v1/stories/long-lived/live`);
    await until(() => socket.of('subscribed').length === 1, 'the WebSocket subscription');
    await until(() => stream.of('snapshot').length === 1, 'the SSE snapshot');

    // Three request timeouts and more: what a slow request would not survive. (A wait is the
    // point here: the connections must still be there after it.)
    await new Promise((resolve) => setTimeout(resolve, 3500));
    const response = await post([development('Still listening')]);
    expect(response.status).toBe(201);
    const { positions } = (await response.json()) as { positions: number[] };
    await until(() => socket.eventPositions().includes(positions[0] ?? -1), 'the WebSocket event');
    await until(
      () => stream.of('event').some((message) => message.data.position === positions[0]),
      'the SSE event',
    );
    expect(socket.closed).toBeNull();
    expect(stream.ended()).toBe(false);
    await socket.close();
    await stream.close();
  });

  it('while draining, finishes a request in flight with Connection: close and refuses a later one', async () => {
    const server = await serve(defaultHttp);
    const body = JSON.stringify({ events: [opened('Draining')] });
    // A request that has begun but not finished arriving: not idle, so not closed by the drain.
    const late = await openRaw(server.url);
    late.write('GET /v1/stories HTTP/1.1\r\nHost: localhost\r\n');
    const inFlight = await openRaw(server.url);
    const received = new Promise((resolve) => server.server.once('request', resolve));
    inFlight.write(
      `POST /v1/stories/draining/events HTTP/1.1\r\nHost: localhost\r\n` +
        `Authorization: Bearer ${h.token}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`,
    );
    await received;

    const closing = server.close({ deadlineMs: 10_000 });
    inFlight.write(body.slice(10));
    late.write('\r\n');
    await Promise.all([inFlight.closed, late.closed, closing]);

    // Accepted before the drain: answered with its outcome, and told the connection closes.
    expect(inFlight.status()).toBe(201);
    expect(headerOf(inFlight.received(), 'Connection')).toBe('close');
    // Arrived during the drain: refused, nothing appended.
    expect(late.status()).toBe(503);
    expect(headerOf(late.received(), 'Retry-After')).toMatch(/^\d+$/);
    expect(late.received()).toContain('"code":"unavailable"');
    expect(late.received()).toContain('shutting down');
  });

  it('answers 503 with Retry-After past the connections one address may open', async () => {
    const server = await serve({ ...defaultHttp, maxConnectionsPerAddress: 3 });
    const held: RawConnection[] = [];
    for (let index = 0; index < 3; index += 1) held.push(await openRaw(server.url));

    const extra = await openRaw(server.url);
    extra.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await extra.closed;
    expect(extra.status()).toBe(503);
    const response = extra.received();
    expect(headerOf(response, 'Retry-After')).toMatch(/^\d+$/);
    expect(headerOf(response, 'Connection')).toBe('close');
    const body = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as {
      error: { code: string; requestId: string };
    };
    expect(body.error.code).toBe('unavailable');
    expect(typeof body.error.requestId).toBe('string');

    // A WebSocket upgrade is a connection too.
    await expect(LiveClient.open(server.url, '?stories=long-lived')).rejects.toThrow(/503/);

    // One held connection closes: there is room again.
    held.pop()?.destroy();
    await until(async () => (await fetch(`${server.url}/healthz`)).status === 200, 'room again');
    for (const connection of held) connection.destroy();
  });
});
