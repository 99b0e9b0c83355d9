/**
 * CORS: pages on other origins read the public API (any origin by default, or a list), and
 * write (append, manage tokens) only from the origins listed for writes, none by default.
 * Preflights answer 204, never 404; `Vary: Origin` comes exactly when the answer depends on the
 * origin. What a browser does with these headers is shown in tests/e2e/cors.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CorsOptions } from '../../src/adapters/http/cors.ts';
import { startHttpServer, type RunningServer } from '../../src/composition.ts';
import { readConfig } from '../../src/config.ts';
import { appOver, createHarness, silentLogger, type Harness } from '../support/harness.ts';

const reader = 'https://reader.example';
const desk = 'https://desk.example';
const stranger = 'https://stranger.example';

const opened = { type: 'story.opened', data: { title: 'Cross-origin', timeZone: 'UTC' } };
const reported = (developmentId: string) => ({
  type: 'development.reported',
  data: { developmentId, kind: 'statement', headline: `About ${developmentId}` },
});

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
  expect((await h.append('cors', { events: [opened] })).status).toBe(201);
});
afterAll(() => h.close());

function appWith(cors?: Partial<CorsOptions>) {
  return appOver(h, cors === undefined ? {} : { cors });
}

type App = ReturnType<typeof appWith>;

const preflight = (
  app: App,
  path: string,
  origin: string,
  method: string,
  headers?: string,
): Promise<Response> =>
  Promise.resolve(
    app.request(path, {
      method: 'OPTIONS',
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': method,
        ...(headers === undefined ? {} : { 'Access-Control-Request-Headers': headers }),
      },
    }),
  );

const list = (header: string | null): string[] =>
  (header ?? '').split(',').map((item) => item.trim().toLowerCase());

describe('by default: reads from any origin, writes from none', () => {
  let app: App;
  beforeAll(() => {
    app = appWith();
  });

  it.each([
    '/v1/stories',
    '/v1/stories/cors',
    '/v1/stories/cors/timeline',
    '/v1/stories/cors/events',
    '/v1/stories/cors/feed.atom',
    '/v1/events',
    '/openapi.json',
  ])('GET %s: Access-Control-Allow-Origin: *, no Vary', async (path) => {
    for (const headers of [{ Origin: stranger }, {}]) {
      const response = await app.request(path, { headers });
      expect(response.status).toBe(200);
      expect(response.headers.get('Access-Control-Allow-Origin')).toBe('*');
      expect(response.headers.get('Vary')).toBeNull();
    }
  });

  it('exposes the headers a page needs, and error answers are readable too', async () => {
    const story = await app.request('/v1/stories/cors', { headers: { Origin: stranger } });
    expect(list(story.headers.get('Access-Control-Expose-Headers'))).toEqual(
      expect.arrayContaining(['etag', 'retry-after', 'x-request-id', 'location']),
    );
    const missing = await app.request('/v1/stories/no-such-story', {
      headers: { Origin: stranger },
    });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('Access-Control-Allow-Origin')).toBe('*');
    const notModified = await app.request('/v1/stories/cors', {
      headers: { Origin: stranger, 'If-None-Match': story.headers.get('ETag') ?? '' },
    });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get('Access-Control-Allow-Origin')).toBe('*');
  });

  it('a read preflight: 204 with methods, headers and Max-Age, no Vary', async () => {
    const response = await preflight(
      app,
      '/v1/stories/cors',
      stranger,
      'GET',
      'if-none-match,x-request-id',
    );
    expect(response.status).toBe(204);
    expect(response.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(list(response.headers.get('Access-Control-Allow-Methods'))).toEqual(['get', 'head']);
    expect(list(response.headers.get('Access-Control-Allow-Headers'))).toEqual(
      expect.arrayContaining(['if-none-match', 'last-event-id', 'x-request-id']),
    );
    expect(response.headers.get('Access-Control-Max-Age')).toBe('600');
    expect(response.headers.get('Vary')).toBeNull();
  });

  it('an append preflight: 204 (not 404) that allows nothing', async () => {
    const response = await preflight(
      app,
      '/v1/stories/cors/events',
      stranger,
      'POST',
      'authorization,content-type',
    );
    expect(response.status).toBe(204);
    expect(response.headers.get('Access-Control-Allow-Origin')).toBeNull();
    expect(response.headers.get('Access-Control-Allow-Methods')).toBeNull();
    expect(response.headers.get('Vary')).toBeNull();
  });

  it('a read that sends a token is a write: not shared with any origin', async () => {
    const response = await preflight(app, '/v1/tokens', stranger, 'GET', 'authorization');
    expect(response.status).toBe(204);
    expect(response.headers.get('Access-Control-Allow-Origin')).toBeNull();
    const tokens = await app.request('/v1/tokens', {
      headers: { Origin: stranger, Authorization: `Bearer ${h.token}` },
    });
    expect(tokens.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });

  it('an append sent anyway (not from a browser) is judged by its token, and gets no CORS', async () => {
    const response = await app.request('/v1/stories/cors/events', {
      method: 'POST',
      headers: {
        Origin: stranger,
        'Content-Type': 'application/json',
        Authorization: `Bearer ${h.token}`,
      },
      body: JSON.stringify({ events: [reported('sent-anyway')] }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });

  it('pages, health and docs are not part of it; a plain OPTIONS is not a preflight', async () => {
    for (const path of ['/', '/stories/cors', '/healthz', '/docs']) {
      const response = await app.request(path, { headers: { Origin: stranger } });
      expect(response.headers.get('Access-Control-Allow-Origin'), path).toBeNull();
    }
    const plain = await app.request('/v1/stories/cors', { method: 'OPTIONS' });
    expect(plain.status).toBe(404);
  });
});

describe('with lists: reads from one origin, writes from another', () => {
  let app: App;
  beforeAll(() => {
    app = appWith({ readOrigins: [reader], writeOrigins: [desk] });
  });

  it('a read: the listed origin is named; every answer has Vary: Origin', async () => {
    const listed = await app.request('/v1/stories/cors', { headers: { Origin: reader } });
    expect(listed.headers.get('Access-Control-Allow-Origin')).toBe(reader);
    expect(list(listed.headers.get('Vary'))).toContain('origin');
    for (const headers of [{ Origin: stranger }, {}]) {
      const other = await app.request('/v1/stories/cors', { headers });
      expect(other.status).toBe(200);
      expect(other.headers.get('Access-Control-Allow-Origin')).toBeNull();
      expect(list(other.headers.get('Vary'))).toContain('origin');
    }
  });

  it('an append preflight from the write origin allows the method and the headers', async () => {
    const response = await preflight(
      app,
      '/v1/stories/cors/events',
      desk,
      'POST',
      'authorization,content-type,x-request-id',
    );
    expect(response.status).toBe(204);
    expect(response.headers.get('Access-Control-Allow-Origin')).toBe(desk);
    expect(list(response.headers.get('Access-Control-Allow-Methods'))).toContain('post');
    expect(list(response.headers.get('Access-Control-Allow-Headers'))).toEqual(
      expect.arrayContaining(['authorization', 'content-type', 'x-request-id']),
    );
    expect(response.headers.get('Access-Control-Max-Age')).toBe('600');
    expect(list(response.headers.get('Vary'))).toContain('origin');
  });

  it('the same preflight from a read-only origin or a stranger allows nothing', async () => {
    for (const origin of [reader, stranger]) {
      const response = await preflight(
        app,
        '/v1/stories/cors/events',
        origin,
        'POST',
        'authorization,content-type',
      );
      expect(response.status).toBe(204);
      expect(response.headers.get('Access-Control-Allow-Origin')).toBeNull();
      expect(list(response.headers.get('Vary'))).toContain('origin');
    }
  });

  it('the append from the write origin: its answer and its errors are readable there', async () => {
    const append = (token: string) =>
      app.request('/v1/stories/cors/events', {
        method: 'POST',
        headers: {
          Origin: desk,
          'Content-Type': 'application/json',
          Authorization: `Bearer ${token}`,
        },
        body: JSON.stringify({ events: [reported(`from-desk-${token.length}`)] }),
      });
    const accepted = await append(h.token);
    expect(accepted.status).toBe(201);
    expect(accepted.headers.get('Access-Control-Allow-Origin')).toBe(desk);
    expect(list(accepted.headers.get('Access-Control-Expose-Headers'))).toContain('x-request-id');
    const refused = await append('not-a-token');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('Access-Control-Allow-Origin')).toBe(desk);
    expect(list(refused.headers.get('Access-Control-Expose-Headers'))).toContain(
      'www-authenticate',
    );
  });

  it('token management is writing: DELETE preflights and token reads from the desk', async () => {
    const response = await preflight(app, '/v1/tokens/someone', desk, 'DELETE', 'authorization');
    expect(response.headers.get('Access-Control-Allow-Origin')).toBe(desk);
    expect(list(response.headers.get('Access-Control-Allow-Methods'))).toContain('delete');
    const tokens = await app.request('/v1/tokens', {
      headers: { Origin: reader, Authorization: `Bearer ${h.token}` },
    });
    expect(tokens.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });
});

describe('on a real server: the SSE stream (written straight to the socket) and config', () => {
  let server: RunningServer;
  beforeAll(async () => {
    const config = readConfig({
      STORYLINE_CORS_ORIGINS: `${reader}, ${desk}`,
      STORYLINE_CORS_WRITE_ORIGINS: desk,
    });
    server = await startHttpServer(
      h.storyline,
      { ...config, host: '127.0.0.1', port: 0, live: { ...config.live, maxSseStreams: 1 } },
      silentLogger,
    );
  });
  afterAll(() => server.close());

  it('the stream and its cap refusal carry the origin, Vary and the request id', async () => {
    const controller = new AbortController();
    const stream = await fetch(`${server.url}/v1/stories/cors/live`, {
      headers: { Origin: reader },
      signal: controller.signal,
    });
    try {
      expect(stream.status).toBe(200);
      expect(stream.headers.get('Content-Type')).toMatch(/^text\/event-stream/);
      expect(stream.headers.get('Access-Control-Allow-Origin')).toBe(reader);
      expect(list(stream.headers.get('Vary'))).toContain('origin');
      expect(stream.headers.get('X-Request-Id')).toMatch(/.+/);
      const refused = await fetch(`${server.url}/v1/stories/cors/live`, {
        headers: { Origin: reader },
      });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('Access-Control-Allow-Origin')).toBe(reader);
    } finally {
      controller.abort();
    }
  });

  it('a preflight over the wire is 204 with an empty body', async () => {
    const response = await fetch(`${server.url}/v1/stories/cors/events`, {
      method: 'OPTIONS',
      headers: {
        Origin: desk,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('Access-Control-Allow-Origin')).toBe(desk);
    expect(await response.text()).toBe('');
  });
});

describe('configuration', () => {
  it('defaults: reads from any origin, writes from none', () => {
    expect(readConfig({}).cors).toEqual({ readOrigins: '*', writeOrigins: [] });
  });

  it('reads comma-separated origins, trimmed', () => {
    expect(
      readConfig({
        STORYLINE_CORS_ORIGINS: ` ${reader} ,${desk},`,
        STORYLINE_CORS_WRITE_ORIGINS: `${desk}, http://localhost:5173`,
      }).cors,
    ).toEqual({ readOrigins: [reader, desk], writeOrigins: [desk, 'http://localhost:5173'] });
  });

  it.each([
    ['STORYLINE_CORS_ORIGINS', 'https://reader.example/'],
    ['STORYLINE_CORS_ORIGINS', 'reader.example'],
    ['STORYLINE_CORS_ORIGINS', 'https://reader.example/path'],
    ['STORYLINE_CORS_WRITE_ORIGINS', '*'],
    ['STORYLINE_CORS_WRITE_ORIGINS', 'null'],
    ['STORYLINE_CORS_WRITE_ORIGINS', 'ftp://desk.example'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => readConfig({ [name]: value })).toThrow(new RegExp(`${name}: .*not an origin`));
  });
});
