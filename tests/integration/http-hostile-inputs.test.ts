/**
 * No input is the server's fault: text PostgreSQL refuses, instants it cannot store, nesting
 * that overflows a recursive reader, links that are not web links, bodies in another charset,
 * forged request ids. Each gets a 4xx with the error body (never a 500), and a rejected append
 * leaves the log as it was. Named cases first, then fast-check over bodies and query strings.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, type ApiError } from '../support/api-errors.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import {
  hostileAppendBody,
  hostileJson,
  hostileQueryValue,
  nastyString,
  percentEncoded,
} from '../support/hostile-inputs.ts';

const opened = (data: Record<string, unknown> = {}) => ({
  type: 'story.opened',
  data: { title: 'A story', timeZone: 'Europe/Moscow', ...data },
});
const reported = (developmentId: string, data: Record<string, unknown> = {}) => ({
  type: 'development.reported',
  data: { developmentId, kind: 'statement', headline: `About ${developmentId}`, ...data },
});

const issuePaths = (error: ApiError): string[] => (error.issues ?? []).map((issue) => issue.path);

describe('hostile input over HTTP', () => {
  let h: Harness;
  const existing = 'hostile-existing';

  async function eventCount(): Promise<number> {
    const result = await h.storyline.connection.pool.query<{ n: number }>(
      'select count(*)::int as n from events',
    );
    return result.rows[0]?.n ?? -1;
  }

  /** Appends, expecting a 400 with `code` that writes nothing; returns the error. */
  async function refused(
    body: unknown,
    code: 'invalid_event' | 'invalid_request' | 'invalid_json',
  ) {
    const before = await eventCount();
    const error = await expectError(
      h.append(existing, typeof body === 'string' ? body : hostileJson(body)),
      400,
      code,
    );
    expect(await eventCount()).toBe(before);
    return error;
  }

  beforeAll(async () => {
    h = await createHarness();
    const res = await h.append(existing, {
      events: [
        opened(),
        { ...reported('first'), occurredAt: '2025-12-02T16:30:00+03:00' },
        reported('second'),
      ],
    });
    expect(res.status).toBe(201);
  });
  afterAll(() => h.close());

  describe('text PostgreSQL cannot keep', () => {
    it.each([
      ['a NUL in a headline', reported('nul', { headline: 'a\u0000b' }), 'events.0.data.headline'],
      ['a NUL in a body', reported('nul', { body: '\u0000' }), 'events.0.data.body'],
      [
        'a NUL in an actor',
        reported('nul', { actors: [{ name: 'x\u0000' }] }),
        'events.0.data.actors.0.name',
      ],
      ['a lone high surrogate', reported('lone', { headline: '\ud800' }), 'events.0.data.headline'],
      [
        'a lone low surrogate',
        reported('lone', { headline: 'x\udfffy' }),
        'events.0.data.headline',
      ],
      [
        'surrogates the wrong way round',
        reported('lone', { body: '\udc00\ud800' }),
        'events.0.data.body',
      ],
      [
        'a NUL in a source URL',
        reported('url', { sources: [{ name: 'S', url: 'https://example.com/\u0000' }] }),
        'events.0.data.sources.0.url',
      ],
      [
        'a lone surrogate in a source URL',
        reported('url', { sources: [{ name: 'S', url: 'https://example.com/\ud800' }] }),
        'events.0.data.sources.0.url',
      ],
      [
        'a NUL in a metadata value',
        { ...reported('meta'), metadata: { note: 'a\u0000' } },
        'events.0.metadata',
      ],
      [
        'a NUL in a metadata key',
        { ...reported('meta'), metadata: { 'a\u0000': 1 } },
        'events.0.metadata',
      ],
      [
        'a lone surrogate in a nested metadata key',
        { ...reported('meta'), metadata: { a: [{ '\ud800': 1 }] } },
        'events.0.metadata',
      ],
    ])('refuses %s as invalid_event', async (_name, event, path) => {
      const error = await refused({ events: [event] }, 'invalid_event');
      expect(issuePaths(error)).toContain(path);
    });

    it('keeps text that is fine: emoji (surrogate pairs), controls other than NUL', async () => {
      const res = await h.append(existing, {
        events: [reported('emoji', { headline: 'Talks 😀 end', body: 'bell \u0007' })],
      });
      expect(res.status, await res.text()).toBe(201);
    });
  });

  describe('instants PostgreSQL cannot keep', () => {
    it.each(['0000-01-01T00:00:00Z', '0000-02-29T12:00:00+01:00'])(
      'refuses occurredAt %s (there is no year 0000)',
      async (occurredAt) => {
        const error = await refused(
          { events: [{ ...reported('y0'), occurredAt }] },
          'invalid_event',
        );
        expect(issuePaths(error)).toEqual(['events.0.occurredAt']);
      },
    );

    it.each([
      '2025-12-02T16:30:00+16:00',
      '2025-12-02T16:30:00-23:59',
      '2025-12-02T16:30:00+20:00',
    ])('refuses occurredAt %s (an offset is at most ±15:59)', async (occurredAt) => {
      const error = await refused({ events: [{ ...reported('tz'), occurredAt }] }, 'invalid_event');
      expect(issuePaths(error)).toEqual(['events.0.occurredAt']);
      expect(error.message).toContain('15:59');
    });

    it('refuses a correction that moves a development to such an instant', async () => {
      const error = await refused(
        {
          events: [
            {
              type: 'development.corrected',
              data: {
                developmentId: 'first',
                changes: { occurredAt: '0000-06-01T00:00:00Z' },
                note: 'n',
                severity: 'typo',
              },
            },
          ],
        },
        'invalid_event',
      );
      expect(issuePaths(error)).toEqual(['events.0.data.changes.occurredAt']);
    });

    it.each([
      ['2025-12-02T16:30:00+15:59', 'edge-1'],
      ['0001-01-01T00:00:00+15:59', 'edge-2'],
      ['9999-12-31T23:59:59-15:59', 'edge-3'],
    ])(
      'keeps occurredAt %s, at the edges of what PostgreSQL takes',
      async (occurredAt, developmentId) => {
        const res = await h.append(existing, {
          events: [{ ...reported(developmentId), occurredAt }],
        });
        expect(res.status, await res.text()).toBe(201);
      },
    );

    it.each(['0000-01-01T00:00:00Z', '2025-12-02T16:30:00+16:00'])(
      'refuses a timeline cursor carrying %s as invalid_request',
      async (occurredAt) => {
        const cursor = Buffer.from(JSON.stringify({ occurredAt, reportedPosition: 1 })).toString(
          'base64url',
        );
        await expectError(
          h.app.request(`/v1/stories/${existing}/timeline?cursor=${cursor}`),
          400,
          'invalid_request',
        );
      },
    );

    it.each(['0000-01-01T00:00:00Z', '2025-12-02T16:30:00%2B16:00'])(
      'refuses asOf=%s as invalid_request',
      async (asOf) => {
        await expectError(
          h.app.request(`/v1/stories/${existing}/state?asOf=${asOf}`),
          400,
          'invalid_request',
        );
      },
    );
  });

  describe('nesting', () => {
    it.each([17, 10_000, 100_000])('refuses metadata nested %i deep', async (depth) => {
      const body = `{"events":[{"type":"story.opened","data":{"title":"T","timeZone":"UTC"},"metadata":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}]}`;
      const error = await refused(body, 'invalid_event');
      expect(issuePaths(error)).toEqual(['events.0.metadata']);
      expect(error.message).toContain('levels deep');
    });

    it('keeps metadata nested 16 deep', async () => {
      const metadata = `${'{"a":'.repeat(16)}1${'}'.repeat(16)}`;
      const res = await h.append(
        existing,
        `{"events":[{"type":"development.pinned","data":{"developmentId":"first"},"metadata":${metadata}}]}`,
      );
      expect(res.status, await res.text()).toBe(201);
    });

    it('answers a body nested 500,000 deep with a 400, whatever the parser makes of it', async () => {
      const depth = 500_000;
      const before = await eventCount();
      const res = await h.append(existing, `${'['.repeat(depth)}${']'.repeat(depth)}`);
      const text = await res.text();
      expect(res.status, text).toBe(400);
      expect(['invalid_json', 'invalid_request']).toContain(JSON.parse(text).error.code);
      expect(await eventCount()).toBe(before);
    });

    it('answers values nested deep in other fields with invalid_event', async () => {
      const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
      await refused(
        `{"events":[{"type":"story.opened","data":{"title":${deep},"timeZone":"UTC"}}]}`,
        'invalid_event',
      );
    });
  });

  describe('links', () => {
    it.each([
      'javascript:alert(1)',
      'JavaScript:alert(document.cookie)',
      'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
      'ftp://example.com/file',
      'mailto:desk@example.com',
    ])('refuses a source link %s', async (url) => {
      const error = await refused(
        { events: [reported('link', { sources: [{ name: 'S', url }] })] },
        'invalid_event',
      );
      expect(issuePaths(error)).toEqual(['events.0.data.sources.0.url']);
      expect(error.message).toContain('http');
    });

    it('refuses such links in disputes and corrections too', async () => {
      const link = [{ name: 'S', url: 'javascript:alert(1)' }];
      const disputed = await refused(
        {
          events: [
            {
              type: 'claim.disputed',
              data: { developmentId: 'first', by: 'X', statement: 'No', sources: link },
            },
          ],
        },
        'invalid_event',
      );
      expect(issuePaths(disputed)).toEqual(['events.0.data.sources.0.url']);
      const corrected = await refused(
        {
          events: [
            {
              type: 'development.corrected',
              data: {
                developmentId: 'first',
                changes: { sources: link },
                note: 'n',
                severity: 'typo',
              },
            },
          ],
        },
        'invalid_event',
      );
      expect(issuePaths(corrected)).toEqual(['events.0.data.changes.sources.0.url']);
    });

    it('keeps http and https links', async () => {
      const res = await h.append(existing, {
        events: [
          reported('links', {
            sources: [
              { name: 'A', url: 'https://example.com/a?b=1' },
              { name: 'B', url: 'HTTP://example.org/' },
            ],
          }),
        ],
      });
      expect(res.status, await res.text()).toBe(201);
    });
  });

  describe('charsets', () => {
    const post = (contentType: string, body: Uint8Array | string) =>
      h.app.request(`/v1/stories/${existing}/events`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${h.token}`, 'Content-Type': contentType },
        body,
      });

    it.each([
      'application/json; charset=utf-16',
      'application/json; charset="UTF-16LE"',
      'application/json;charset=iso-8859-1',
      'application/json; charset=utf-32',
    ])('refuses %s with 415, writing nothing', async (contentType) => {
      const before = await eventCount();
      const body = Buffer.from(JSON.stringify({ events: [reported('charset')] }), 'utf16le');
      const error = await expectError(post(contentType, body), 415, 'unsupported_media_type');
      expect(error.message).toContain('UTF-8');
      expect(await eventCount()).toBe(before);
    });

    it.each([
      'application/json; charset=utf-8',
      'application/json; charset="UTF-8"',
      'application/json;charset=utf8',
    ])('takes %s', async (contentType) => {
      const body = JSON.stringify({
        events: [reported(`utf8-${Math.random().toString(36).slice(2)}`)],
      });
      const res = await post(contentType, body);
      expect(res.status, await res.text()).toBe(201);
    });

    it('refuses a body that is not UTF-8 as invalid_json', async () => {
      const json = Buffer.from(
        JSON.stringify({ events: [reported('latin1', { headline: 'Übung' })] }),
        'latin1',
      );
      await expectError(post('application/json', json), 400, 'invalid_json');
    });
  });

  describe('request ids', () => {
    it('keeps a short, safe X-Request-Id', async () => {
      const res = await h.app.request('/healthz', { headers: { 'X-Request-Id': 'abc-123_x=' } });
      expect(res.headers.get('X-Request-Id')).toBe('abc-123_x=');
    });

    it.each([
      ['too long', 'a'.repeat(65)],
      ['with spaces', 'a b'],
      ['with markup', '<script>'],
      ['with a newline escape', 'a%0d%0ab'],
      ['with quotes', '"x"'],
      ['with a path', '../../etc'],
    ])('replaces one %s with its own', async (_name, id) => {
      const res = await h.app.request('/v1/stories/Bad_ID', { headers: { 'X-Request-Id': id } });
      const own = res.headers.get('X-Request-Id');
      expect(own).not.toBe(id);
      expect(own).toMatch(/^[0-9a-f-]{36}$/);
      const error = await expectError(res, 400, 'invalid_request');
      expect(error.requestId).toBe(own);
    });
  });

  describe('what is quoted back', () => {
    it('quotes a story id without control characters, and short', async () => {
      const error = await expectError(
        h.app.request(`/v1/stories/${encodeURIComponent(`x\u0001${'y'.repeat(500)}`)}`),
        400,
        'invalid_request',
      );
      expect(error.storyId).not.toContain('\u0001');
      expect(String(error.storyId).length).toBeLessThanOrEqual(101);
    });
  });

  describe('properties', () => {
    it('no append body gets a 500, and a refused one writes nothing', async () => {
      await fc.assert(
        fc.asyncProperty(hostileAppendBody, async (body) => {
          const before = await eventCount();
          const res = await h.append(existing, body);
          const text = await res.text();
          expect(
            res.status,
            `${res.status} ${text.slice(0, 500)} for ${body.slice(0, 500)}`,
          ).toBeLessThan(500);
          if (res.status >= 400) {
            expect(JSON.parse(text)).toHaveProperty('error.code');
            expect(await eventCount()).toBe(before);
          }
        }),
        { numRuns: 400 },
      );
    });

    const routes = [
      '/v1/events',
      `/v1/stories/${existing}/events`,
      `/v1/stories/${existing}/timeline`,
      `/v1/stories/${existing}/corrections`,
      `/v1/stories/${existing}/state`,
      `/v1/stories/${existing}`,
      `/v1/stories/${existing}/feed.atom`,
      '/v1/stories',
      `/stories/${existing}`,
    ];
    const parameters = ['after', 'limit', 'order', 'cursor', 'at', 'asOf', 'epoch', 'x'];

    it('no query string gets a 500', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...routes),
          fc.array(fc.tuple(fc.constantFrom(...parameters), hostileQueryValue), { maxLength: 3 }),
          async (route, query) => {
            const search = query.map(([name, value]) => `${name}=${value}`).join('&');
            const res = await h.app.request(`${route}?${search}`);
            const text = await res.text();
            expect(res.status, `${route}?${search}: ${text.slice(0, 300)}`).toBeLessThan(500);
          },
        ),
        { numRuns: 400 },
      );
    });

    it('no story id in a path gets a 500', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(nastyString.map(percentEncoded), hostileQueryValue),
          fc.constantFrom('', '/timeline', '/events', '/state?at=1', '/feed.atom', '/corrections'),
          async (storyId, rest) => {
            const res = await h.app.request(`/v1/stories/${storyId}${rest}`);
            expect(res.status, `/v1/stories/${storyId}${rest}`).toBeLessThan(500);
            const page = await h.app.request(`/stories/${storyId}`);
            expect(page.status, `/stories/${storyId}`).toBeLessThan(500);
          },
        ),
        { numRuns: 200 },
      );
    });
  });
});
