/**
 * The HTTP API's failures: every client mistake gets its documented status and a JSON body
 * `{ error: { code, message, ... } }` (never a stack trace), and a rejected append writes nothing.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, type ApiError } from '../support/api-errors.ts';
import { createHarness, type Harness } from '../support/harness.ts';

const issuePaths = (error: ApiError): string[] => (error.issues ?? []).map((issue) => issue.path);

const opened = (title = 'A story') => ({
  type: 'story.opened',
  data: { title, timeZone: 'Europe/Moscow' },
});

const reported = (developmentId: string, data: Record<string, unknown> = {}) => ({
  type: 'development.reported',
  data: { developmentId, kind: 'statement', headline: `About ${developmentId}`, ...data },
});

async function eventCount(h: Harness): Promise<number> {
  const result = await h.storyline.connection.pool.query<{ n: number }>(
    'select count(*)::int as n from events',
  );
  return result.rows[0]?.n ?? -1;
}

function postRaw(
  h: Harness,
  storyId: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return Promise.resolve(
    h.app.request(`/v1/stories/${storyId}/events`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${h.token}`, ...headers },
      body,
    }),
  );
}

function get(h: Harness, path: string, headers: Record<string, string> = {}): Promise<Response> {
  return Promise.resolve(h.app.request(path, { headers }));
}

describe('HTTP errors', () => {
  let h: Harness;
  /** Open, with one development, for the tests that need an existing story. */
  const existing = 'existing-story';

  beforeAll(async () => {
    h = await createHarness();
    const res = await h.append(existing, { events: [opened(), reported('first')] });
    expect(res.status).toBe(201);
  });
  afterAll(() => h.close());

  describe('400 invalid_json', () => {
    it('rejects a body that is not JSON', async () => {
      const before = await eventCount(h);
      await expectError(h.append('json-story', '{"events": ['), 400, 'invalid_json');
      await expectError(h.append('json-story', ''), 400, 'invalid_json');
      await expectError(h.append('json-story', '{ events: [] }'), 400, 'invalid_json');
      expect(await eventCount(h)).toBe(before);
    });
  });

  describe('400 invalid_request', () => {
    it('rejects a body without events', async () => {
      const error = await expectError(h.append('req-story', {}), 400, 'invalid_request');
      expect(issuePaths(error)).toContain('events');
    });

    it('rejects a body that is not an object', async () => {
      await expectError(h.append('req-story', [opened()]), 400, 'invalid_request');
      await expectError(h.append('req-story', 'null'), 400, 'invalid_request');
      await expectError(h.append('req-story', { events: 'story.opened' }), 400, 'invalid_request');
    });

    it('rejects an empty events array', async () => {
      const error = await expectError(
        h.append('req-story', { events: [] }),
        400,
        'invalid_request',
      );
      expect(issuePaths(error)).toContain('events');
    });

    it('rejects an unknown top-level key', async () => {
      const error = await expectError(
        h.append('req-story', { events: [opened()], extra: true }),
        400,
        'invalid_request',
      );
      expect(error.issues?.length).toBeGreaterThan(0);
      expect(JSON.stringify(error.issues)).toContain('extra');
      const res = await h.getJson('/v1/stories/req-story');
      expect(res.status).toBe(404);
    });

    it('rejects more than 500 events in one request', async () => {
      const error = await expectError(
        h.append('req-story', { events: Array.from({ length: 501 }, () => opened()) }),
        400,
        'invalid_request',
      );
      expect(issuePaths(error)).toEqual(['events']);
    });

    it('rejects an event that is not an object, naming the event', async () => {
      const error = await expectError(
        h.append('req-story', { events: [42] }),
        400,
        'invalid_event',
      );
      expect(issuePaths(error)).toEqual(['events.0']);
    });

    it('rejects a negative or fractional expectedVersion', async () => {
      const negative = await expectError(
        h.append('req-story', { expectedVersion: -1, events: [opened()] }),
        400,
        'invalid_request',
      );
      expect(issuePaths(negative)).toEqual(['expectedVersion']);
      const fractional = await expectError(
        h.append('req-story', { expectedVersion: 1.5, events: [opened()] }),
        400,
        'invalid_request',
      );
      expect(issuePaths(fractional)).toEqual(['expectedVersion']);
      await expectError(
        h.append('req-story', { expectedVersion: '0', events: [opened()] }),
        400,
        'invalid_request',
      );
    });

    it.each([
      'limit=0',
      'limit=1001',
      'limit=-5',
      'limit=ten',
      'after=-1',
      'after=abc',
      'after=1.5',
      'unknown=1',
    ])('rejects GET /v1/events?%s', async (query) => {
      const error = await expectError(get(h, `/v1/events?${query}`), 400, 'invalid_request');
      expect(error.issues?.length).toBeGreaterThan(0);
    });

    it.each(['limit=0', 'after=-1', 'after=abc'])(
      'rejects GET /v1/stories/{id}/events?%s',
      async (query) => {
        await expectError(
          get(h, `/v1/stories/${existing}/events?${query}`),
          400,
          'invalid_request',
        );
      },
    );

    it.each(['order=sideways', 'limit=0', 'limit=501', 'cursor=not-a-cursor', 'page=2'])(
      'rejects GET /v1/stories/{id}/timeline?%s',
      async (query) => {
        await expectError(
          get(h, `/v1/stories/${existing}/timeline?${query}`),
          400,
          'invalid_request',
        );
      },
    );

    it('rejects a well-encoded cursor of the wrong shape', async () => {
      const forged = Buffer.from(JSON.stringify({ occurredAt: 'yesterday' })).toString('base64url');
      await expectError(
        get(h, `/v1/stories/${existing}/timeline?cursor=${forged}`),
        400,
        'invalid_request',
      );
    });

    it.each([
      ['GET', '/v1/stories/Bad_ID'],
      ['GET', '/v1/stories/Bad_ID/timeline'],
      ['GET', '/v1/stories/Bad_ID/events'],
      ['GET', '/v1/stories/Bad_ID/state?at=1'],
      ['GET', '/v1/stories/-leading-dash'],
      ['GET', `/v1/stories/${'a'.repeat(65)}`],
    ])('rejects a bad story id: %s %s', async (method, path) => {
      const error = await expectError(
        Promise.resolve(h.app.request(path, { method })),
        400,
        'invalid_request',
      );
      expect(error.storyId).toBeDefined();
    });

    it('rejects a bad story id on append, writing nothing', async () => {
      const before = await eventCount(h);
      const error = await expectError(
        h.append('Bad_ID', { events: [opened()] }),
        400,
        'invalid_request',
      );
      expect(error.storyId).toBe('Bad_ID');
      expect(await eventCount(h)).toBe(before);
    });
  });

  describe('400 invalid_event', () => {
    it('rejects an unknown event type', async () => {
      const error = await expectError(
        h.append('event-story', { events: [{ type: 'story.deleted', data: {} }] }),
        400,
        'invalid_event',
      );
      expect(issuePaths(error)).toContain('events.0.type');
    });

    it('rejects bad data for a known type, naming the field and the event', async () => {
      const { headline: _headline, ...withoutHeadline } = reported('no-headline').data;
      const error = await expectError(
        h.append(existing, {
          events: [reported('fine'), { type: 'development.reported', data: withoutHeadline }],
        }),
        400,
        'invalid_event',
      );
      expect(issuePaths(error)).toEqual(['events.1.data.headline']);
      expect(error.message).toContain('events[1]');
    });

    it('lists every issue with its path', async () => {
      const error = await expectError(
        h.append(existing, {
          events: [
            {
              type: 'development.reported',
              data: { developmentId: 'x', kind: 'Not A Kind', headline: '   ', extra: 1 },
            },
          ],
        }),
        400,
        'invalid_event',
      );
      expect(issuePaths(error)).toEqual(
        expect.arrayContaining(['events.0.data.kind', 'events.0.data.headline']),
      );
      for (const issue of error.issues ?? []) {
        expect(typeof issue.path).toBe('string');
        expect(typeof issue.message).toBe('string');
      }
    });

    it('rejects a time zone that is not an IANA zone', async () => {
      const error = await expectError(
        h.append('event-story', {
          events: [{ type: 'story.opened', data: { title: 'T', timeZone: 'Mars/Olympus' } }],
        }),
        400,
        'invalid_event',
      );
      expect(issuePaths(error)).toEqual(['events.0.data.timeZone']);
    });

    it.each(['2025-12-02T16:30:00', '2025-12-02', 'yesterday', '2025-12-02 16:30:00+03:00'])(
      'rejects occurredAt %s (an instant needs an offset)',
      async (occurredAt) => {
        const error = await expectError(
          h.append('event-story', { events: [{ ...opened(), occurredAt }] }),
          400,
          'invalid_event',
        );
        expect(issuePaths(error)).toEqual(['events.0.occurredAt']);
      },
    );

    it('rejects an event id that is not a UUID', async () => {
      const error = await expectError(
        h.append('event-story', { events: [{ ...opened(), id: 'abc' }] }),
        400,
        'invalid_event',
      );
      expect(issuePaths(error)).toEqual(['events.0.id']);
    });

    it('rejects metadata over 8 KiB', async () => {
      const error = await expectError(
        h.append('event-story', {
          events: [{ ...opened(), metadata: { note: 'x'.repeat(9000) } }],
        }),
        400,
        'invalid_event',
      );
      expect(issuePaths(error)).toEqual(['events.0.metadata']);
    });

    it('wrote none of the invalid appends', async () => {
      expect((await h.getJson('/v1/stories/event-story')).status).toBe(404);
      expect((await h.getJson('/v1/stories/req-story')).status).toBe(404);
      expect((await h.getJson('/v1/stories/json-story')).status).toBe(404);
    });
  });

  describe('400 duplicate_id_in_request', () => {
    it('rejects the same event id twice in one request, writing nothing', async () => {
      const before = await eventCount(h);
      const id = randomUUID();
      const error = await expectError(
        h.append('dup-story', {
          events: [
            { ...opened(), id },
            { ...reported('a'), id },
          ],
        }),
        400,
        'duplicate_id_in_request',
      );
      expect(error.eventId).toBe(id);
      expect(await eventCount(h)).toBe(before);
      expect((await h.getJson('/v1/stories/dup-story')).status).toBe(404);
    });
  });

  describe('400 on state queries', () => {
    it('rejects a position beyond the head with position_out_of_range', async () => {
      const { body } = (await h.getJson('/v1/events?limit=1')) as { body: { head: number } };
      const error = await expectError(
        get(h, `/v1/stories/${existing}/state?at=${body.head + 1}`),
        400,
        'position_out_of_range',
      );
      expect(error.head).toBe(body.head);
    });

    it.each([
      ['neither at nor asOf', ''],
      ['both at and asOf', '?at=1&asOf=2025-12-02T16:30:00%2B03:00'],
      ['a negative position', '?at=-1'],
      ['a position that is not a number', '?at=first'],
      ['an asOf without offset', '?asOf=2025-12-02T16:30:00'],
      ['an asOf that is not a time', '?asOf=now'],
      ['an unknown parameter', '?at=1&version=1'],
    ])('rejects %s', async (_name, query) => {
      await expectError(get(h, `/v1/stories/${existing}/state${query}`), 400, 'invalid_request');
    });
  });

  describe('401 unauthorized', () => {
    it('asks for a bearer token when there is no Authorization header', async () => {
      const before = await eventCount(h);
      const res = await h.append('auth-story', { events: [opened()] }, { token: null });
      expect(res.headers.get('WWW-Authenticate')).toBe('Bearer realm="storyline"');
      await expectError(res, 401, 'unauthorized');
      expect(await eventCount(h)).toBe(before);
    });

    it('rejects an unknown token', async () => {
      const res = await h.append('auth-story', { events: [opened()] }, { token: 'sl_nope' });
      expect(res.headers.get('WWW-Authenticate')).toBe('Bearer realm="storyline"');
      await expectError(res, 401, 'unauthorized');
    });

    it('rejects an Authorization header that is not a bearer token', async () => {
      await expectError(
        postRaw(h, 'auth-story', JSON.stringify({ events: [opened()] }), {
          'Content-Type': 'application/json',
          Authorization: `Basic ${Buffer.from('user:pass').toString('base64')}`,
        }),
        401,
        'unauthorized',
      );
      await expectError(
        postRaw(h, 'auth-story', JSON.stringify({ events: [opened()] }), {
          'Content-Type': 'application/json',
          Authorization: 'Bearer',
        }),
        401,
        'unauthorized',
      );
    });

    it('rejects a revoked token', async () => {
      const token = await h.storyline.tokens.create('revoked desk');
      expect(await h.storyline.tokens.revoke('revoked desk')).toBe(1);
      await expectError(
        h.append('auth-story', { events: [opened()] }, { token }),
        401,
        'unauthorized',
      );
      expect((await h.getJson('/v1/stories/auth-story')).status).toBe(404);
    });

    it('does not send WWW-Authenticate with other errors', async () => {
      const res = await h.append('auth-story', { events: [] });
      expect(res.headers.get('WWW-Authenticate')).toBeNull();
      await expectError(res, 400, 'invalid_request');
    });
  });

  describe('403 forbidden', () => {
    it('refuses a token limited to other stories, writing nothing', async () => {
      const token = await h.storyline.tokens.create('desk', ['other-story']);
      const before = await eventCount(h);
      await expectError(
        h.append('forbidden-story', { events: [opened()] }, { token }),
        403,
        'forbidden',
      );
      await expectError(
        h.append(existing, { events: [reported('from-desk')] }, { token }),
        403,
        'forbidden',
      );
      expect(await eventCount(h)).toBe(before);
      expect((await h.getJson('/v1/stories/forbidden-story')).status).toBe(404);

      // The same token may publish to the story it names.
      const allowed = await h.append('other-story', { events: [opened()] }, { token });
      expect(allowed.status).toBe(201);
    });
  });

  describe('404', () => {
    it.each(['/v1/stories/no-such-story', '/v1/stories/no-such-story/timeline'])(
      'GET %s is story_not_found',
      async (path) => {
        const error = await expectError(get(h, path), 404, 'story_not_found');
        expect(error.storyId).toBe('no-such-story');
      },
    );

    it('GET /v1/stories/{unknown}/events is story_not_found', async () => {
      await expectError(get(h, '/v1/stories/no-such-story/events'), 404, 'story_not_found');
    });

    it('GET /v1/stories/{unknown}/state is story_not_found', async () => {
      await expectError(get(h, '/v1/stories/no-such-story/state?at=1'), 404, 'story_not_found');
    });

    // `/` is the story list (tests/integration/pages.test.ts).
    it.each([
      ['GET', '/nope'],
      ['GET', '/v1'],
      ['GET', '/v1/nope'],
      ['GET', '/v2/stories'],
      ['GET', `/v1/stories/${existing}/nope`],
      ['POST', '/v1/stories'],
      ['DELETE', `/v1/stories/${existing}`],
    ])('%s %s is route_not_found', async (method, path) => {
      await expectError(Promise.resolve(h.app.request(path, { method })), 404, 'route_not_found');
    });
  });

  describe('415 unsupported_media_type', () => {
    it('rejects a body that is not sent as application/json', async () => {
      const before = await eventCount(h);
      const body = JSON.stringify({ events: [opened()] });
      const error = await expectError(
        postRaw(h, 'media-story', body, { 'Content-Type': 'text/plain' }),
        415,
        'unsupported_media_type',
      );
      expect(error.contentType).toBe('text/plain');
      await expectError(
        postRaw(h, 'media-story', body, { 'Content-Type': 'application/x-www-form-urlencoded' }),
        415,
        'unsupported_media_type',
      );
      await expectError(
        postRaw(h, 'media-story', body, { 'Content-Type': 'application/jsonp' }),
        415,
        'unsupported_media_type',
      );
      expect(await eventCount(h)).toBe(before);
    });

    it('accepts application/json with a charset', async () => {
      const res = await postRaw(h, 'media-story', JSON.stringify({ events: [opened()] }), {
        'Content-Type': 'application/json; charset=utf-8',
      });
      expect(res.status).toBe(201);
    });
  });

  describe('health', () => {
    it('GET /healthz is 200', async () => {
      expect(await h.getJson('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    });

    it('GET /readyz is 200', async () => {
      expect(await h.getJson('/readyz')).toEqual({ status: 200, body: { status: 'ready' } });
    });
  });
});

describe('HTTP errors: 413 payload_too_large', () => {
  let h: Harness;
  const limit = 2048;

  beforeAll(async () => {
    h = await createHarness({ bodyLimit: limit });
  });
  afterAll(() => h.close());

  const bigBody = () =>
    JSON.stringify({
      events: [
        { ...opened(), data: { ...opened().data, summary: 'x'.repeat(1900) } },
        reported('a'),
      ],
    });

  it('rejects a body larger than the limit, writing nothing', async () => {
    const body = bigBody();
    expect(Buffer.byteLength(body)).toBeGreaterThan(limit);
    const error = await expectError(h.append('big-story', body), 413, 'payload_too_large');
    expect(error.limit).toBe(limit);
    expect(await eventCount(h)).toBe(0);
  });

  it('rejects it also when the client declares its length', async () => {
    const body = bigBody();
    await expectError(
      postRaw(h, 'big-story', body, {
        'Content-Type': 'application/json',
        'Content-Length': String(Buffer.byteLength(body)),
      }),
      413,
      'payload_too_large',
    );
    expect(await eventCount(h)).toBe(0);
  });

  it('accepts a body within the limit', async () => {
    const res = await h.append('big-story', { events: [opened()] });
    expect(res.status).toBe(201);
    expect(await eventCount(h)).toBe(1);
  });
});
