/**
 * Reading over HTTP: the story list, one story with its ETag, the timeline in time order with
 * cursor paging, the log's envelopes page by page, and time travel by position and by time.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type {
  appendResultSchema,
  eventsPageSchema,
  storyStateSchema,
  timelinePageSchema,
} from '../../src/adapters/http/response-schemas.ts';
import type { StoryListItem } from '../../src/app/ports.ts';
import type { RecordedEvent } from '../../src/domain/event-types.ts';
import type { StoryView, TimelineEntry } from '../../src/domain/story-view.ts';
import { expectError } from '../support/api-errors.ts';
import { startHttpServer, type RunningServer } from '../../src/composition.ts';
import { readConfig } from '../../src/config.ts';
import { createHarness, silentLogger, type Harness } from '../support/harness.ts';
import { until } from '../support/live-client.ts';

/** The API's bodies, typed by the schemas that describe them in the OpenAPI document. */
type AppendResponse = z.infer<typeof appendResultSchema>;
type EventsPage = z.infer<typeof eventsPageSchema>;
type TimelinePage = z.infer<typeof timelinePageSchema>;
type StoryState = z.infer<typeof storyStateSchema>;

type NewEvent = Record<string, unknown>;

const opened = (title: string): NewEvent => ({
  type: 'story.opened',
  data: { title, timeZone: 'Europe/Moscow' },
});
const reported = (developmentId: string, occurredAt?: string): NewEvent => ({
  type: 'development.reported',
  data: { developmentId, kind: 'statement', headline: `About ${developmentId}` },
  ...(occurredAt === undefined ? {} : { occurredAt }),
});
const summaryRevised = (...keyPoints: string[]): NewEvent => ({
  type: 'summary.revised',
  data: { keyPoints },
});

const isoUtc = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Every read twice: from the database (an app built without a live feed), and as a running
 * server answers them, from memory kept fresh by its feed and by its own appends. Both must
 * give the same answers, and a writer must read its own writes on the next request.
 */
