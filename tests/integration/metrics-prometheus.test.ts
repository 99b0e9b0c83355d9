/**
 * `/metrics` on a real server: appends by outcome, their latency and group-commit batches,
 * events by type, live subscribers on both transports, the fan-out lag, HTTP requests by route
 * pattern, the process metrics; each server with a registry of its own. And every request's log
 * line names its route pattern.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../src/adapters/http/http-app.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { LiveClient, until } from '../support/live-client.ts';
import { development, opened, startLiveServer, type LiveServer } from '../support/live-server.ts';

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The text exposition format, simply: `name{label="value",…} number` lines, comments skipped. */
function parseExposition(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (match === null) throw new Error(`not a sample line: ${line}`);
      const labels: Record<string, string> = {};
      for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
        labels[key as string] = value as string;
      }
      return { name: match[1] as string, labels, value: Number(match[3]) };
    });
}

/** The value of the one sample with that name and (at least) these labels; 0 if none. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter(
    (sample) =>
      sample.name === name &&
      Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} is ambiguous`);
  return found[0]?.value ?? 0;
}

async function scrape(url: string): Promise<Sample[]> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('Content-Type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}

async function post(url: string, token: string, storyId: string, body: unknown) {
  return await fetch(`${url}/v1/stories/${storyId}/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
}

describe('Prometheus metrics', () => {
  let live: LiveServer;
  let other: LiveServer;

  beforeAll(async () => {
    [live, other] = await Promise.all([startLiveServer(), startLiveServer()]);
  });
  afterAll(async () => {
    await Promise.all([live.close(), other.close()]);
  });

  it('count appends by outcome, events by type, batches, latency and requests by route', async () => {
    const token = live.h.token;
    const retried = { id: randomUUID(), ...development('retried') };
    const appended = [
      await post(live.url, token, 'counted', { events: [opened('Counted'), retried] }),
      await post(live.url, token, 'counted', { events: [development(), development()] }),
      await post(live.url, token, 'counted', { events: [development()] }),
    ];
    expect(appended.map((response) => response.status)).toEqual([201, 201, 201]);
    const duplicate = await post(live.url, token, 'counted', { events: [retried] });
    expect(duplicate.status).toBe(200);
    const conflict = await post(live.url, token, 'counted', {
      expectedVersion: 1,
      events: [development()],
    });
    expect(conflict.status).toBe(409);
    // Refused before the appender: an HTTP metric, not an append.
    const invalid = await post(live.url, token, 'counted', { events: [] });
    expect(invalid.status).toBe(400);
    const read = await fetch(`${live.url}/v1/stories/counted`);
    expect(read.status).toBe(200);
    expect((await fetch(`${live.url}/no/such/route`)).status).toBe(404);

    const samples = await scrape(live.url);
    expect(valueOf(samples, 'storyline_appends_total', { outcome: 'appended', code: '' })).toBe(3);
    expect(valueOf(samples, 'storyline_appends_total', { outcome: 'duplicate', code: '' })).toBe(1);
    expect(
      valueOf(samples, 'storyline_appends_total', {
        outcome: 'rejected',
        code: 'version_conflict',
      }),
    ).toBe(1);
    expect(
      valueOf(samples, 'storyline_append_duration_seconds_count', { outcome: 'appended' }),
    ).toBe(3);
    const appendSeconds = valueOf(samples, 'storyline_append_duration_seconds_sum', {
      outcome: 'appended',
    });
    expect(appendSeconds).toBeGreaterThan(0);
    expect(appendSeconds).toBeLessThan(120);
    expect(valueOf(samples, 'storyline_events_appended_total', { type: 'story.opened' })).toBe(1);
    expect(
      valueOf(samples, 'storyline_events_appended_total', { type: 'development.reported' }),
    ).toBe(4);
    // Every request that reached a transaction is in one batch, whatever the grouping.
    expect(valueOf(samples, 'storyline_append_batch_requests_sum')).toBe(5);
    const batches = valueOf(samples, 'storyline_append_batch_requests_count');
    expect(batches).toBeGreaterThanOrEqual(1);
    expect(batches).toBeLessThanOrEqual(5);
    expect(valueOf(samples, 'storyline_append_batch_events_sum')).toBe(7);

    const requests = (labels: Record<string, string>) =>
      valueOf(samples, 'storyline_http_request_duration_seconds_count', labels);
    expect(requests({ method: 'POST', route: '/v1/stories/:storyId/events', status: '201' })).toBe(
      3,
    );
    expect(requests({ method: 'POST', route: '/v1/stories/:storyId/events', status: '400' })).toBe(
      1,
    );
    expect(requests({ method: 'GET', route: '/v1/stories/:storyId', status: '200' })).toBe(1);
    expect(requests({ method: 'GET', route: 'unmatched', status: '404' })).toBe(1);

    // The process metrics, from prom-client.
    expect(valueOf(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(samples.some((sample) => sample.name === 'nodejs_eventloop_lag_seconds')).toBe(true);

    // Another server in the same process keeps counts of its own.
    const elsewhere = await scrape(other.url);
    expect(valueOf(elsewhere, 'storyline_appends_total', { outcome: 'appended', code: '' })).toBe(
      0,
    );
  });

  it('count live subscribers by transport and measure the fan-out lag', async () => {
    await live.post('watched', [opened('Watched')]);
    const socket = await LiveClient.open(live.url, '?stories=watched');
    const controller = new AbortController();
    const stream = await fetch(`${live.url}/v1/stories/watched/live`, {
      signal: controller.signal,
    });
    expect(stream.status).toBe(200);
    const subscribers = async () => {
      const samples = await scrape(live.url);
      return [
        valueOf(samples, 'storyline_live_subscribers', { transport: 'websocket' }),
        valueOf(samples, 'storyline_live_subscribers', { transport: 'sse' }),
      ];
    };
    await until(
      async () => (await subscribers()).join() === '1,1',
      'one subscriber on each transport',
    );

    const before = valueOf(await scrape(live.url), 'storyline_live_fanout_lag_seconds_count');
    const { positions } = await live.post('watched', [development(), development()]);
    await until(
      () => socket.eventPositions().join() === positions.join(),
      'the events to reach the WebSocket subscriber',
    );
    await until(
      async () =>
        valueOf(await scrape(live.url), 'storyline_live_fanout_lag_seconds_count') >= before + 2,
      'the fan-out lag of both events',
    );
    const lag = valueOf(await scrape(live.url), 'storyline_live_fanout_lag_seconds_sum');
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(120);

    await socket.close();
    controller.abort();
    await until(async () => (await subscribers()).join() === '0,0', 'the subscribers to leave');
  });

  it('count the sessions the server ends, by reason', async () => {
    const server = await startLiveServer();
    await server.post('ending', [opened('Ending')]);
    const socket = await LiveClient.open(server.url, '?stories=ending');
    await until(() => socket.of('subscribed').length === 1, 'the subscription');
    await server.server.close();
    expect(socket.closed?.code ?? (await socket.close(), socket.closed?.code)).toBe(1001);
    // The server is gone; its registry is still there to read.
    const samples = parseExposition(await server.h.storyline.metrics.registry.metrics());
    expect(valueOf(samples, 'storyline_live_sessions_ended_total', { reason: 'going_away' })).toBe(
      1,
    );
    expect(
      valueOf(samples, 'storyline_live_sessions_ended_total', { reason: 'slow_consumer' }),
    ).toBe(0);
    await server.h.close();
  });
});

describe('request logs', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());

  it('name the route pattern with the request id on every line', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          done();
        },
      }),
    );
    const app = createHttpApp({
      appender: h.storyline.appender,
      queries: h.storyline.queries,
      tokens: h.storyline.tokens,
      logger,
      bodyLimit: 1024,
    });
    await app.request('/v1/stories/some-story/timeline');
    await app.request('/nowhere');
    await app.request('/healthz');
    const requests = lines.filter((line) => line['msg'] === 'request');
    expect(requests.map(({ route, status }) => [route, status])).toEqual([
      ['/v1/stories/:storyId/timeline', 404],
      ['unmatched', 404],
      ['/healthz', 200],
    ]);
    for (const line of requests) expect(line['requestId']).toEqual(expect.any(String));
  });
});