describe.each(['from the database', 'from memory'] as const)('HTTP reads, %s', (mode) => {
  let h: Harness;
  let server: RunningServer | undefined;

  beforeAll(async () => {
    h = await createHarness();
    if (mode === 'from memory') {
      server = await startHttpServer(
        h.storyline,
        { host: '127.0.0.1', port: 0, bodyLimit: 1024 * 1024, live: readConfig({}).live },
        silentLogger,
      );
    }
  });
  afterAll(async () => {
    await server?.close();
    await h.close();
  });

  /** The request, in-process or to the server over HTTP. */
  function request(path: string, init?: RequestInit): Promise<Response> {
    return server === undefined
      ? Promise.resolve(h.app.request(path, init))
      : fetch(`${server.url}${path}`, init);
  }

  async function post(storyId: string, body: unknown, token = h.token): Promise<Response> {
    return request(`/v1/stories/${storyId}/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
  }

  async function get(path: string): Promise<{ status: number; body: unknown }> {
    const res = await request(path);
    const text = await res.text();
    expect(res.status, `${path}: ${text}`).toBe(200);
    return { status: res.status, body: JSON.parse(text) as unknown };
  }

  async function append(storyId: string, events: NewEvent[]): Promise<AppendResponse> {
    const res = await post(storyId, { events });
    const text = await res.text();
    expect(res.status, text).toBe(201);
    return JSON.parse(text) as AppendResponse;
  }

  /** Follows `next` to the end; fails if it does not end. */
  async function allTimeline(storyId: string, query: string): Promise<TimelineEntry[]> {
    const entries: TimelineEntry[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 100; page += 1) {
      const suffix: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const body = (await get(`/v1/stories/${storyId}/timeline?${query}${suffix}`))
        .body as TimelinePage;
      entries.push(...body.entries);
      cursor = body.next;
      if (cursor === null) return entries;
    }
    throw new Error('timeline paging did not end');
  }

  async function allEvents(path: string, limit: number): Promise<{ pages: EventsPage[] }> {
    const pages: EventsPage[] = [];
    let after = 0;
    for (let page = 0; page < 1000; page += 1) {
      const body = (await get(`${path}?after=${after}&limit=${limit}`)).body as EventsPage;
      pages.push(body);
      if (body.next === null) return { pages };
      after = body.next;
    }
    throw new Error('event paging did not end');
  }

  async function eventRows(storyId?: string): Promise<number[]> {
    const result = await h.storyline.connection.pool.query<{ position: number }>(
      storyId === undefined
        ? 'select position from events order by position'
        : 'select position from events where story_id = $1 order by position',
      storyId === undefined ? [] : [storyId],
    );
    return result.rows.map((row) => row.position);
  }

  describe('GET /v1/stories', () => {
    it('lists every story with its summary fields, most recently updated first', async () => {
      await append('list-a', [opened('Alpha')]);
      await append('list-b', [opened('Bravo'), reported('x')]);
      await append('list-a', [{ type: 'story.status_changed', data: { status: 'paused' } }]);

      const { stories } = (await get('/v1/stories')).body as { stories: StoryListItem[] };
      const a = stories.find((item) => item.storyId === 'list-a');
      const b = stories.find((item) => item.storyId === 'list-b');
      const storyA = (await get('/v1/stories/list-a')).body as StoryView;
      const storyB = (await get('/v1/stories/list-b')).body as StoryView;
      expect(a).toEqual({
        storyId: 'list-a',
        title: 'Alpha',
        status: 'paused',
        version: 2,
        position: storyA.position,
        updatedAt: storyA.lastUpdateAt,
        timeZone: storyA.timeZone,
        counts: storyA.counts,
      });
      expect(b).toEqual({
        storyId: 'list-b',
        title: 'Bravo',
        status: 'live',
        version: 2,
        position: storyB.position,
        updatedAt: storyB.lastUpdateAt,
        timeZone: storyB.timeZone,
        counts: { developments: 1, retracted: 0, corrections: 0, disputes: 0, keyEvents: 0 },
      });
      for (const item of stories) {
        expect(Object.keys(item).sort()).toEqual(
          [
            'counts',
            'position',
            'status',
            'storyId',
            'timeZone',
            'title',
            'updatedAt',
            'version',
          ].sort(),
        );
        expect(item.updatedAt).toMatch(isoUtc);
      }
      const updated = stories.map((item) => Date.parse(item.updatedAt));
      expect(updated).toEqual([...updated].sort((x, y) => y - x));
      expect(stories.findIndex((item) => item.storyId === 'list-a')).toBeLessThan(
        stories.findIndex((item) => item.storyId === 'list-b'),
      );
    });
  });

  describe('GET /v1/stories/{id}', () => {
    it('has storyId, version and position at the top level, and an ETag', async () => {
      const result = await append('etag', [opened('Tagged'), reported('a')]);
      const res = await request('/v1/stories/etag');
      expect(res.status).toBe(200);
      const body = (await res.json()) as StoryView;
      expect(body).toMatchObject({
        storyId: 'etag',
        version: 2,
        position: result.positions[1],
        title: 'Tagged',
        status: 'live',
      });
      const etag = res.headers.get('ETag');
      expect(etag).toMatch(/^"[^"]+"$/);
      expect(res.headers.get('Cache-Control')).toBe('no-cache');
    });

    it('answers If-None-Match with 304 until the story changes', async () => {
      const first = await request('/v1/stories/etag');
      const etag = first.headers.get('ETag') ?? '';

      const unchanged = await request('/v1/stories/etag', {
        headers: { 'If-None-Match': etag },
      });
      expect(unchanged.status).toBe(304);
      expect(await unchanged.text()).toBe('');
      expect(unchanged.headers.get('ETag')).toBe(etag);

      for (const header of [`W/${etag}`, `"other", ${etag}`, '*']) {
        const res = await request('/v1/stories/etag', {
          headers: { 'If-None-Match': header },
        });
        expect(res.status, header).toBe(304);
      }
      const other = await request('/v1/stories/etag', {
        headers: { 'If-None-Match': '"something-else"' },
      });
      expect(other.status).toBe(200);

      // Appends to another story do not change this one's ETag.
      await append('etag-other', [opened('Other')]);
      const still = await request('/v1/stories/etag', {
        headers: { 'If-None-Match': etag },
      });
      expect(still.status).toBe(304);

      const result = await append('etag', [reported('b')]);
      const changed = await request('/v1/stories/etag', {
        headers: { 'If-None-Match': etag },
      });
      expect(changed.status).toBe(200);
      const newEtag = changed.headers.get('ETag');
      expect(newEtag).not.toBeNull();
      expect(newEtag).not.toBe(etag);
      expect(await changed.json()).toMatchObject({
        version: 3,
        position: result.positions[0],
      });

      const again = await request('/v1/stories/etag', {
        headers: { 'If-None-Match': newEtag ?? '' },
      });
      expect(again.status).toBe(304);
    });

    it('serves a change appended by another process once this one has read it from the log', async () => {
      const before = (await get('/v1/stories/etag')).body as StoryView;
      // Not through this server: as another process would, straight into the log.
      const elsewhere = await h.storyline.appender.append({
        storyId: 'etag',
        author: 'test desk',
        events: [reported('from-elsewhere') as never],
      });
      await until(
        async () => ((await get('/v1/stories/etag')).body as StoryView).version > before.version,
        'the other process’s append',
      );
      const after = (await get('/v1/stories/etag')).body as StoryView;
      expect(after).toMatchObject({ version: elsewhere.version, position: elsewhere.positions[0] });
      const timeline = (await get('/v1/stories/etag/timeline?order=desc&limit=1'))
        .body as TimelinePage;
      expect(timeline.entries.map((entry) => entry.developmentId)).toEqual(['from-elsewhere']);
    });
  });

  describe('GET /v1/stories/{id}/timeline', () => {
    const storyId = 'timeline';
    /** developmentId -> occurredAt, in the order they are reported. */
    const reports: [string, string][] = [
      ['noon', '2025-12-02T12:00:00Z'],
      ['ten', '2025-12-02T10:00:00Z'], // reported later, happened earlier
      ['ten-thirty', '2025-12-02T13:30:00+03:00'], // 10:30 UTC
      ['eleven', '2025-12-02T06:00:00-05:00'], // 11:00 UTC
      ['ten-again', '2025-12-02T10:00:00Z'], // same instant as "ten", reported after it
      ['ten-offset', '2025-12-02T12:00:00+02:00'], // also 10:00 UTC, reported last of the three
      ['morning', '2025-12-02T07:00:00Z'],
      ['evening', '2025-12-02T20:00:00Z'],
      ['nine', '2025-12-02T09:00:00.500Z'],
      ['nine-ish', '2025-12-02T09:00:00.250Z'],
      ['late', '2025-12-03T01:00:00+01:00'], // 00:00 UTC the next day
    ];
    const expectedOrder = [
      'morning',
      'nine-ish',
      'nine',
      'ten',
      'ten-again',
      'ten-offset',
      'ten-thirty',
      'eleven',
      'noon',
      'evening',
      'late',
    ];

    beforeAll(async () => {
      await append(storyId, [opened('Timeline'), reported(reports[0]?.[0] ?? '', reports[0]?.[1])]);
      for (const [developmentId, occurredAt] of reports.slice(1)) {
        await append(storyId, [reported(developmentId, occurredAt)]);
      }
    });

    it('orders entries by when they happened, then by when they were reported', async () => {
      const body = (await get(`/v1/stories/${storyId}/timeline`)).body as TimelinePage;
      const story = (await get(`/v1/stories/${storyId}`)).body as StoryView;
      expect(body).toMatchObject({
        storyId,
        version: story.version,
        position: story.position,
        order: 'asc',
        next: null,
      });
      expect(body.entries.map((entry) => entry.developmentId)).toEqual(expectedOrder);
      // The development reported second, with an earlier occurredAt, comes before the first.
      const ids = body.entries.map((entry) => entry.developmentId);
      expect(ids.indexOf('ten')).toBeLessThan(ids.indexOf('noon'));
    });

    it('reverses the order with order=desc', async () => {
      const body = (await get(`/v1/stories/${storyId}/timeline?order=desc`)).body as TimelinePage;
      expect(body.order).toBe('desc');
      expect(body.entries.map((entry) => entry.developmentId)).toEqual(
        [...expectedOrder].reverse(),
      );
    });

    it.each([1, 2, 3, 4, 5, 11, 12])(
      'pages with limit=%i, visiting every entry exactly once, both ways',
      async (limit) => {
        const asc = await allTimeline(storyId, `limit=${limit}`);
        expect(asc.map((entry) => entry.developmentId)).toEqual(expectedOrder);
        const desc = await allTimeline(storyId, `order=desc&limit=${limit}`);
        expect(desc.map((entry) => entry.developmentId)).toEqual([...expectedOrder].reverse());
      },
    );

    it('returns a cursor only while a page is full', async () => {
      const first = (await get(`/v1/stories/${storyId}/timeline?limit=4`)).body as TimelinePage;
      expect(first.entries).toHaveLength(4);
      expect(typeof first.next).toBe('string');
      const all = (await get(`/v1/stories/${storyId}/timeline?limit=20`)).body as TimelinePage;
      expect(all.entries).toHaveLength(expectedOrder.length);
      expect(all.next).toBeNull();
    });

    it('rejects a cursor it did not issue with 400', async () => {
      for (const cursor of ['garbage', '%%%', 'eyJmb28iOjF9', 'a'.repeat(201)]) {
        await expectError(
          request(`/v1/stories/${storyId}/timeline?cursor=${cursor}`),
          400,
          'invalid_request',
        );
      }
    });

    it('moves an entry when a correction changes when it happened', async () => {
      await append(storyId, [
        {
          type: 'development.corrected',
          data: {
            developmentId: 'late',
            changes: { occurredAt: '2025-12-02T08:00:00+03:00' }, // 05:00 UTC, first
            note: 'wrong day',
            severity: 'correction',
          },
        },
      ]);
      const moved = ['late', ...expectedOrder.filter((id) => id !== 'late')];
      const entries = await allTimeline(storyId, 'limit=3');
      expect(entries.map((entry) => entry.developmentId)).toEqual(moved);
      expect(entries[0]?.occurredAt).toBe('2025-12-02T08:00:00+03:00');
    });

    it('is the same timeline time travel folds at the head', async () => {
      const story = (await get(`/v1/stories/${storyId}`)).body as StoryView;
      const state = (await get(`/v1/stories/${storyId}/state?at=${story.position}`))
        .body as StoryState;
      const entries = await allTimeline(storyId, 'limit=100');
      expect(state.timeline).toEqual(entries);
      const { at: _at, asOf: _asOf, timeline: _timeline, ...view } = state;
      expect(view).toEqual(story);
    });
  });

  describe('timeline order below a millisecond', () => {
    // The timeline endpoint orders by the stored timestamptz (microseconds); time travel must agree.
    it('is the same in the timeline and in time travel', async () => {
      await append('precise', [
        opened('Precise'),
        reported('later', '2025-12-02T10:00:00.000900Z'),
        reported('earlier', '2025-12-02T10:00:00.000100Z'),
      ]);
      const timeline = (await get('/v1/stories/precise/timeline')).body as TimelinePage;
      expect(timeline.entries.map((entry) => entry.developmentId)).toEqual(['earlier', 'later']);
      const state = (await get(`/v1/stories/precise/state?at=${timeline.position}`))
        .body as StoryState;
      expect(state.timeline.map((entry) => entry.developmentId)).toEqual(['earlier', 'later']);
    });
  });

  describe('GET /v1/events', () => {
    beforeAll(async () => {
      await append('log-a', [opened('Log A'), reported('a1'), reported('a2')]);
      await append('log-b', [opened('Log B')]);
      await append('log-a', [summaryRevised('point')]);
      await append('log-b', [reported('b1'), reported('b2')]);
    });

    it('returns envelopes in position order with the head', async () => {
      const positions = await eventRows();
      const head = positions.at(-1);
      const body = (await get('/v1/events?after=0&limit=1000')).body as EventsPage;
      expect(Object.keys(body)).toEqual(expect.arrayContaining(['events', 'head', 'next']));
      expect(body.head).toBe(head);
      expect(body.next).toBeNull();
      expect(body.events.map((event) => event.position)).toEqual(positions);
      for (const event of body.events) {
        expect(Object.keys(event).sort()).toEqual(
          [
            'data',
            'id',
            'metadata',
            'occurredAt',
            'position',
            'recordedAt',
            'schemaVersion',
            'storyId',
            'type',
            'version',
          ].sort(),
        );
        expect(event).toMatchObject({
          position: expect.any(Number),
          storyId: expect.any(String),
          version: expect.any(Number),
          id: expect.stringMatching(/^[0-9a-f-]{36}$/),
          type: expect.any(String),
          schemaVersion: 1,
          data: expect.any(Object),
          metadata: expect.objectContaining({ author: 'test desk' }),
        });
        expect(event.recordedAt).toMatch(isoUtc);
      }
      const logA = body.events.filter((event) => event.storyId === 'log-a');
      expect(logA.map((event) => [event.version, event.type])).toEqual([
        [1, 'story.opened'],
        [2, 'development.reported'],
        [3, 'development.reported'],
        [4, 'summary.revised'],
      ]);
      expect(logA[1]?.data).toEqual({
        developmentId: 'a1',
        kind: 'statement',
        headline: 'About a1',
      });
    });

    it('defaults to after=0', async () => {
      const body = (await get('/v1/events')).body as EventsPage;
      expect(body.events[0]?.position).toBe((await eventRows())[0]);
    });

    it.each([1, 2, 3, 4, 7, 100])(
      'pages with limit=%i, visiting every event exactly once',
      async (limit) => {
        const positions = await eventRows();
        const { pages } = await allEvents('/v1/events', limit);
        const seen = pages.flatMap((page) => page.events.map((event) => event.position));
        expect(seen).toEqual(positions);
        for (const page of pages) {
          expect(page.head).toBe(positions.at(-1));
          expect(page.events.length).toBeLessThanOrEqual(limit);
          if (page.next !== null) {
            expect(page.events).toHaveLength(limit);
            expect(page.next).toBe(page.events.at(-1)?.position);
          }
        }
        // No trailing empty page: the last page holds the last event.
        expect(pages.at(-1)?.events.at(-1)?.position).toBe(positions.at(-1));
      },
    );

    it('returns nothing after the head, with next null', async () => {
      const positions = await eventRows();
      const head = positions.at(-1) ?? 0;
      for (const after of [head, head + 1000]) {
        const body = (await get(`/v1/events?after=${after}`)).body as EventsPage;
        expect(body).toMatchObject({ events: [], head, next: null });
      }
    });

    it('sends full pages as immutable and the last page as no-cache, each with an ETag', async () => {
      const positions = await eventRows();
      const fullPath = '/v1/events?after=0&limit=1';
      const full = await request(fullPath);
      expect(full.status).toBe(200);
      expect(((await full.json()) as EventsPage).next).toBe(positions[0]);
      expect(full.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
      const fullTag = full.headers.get('ETag') ?? '';
      expect(fullTag).not.toBe('');

      const tipPath = `/v1/events?after=${positions.at(-2) ?? 0}`;
      const tip = await request(tipPath);
      expect(((await tip.json()) as EventsPage).next).toBeNull();
      expect(tip.headers.get('Cache-Control')).toBe('no-cache');
      const tipTag = tip.headers.get('ETag') ?? '';
      expect(tipTag).not.toBe('');
      const unchanged = await request(tipPath, { headers: { 'If-None-Match': tipTag } });
      expect(unchanged.status).toBe(304);

      // An append: the writer sees it on the tip at once; the full page is still the same.
      const appended = await append('log-c', [opened('Log C')]);
      const changed = await request(tipPath, { headers: { 'If-None-Match': tipTag } });
      expect(changed.status).toBe(200);
      expect(changed.headers.get('ETag')).not.toBe(tipTag);
      const page = (await changed.json()) as EventsPage;
      expect(page.events.map((event) => event.position)).toEqual([
        positions.at(-1),
        ...appended.positions,
      ]);
      const same = await request(fullPath, { headers: { 'If-None-Match': fullTag } });
      expect(same.status).toBe(304);
    });
  });

  describe('GET /v1/stories/{id}/events', () => {
    it("returns only that story's events, paged", async () => {
      const positions = await eventRows('log-b');
      expect(positions.length).toBe(3);
      const all = (await get('/v1/stories/log-b/events')).body as EventsPage;
      expect(all.events.map((event) => event.position)).toEqual(positions);
      expect(all.events.every((event) => event.storyId === 'log-b')).toBe(true);
      expect(all.events.map((event) => event.version)).toEqual([1, 2, 3]);
      expect(all.head).toBe((await eventRows()).at(-1));
      expect(all.next).toBeNull();

      for (const limit of [1, 2, 3]) {
        const { pages } = await allEvents('/v1/stories/log-b/events', limit);
        const seen = pages.flatMap((page) => page.events.map((event) => event.position));
        expect(seen).toEqual(positions);
        expect(pages.flatMap((page) => page.events).every((e) => e.storyId === 'log-b')).toBe(true);
      }

      const rest = (await get(`/v1/stories/log-b/events?after=${positions[0] ?? 0}`))
        .body as EventsPage;
      expect(rest.events.map((event) => event.position)).toEqual(positions.slice(1));
    });
  });

  describe('event metadata and times', () => {
    it('records the token name as author, whatever the client sent', async () => {
      const token = await h.storyline.tokens.create('weekend desk');
      const res = await post(
        'authored',
        {
          events: [
            {
              ...opened('Authored'),
              id: randomUUID(),
              occurredAt: '2025-12-02T16:30:00+03:00',
              metadata: { author: 'someone else', channel: 'app' },
            },
          ],
        },
        token,
      );
      expect(res.status).toBe(201);
      const [event] = ((await get('/v1/stories/authored/events')).body as EventsPage).events;
      expect(event?.metadata).toMatchObject({ author: 'weekend desk', channel: 'app' });
      expect(event?.occurredAt).toBe('2025-12-02T16:30:00+03:00');
      expect(event?.recordedAt).toMatch(isoUtc);
    });
  });

  describe('GET /v1/stories/{id}/state', () => {
    const storyId = 'travel';
    let openedAt = 0;
    let firstRevision = 0;
    let secondRevision = 0;

    beforeAll(async () => {
      openedAt = (await append(storyId, [opened('Travel')])).positions[0] ?? 0;
      firstRevision = (await append(storyId, [summaryRevised('talks begin')])).positions[0] ?? 0;
      // Other appends in between, so the two revisions are some way apart in the log.
      for (let i = 0; i < 5; i += 1) await append(`travel-other-${i}`, [opened('Other')]);
      await append(storyId, [reported('d1', '2025-12-02T09:00:00+03:00')]);
      secondRevision =
        (await append(storyId, [summaryRevised('talks begin', 'talks end')])).positions[0] ?? 0;
    });

    it('returns the story as it stood at a position', async () => {
      const atOpen = (await get(`/v1/stories/${storyId}/state?at=${openedAt}`)).body as StoryState;
      expect(atOpen).toMatchObject({
        storyId,
        version: 1,
        position: openedAt,
        keyPoints: [],
        at: openedAt,
        asOf: null,
        timeline: [],
      });

      const atFirst = (await get(`/v1/stories/${storyId}/state?at=${firstRevision}`))
        .body as StoryState;
      expect(atFirst).toMatchObject({ version: 2, keyPoints: ['talks begin'], timeline: [] });

      // Positions of other stories in between show the same state.
      const between = (await get(`/v1/stories/${storyId}/state?at=${secondRevision - 1}`))
        .body as StoryState;
      expect(between).toMatchObject({ version: 3, keyPoints: ['talks begin'] });
      expect(between.timeline.map((entry) => entry.developmentId)).toEqual(['d1']);

      const atSecond = (await get(`/v1/stories/${storyId}/state?at=${secondRevision}`))
        .body as StoryState;
      expect(atSecond).toMatchObject({ version: 4, keyPoints: ['talks begin', 'talks end'] });
      const now = (await get(`/v1/stories/${storyId}`)).body as StoryView;
      expect(now.keyPoints).toEqual(['talks begin', 'talks end']);
    });

    it('is 404 story_not_found at a position before the story opened', async () => {
      await expectError(
        request(`/v1/stories/${storyId}/state?at=${openedAt - 1}`),
        404,
        'story_not_found',
      );
    });

    it('returns the story as it stood at a time', async () => {
      const events = ((await get(`/v1/events?limit=1000`)).body as EventsPage).events;
      const byPosition = new Map(events.map((event) => [event.position, event]));
      const firstRecorded = byPosition.get(firstRevision)?.recordedAt ?? '';
      const secondRecorded = byPosition.get(secondRevision)?.recordedAt ?? '';

      /** What the log had recorded by `asOf`: its last revision of the key points. */
      const expectedKeyPoints = (asOf: string) =>
        events
          .filter(
            (event): event is Extract<RecordedEvent, { type: 'summary.revised' }> =>
              event.storyId === storyId &&
              event.type === 'summary.revised' &&
              Date.parse(event.recordedAt) <= Date.parse(asOf),
          )
          .at(-1)?.data.keyPoints ?? [];

      for (const asOf of [firstRecorded, secondRecorded]) {
        const state = (await get(`/v1/stories/${storyId}/state?asOf=${encodeURIComponent(asOf)}`))
          .body as StoryState;
        expect(state.asOf).toBe(asOf);
        expect(state.at).toBeNull();
        expect(state.keyPoints).toEqual(expectedKeyPoints(asOf));
      }
      const atSecond = (
        await get(`/v1/stories/${storyId}/state?asOf=${encodeURIComponent(secondRecorded)}`)
      ).body as StoryState;
      expect(atSecond.keyPoints).toEqual(['talks begin', 'talks end']);

      // The same instant written with an offset.
      const moscow = new Date(Date.parse(secondRecorded) + 3 * 3600_000)
        .toISOString()
        .replace('Z', '+03:00');
      const withOffset = (
        await get(`/v1/stories/${storyId}/state?asOf=${encodeURIComponent(moscow)}`)
      ).body as StoryState;
      expect(withOffset.keyPoints).toEqual(['talks begin', 'talks end']);
      expect(withOffset.asOf).toBe(moscow);

      const future = (
        await get(`/v1/stories/${storyId}/state?asOf=${encodeURIComponent('2999-01-01T00:00:00Z')}`)
      ).body as StoryState;
      expect(future.version).toBe(
        ((await get(`/v1/stories/${storyId}`)).body as StoryView).version,
      );

      await expectError(
        request(`/v1/stories/${storyId}/state?asOf=${encodeURIComponent('2000-01-01T00:00:00Z')}`),
        404,
        'story_not_found',
      );
    });

    it('agrees with the live view at the head', async () => {
      const story = (await get(`/v1/stories/${storyId}`)).body as StoryView;
      const state = (await get(`/v1/stories/${storyId}/state?at=${story.position}`))
        .body as StoryState;
      const { at: _at, asOf: _asOf, timeline: _timeline, ...view } = state;
      expect(view).toEqual(story);
    });
  });
});
