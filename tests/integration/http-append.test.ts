/**
 * Appending over HTTP: optimistic concurrency, idempotent retries, every domain rule as a 422,
 * and all-or-nothing appends (a rejected request leaves the log and the views as they were).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { appendResultSchema } from '../../src/adapters/http/response-schemas.ts';
import type { ErrorCode } from '../../src/domain/errors.ts';
import type { RecordedEvent } from '../../src/domain/event-types.ts';
import type { StoryView, TimelineEntry } from '../../src/domain/story-view.ts';
import { expectError } from '../support/api-errors.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { corrected, opened, retracted } from '../support/new-events.ts';

/** The body of a 201 or 200 append. */
type AppendResponse = z.infer<typeof appendResultSchema>;

type NewEvent = Record<string, unknown>;

async function expectAppended(
  response: Response | Promise<Response>,
  status: 200 | 201 = 201,
): Promise<AppendResponse> {
  const res = await response;
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as AppendResponse;
}

/** GET with a typed body (the harness's getJson is untyped). */
async function getJson(h: Harness, path: string): Promise<{ status: number; body: unknown }> {
  const res = await h.app.request(path);
  return { status: res.status, body: await res.json() };
}

const reported = (developmentId: string, data: Record<string, unknown> = {}): NewEvent => ({
  type: 'development.reported',
  data: { developmentId, kind: 'statement', headline: `About ${developmentId}`, ...data },
});
const pinned = (developmentId: string): NewEvent => ({
  type: 'development.pinned',
  data: { developmentId },
});
const unpinned = (developmentId: string): NewEvent => ({
  type: 'development.unpinned',
  data: { developmentId },
});
const disputed = (developmentId: string): NewEvent => ({
  type: 'claim.disputed',
  data: { developmentId, by: 'The ministry', statement: 'That is not true' },
});
const statusChanged = (status: 'live' | 'paused' | 'closed'): NewEvent => ({
  type: 'story.status_changed',
  data: { status },
});
const summaryRevised = (...keyPoints: string[]): NewEvent => ({
  type: 'summary.revised',
  data: { keyPoints },
});

describe('HTTP appends', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());

  async function eventCount(storyId?: string): Promise<number> {
    const result =
      storyId === undefined
        ? await h.storyline.connection.pool.query<{ n: number }>(
            'select count(*)::int as n from events',
          )
        : await h.storyline.connection.pool.query<{ n: number }>(
            'select count(*)::int as n from events where story_id = $1',
            [storyId],
          );
    return result.rows[0]?.n ?? -1;
  }

  async function story(storyId: string): Promise<StoryView> {
    const { status, body } = await getJson(h, `/v1/stories/${storyId}`);
    expect(status).toBe(200);
    return body as StoryView;
  }

  async function storyEvents(storyId: string): Promise<RecordedEvent[]> {
    const { status, body } = await getJson(h, `/v1/stories/${storyId}/events?limit=1000`);
    expect(status).toBe(200);
    return (body as { events: RecordedEvent[] }).events;
  }

  /** Everything a rejected append must leave alone. */
  async function snapshot(storyId: string) {
    const timeline = await getJson(h, `/v1/stories/${storyId}/timeline?limit=500`);
    const rows = await h.storyline.connection.pool.query(
      `select (select count(*)::int from events) as events,
              (select view::text from stories where story_id = $1) as view,
              (select json_agg(entry::text order by development_id)::text
                 from timeline_entries where story_id = $1) as entries`,
      [storyId],
    );
    return {
      story: await story(storyId),
      timeline: (timeline.body as { entries: TimelineEntry[] }).entries,
      events: await storyEvents(storyId),
      rows: rows.rows[0] as unknown,
    };
  }

  async function openStory(storyId: string, ...more: NewEvent[]): Promise<AppendResponse> {
    return expectAppended(h.append(storyId, { events: [opened(), ...more] }));
  }

  describe('201 on a new append', () => {
    it('returns the story id, the new version and one position per event', async () => {
      const first = await openStory('new-story', reported('a'));
      expect(first).toEqual({
        storyId: 'new-story',
        version: 2,
        positions: [first.positions[0], (first.positions[0] ?? 0) + 1],
      });
      const second = await expectAppended(
        h.append('new-story', { events: [reported('b'), reported('c')] }),
      );
      expect(second).toEqual({
        storyId: 'new-story',
        version: 4,
        positions: [(first.positions[1] ?? 0) + 1, (first.positions[1] ?? 0) + 2],
      });
      const events = await storyEvents('new-story');
      expect(events.map((event) => [event.version, event.position])).toEqual([
        [1, first.positions[0]],
        [2, first.positions[1]],
        [3, second.positions[0]],
        [4, second.positions[1]],
      ]);
    });
  });

  describe('409 version_conflict', () => {
    it('rejects an expectedVersion that is not the current one, writing nothing', async () => {
      await openStory('versioned', reported('a'));
      const before = await snapshot('versioned');
      const error = await expectError(
        h.append('versioned', { expectedVersion: 1, events: [reported('b')] }),
        409,
        'version_conflict',
      );
      expect(error).toMatchObject({ expectedVersion: 1, actualVersion: 2 });
      await expectError(
        h.append('versioned', { expectedVersion: 3, events: [reported('b')] }),
        409,
        'version_conflict',
      );
      expect(await snapshot('versioned')).toEqual(before);
      expect(before.story.version).toBe(2);
    });

    it('rejects expectedVersion 0 on a story that exists, writing nothing', async () => {
      const before = await snapshot('versioned');
      const countBefore = await eventCount();
      const error = await expectError(
        h.append('versioned', { expectedVersion: 0, events: [reported('c')] }),
        409,
        'version_conflict',
      );
      expect(error).toMatchObject({ expectedVersion: 0, actualVersion: 2 });
      expect(await eventCount()).toBe(countBefore);
      expect(await snapshot('versioned')).toEqual(before);
    });

    it('accepts the current version, and 0 for a story that does not exist yet', async () => {
      const next = await expectAppended(
        h.append('versioned', { expectedVersion: 2, events: [reported('b')] }),
      );
      expect(next.version).toBe(3);
      const fresh = await expectAppended(
        h.append('versioned-new', { expectedVersion: 0, events: [opened()] }),
      );
      expect(fresh.version).toBe(1);
    });

    it('rejects a non-zero expectedVersion for a story that does not exist', async () => {
      const error = await expectError(
        h.append('versioned-missing', { expectedVersion: 1, events: [opened()] }),
        409,
        'version_conflict',
      );
      expect(error).toMatchObject({ expectedVersion: 1, actualVersion: 0 });
      expect(await eventCount('versioned-missing')).toBe(0);
    });
  });

  describe('409 duplicate_event_id', () => {
    it('rejects a stored id sent with different data, writing nothing', async () => {
      const id = randomUUID();
      const first = await openStory('dup-ids', { ...reported('a'), id });
      const before = await snapshot('dup-ids');
      const error = await expectError(
        h.append('dup-ids', { events: [{ ...reported('a', { headline: 'Other' }), id }] }),
        409,
        'duplicate_event_id',
      );
      expect(error).toMatchObject({ eventId: id, position: first.positions[1] });
      expect(await snapshot('dup-ids')).toEqual(before);
    });

    it('rejects a stored id sent with a different type or occurredAt', async () => {
      const id = randomUUID();
      await expectAppended(
        h.append('dup-ids', {
          events: [{ ...reported('b'), id, occurredAt: '2025-12-02T10:00:00+03:00' }],
        }),
      );
      const before = await snapshot('dup-ids');
      await expectError(
        h.append('dup-ids', { events: [{ ...summaryRevised('b'), id }] }),
        409,
        'duplicate_event_id',
      );
      await expectError(
        h.append('dup-ids', {
          events: [{ ...reported('b'), id, occurredAt: '2025-12-02T11:00:00+03:00' }],
        }),
        409,
        'duplicate_event_id',
      );
      expect(await snapshot('dup-ids')).toEqual(before);
    });

    it('rejects a stored id sent to another story with the same data', async () => {
      const id = randomUUID();
      await openStory('dup-ids-home', { ...reported('shared'), id });
      await openStory('dup-ids-away');
      const before = await snapshot('dup-ids-away');
      await expectError(
        h.append('dup-ids-away', { events: [{ ...reported('shared'), id }] }),
        409,
        'duplicate_event_id',
      );
      expect(await snapshot('dup-ids-away')).toEqual(before);
    });

    it('rejects an append mixing a stored id with new ones, writing none of them', async () => {
      const stored = randomUUID();
      await expectAppended(h.append('dup-ids', { events: [{ ...reported('c'), id: stored }] }));
      const before = await snapshot('dup-ids');
      const countBefore = await eventCount();
      const fresh = [randomUUID(), randomUUID()];
      const error = await expectError(
        h.append('dup-ids', {
          events: [
            { ...reported('d'), id: fresh[0] },
            { ...reported('c'), id: stored },
            { ...reported('e'), id: fresh[1] },
          ],
        }),
        409,
        'duplicate_event_id',
      );
      expect(error.eventId).toBe(stored);
      expect(await eventCount()).toBe(countBefore);
      expect(await snapshot('dup-ids')).toEqual(before);
      const ids = (await storyEvents('dup-ids')).map((event) => event.id);
      expect(ids).not.toContain(fresh[0]);
      expect(ids).not.toContain(fresh[1]);
    });
  });

  describe('422 domain rules', () => {
    beforeAll(async () => {
      await openStory(
        'rules',
        reported('live-one'),
        reported('to-retract'),
        retracted('to-retract'),
        reported('claim', { kind: 'claim' }),
      );
    });

    /** Asserts the append fails with the code and leaves the story exactly as it was. */
    async function expectRule(storyId: string, events: NewEvent[], code: ErrorCode) {
      const before = await eventCount();
      const view = async () => {
        const res = await h.getJson(`/v1/stories/${storyId}`);
        return res.status === 200 ? (res.body as StoryView) : res.status;
      };
      const story = await view();
      const error = await expectError(h.append(storyId, { events }), 422, code);
      expect(await eventCount()).toBe(before);
      expect(await view()).toEqual(story);
      return error;
    }

    it('story_not_opened: the first event must open the story', async () => {
      const error = await expectRule('never-opened', [reported('a')], 'story_not_opened');
      expect(error).toMatchObject({ index: 0 });
      await expectRule('never-opened', [summaryRevised('k')], 'story_not_opened');
      await expectRule('never-opened', [statusChanged('closed')], 'story_not_opened');
    });

    it('story_already_opened: a story opens once', async () => {
      await expectRule('rules', [opened('Again')], 'story_already_opened');
      const error = await expectError(
        h.append('opened-twice', { events: [opened(), opened()] }),
        422,
        'story_already_opened',
      );
      expect(error).toMatchObject({ index: 1 });
      expect((await h.getJson('/v1/stories/opened-twice')).status).toBe(404);
    });

    it('development_already_reported: a development is reported once', async () => {
      const error = await expectRule(
        'rules',
        [reported('live-one')],
        'development_already_reported',
      );
      expect(error).toMatchObject({ developmentId: 'live-one', index: 0 });
      await expectRule('rules', [reported('to-retract')], 'development_already_reported');
      await expectRule(
        'rules',
        [reported('twice'), reported('twice')],
        'development_already_reported',
      );
    });

    it('development_not_found: only reported developments can change', async () => {
      for (const event of [
        corrected('ghost'),
        retracted('ghost'),
        pinned('ghost'),
        unpinned('ghost'),
        disputed('ghost'),
      ]) {
        const error = await expectRule('rules', [event], 'development_not_found');
        expect(error).toMatchObject({ developmentId: 'ghost' });
      }
    });

    it('development_retracted: a retracted development cannot change', async () => {
      for (const event of [
        corrected('to-retract'),
        retracted('to-retract'),
        pinned('to-retract'),
        disputed('to-retract'),
      ]) {
        const error = await expectRule('rules', [event], 'development_retracted');
        expect(error).toMatchObject({ developmentId: 'to-retract' });
      }
    });

    it('development_not_pinned: only the pinned development can be unpinned', async () => {
      await expectRule('rules', [unpinned('live-one')], 'development_not_pinned');
      await expectAppended(h.append('rules', { events: [pinned('live-one')] }));
      await expectRule('rules', [unpinned('claim')], 'development_not_pinned');
      await expectAppended(h.append('rules', { events: [unpinned('live-one')] }));
      await expectRule('rules', [unpinned('live-one')], 'development_not_pinned');
    });

    it('status_unchanged: a status change must change the status', async () => {
      await expectRule('rules', [statusChanged('live')], 'status_unchanged');
      await expectAppended(h.append('rules', { events: [statusChanged('paused')] }));
      await expectRule('rules', [statusChanged('paused')], 'status_unchanged');
      await expectAppended(h.append('rules', { events: [statusChanged('live')] }));
    });

    it('story_closed: a closed story takes nothing but reopening', async () => {
      await openStory('closing', reported('a'));
      await expectAppended(h.append('closing', { events: [statusChanged('closed')] }));
      for (const event of [
        reported('b'),
        corrected('a'),
        summaryRevised('k'),
        statusChanged('closed'),
        pinned('a'),
      ]) {
        await expectRule('closing', [event], 'story_closed');
      }
      const reopened = await expectAppended(
        h.append('closing', { events: [statusChanged('paused'), reported('b')] }),
      );
      expect(reopened.version).toBe(5);
      expect((await story('closing')).status).toBe('paused');
    });

    it('a batch whose last event breaks a rule writes none of it', async () => {
      await openStory('atomic', reported('a'), summaryRevised('first point'));
      const before = await snapshot('atomic');
      const countBefore = await eventCount();
      const error = await expectError(
        h.append('atomic', {
          events: [
            summaryRevised('second point'),
            corrected('a'),
            reported('a'), // already reported
          ],
        }),
        422,
        'development_already_reported',
      );
      expect(error).toMatchObject({ index: 2, developmentId: 'a' });
      expect(error.message).toContain('events[2]');
      expect(await eventCount()).toBe(countBefore);
      expect(await snapshot('atomic')).toEqual(before);
    });

    it('a batch that opens a story and then breaks a rule leaves no story', async () => {
      const countBefore = await eventCount();
      await expectError(
        h.append('atomic-new', {
          events: [opened(), reported('a'), statusChanged('live')],
        }),
        422,
        'status_unchanged',
      );
      expect(await eventCount()).toBe(countBefore);
      expect((await h.getJson('/v1/stories/atomic-new')).status).toBe(404);
      const listed = (await getJson(h, '/v1/stories')).body as { stories: { storyId: string }[] };
      expect(listed.stories.map((item) => item.storyId)).not.toContain('atomic-new');
    });

    it('later events of a batch see the earlier ones', async () => {
      const result = await expectAppended(
        h.append('atomic', {
          events: [reported('b'), pinned('b'), corrected('b'), unpinned('b'), retracted('b')],
        }),
      );
      expect(result.positions).toHaveLength(5);
      const view = await story('atomic');
      expect(view).toMatchObject({ pinned: null, counts: { retracted: 1, corrections: 1 } });
    });
  });

  describe('idempotent retries', () => {
    it('answers a repeated request with 200, the same result, and writes nothing', async () => {
      const body = {
        events: [
          { ...opened('Retried'), id: randomUUID(), occurredAt: '2025-12-02T09:00:00+03:00' },
          { ...reported('a'), id: randomUUID(), occurredAt: '2025-12-02T09:30:00+03:00' },
          { ...summaryRevised('one', 'two'), id: randomUUID() },
        ],
      };
      const first = await expectAppended(h.append('retried', body), 201);
      const before = await snapshot('retried');
      const countBefore = await eventCount();

      const again = await expectAppended(h.append('retried', body), 200);
      expect(again).toEqual(first);
      const thrice = await expectAppended(h.append('retried', JSON.stringify(body)), 200);
      expect(thrice).toEqual(first);

      expect(await eventCount()).toBe(countBefore);
      expect(await snapshot('retried')).toEqual(before);
    });

    it('treats a retry without occurredAt as the same request when the data matches', async () => {
      const withTimes = {
        events: [
          { ...reported('b'), id: randomUUID(), occurredAt: '2025-12-02T10:00:00+03:00' },
          { ...reported('c'), id: randomUUID(), occurredAt: '2025-12-02T10:05:00+03:00' },
        ],
      };
      const first = await expectAppended(h.append('retried', withTimes), 201);
      const countBefore = await eventCount();
      const withoutTimes = {
        events: withTimes.events.map(({ occurredAt: _occurredAt, ...event }) => event),
      };
      expect(await expectAppended(h.append('retried', withoutTimes), 200)).toEqual(first);
      expect(await eventCount()).toBe(countBefore);
      const events = await storyEvents('retried');
      expect(events.slice(-2).map((event) => event.occurredAt)).toEqual([
        '2025-12-02T10:00:00+03:00',
        '2025-12-02T10:05:00+03:00',
      ]);
    });

    it('treats data with keys in another order as the same data', async () => {
      const id = randomUUID();
      const first = await expectAppended(
        h.append('retried', {
          events: [
            {
              type: 'development.reported',
              id,
              data: { developmentId: 'd', kind: 'meeting', headline: 'Met', location: 'Kyiv' },
            },
          ],
        }),
      );
      const again = await expectAppended(
        h.append('retried', {
          events: [
            {
              id,
              data: { location: 'Kyiv', headline: 'Met', kind: 'meeting', developmentId: 'd' },
              type: 'development.reported',
            },
          ],
        }),
        200,
      );
      expect(again).toEqual(first);
    });

    it('returns the original result even after the story has moved on', async () => {
      const body = { events: [{ ...reported('e'), id: randomUUID() }] };
      const first = await expectAppended(h.append('retried', body), 201);
      await expectAppended(h.append('retried', { events: [reported('f')] }));
      const again = await expectAppended(h.append('retried', body), 200);
      expect(again).toEqual(first);
      expect((await story('retried')).version).toBe(first.version + 1);
    });

    it('answers a retry of an append that had expectedVersion with its original result', async () => {
      const body = { expectedVersion: 0, events: [{ ...opened(), id: randomUUID() }] };
      const first = await expectAppended(h.append('retried-versioned', body), 201);
      expect(await expectAppended(h.append('retried-versioned', body), 200)).toEqual(first);
    });
  });

  describe('concurrent appends', () => {
    it('answers simultaneous copies of one request once with 201 and otherwise with 200', async () => {
      const body = {
        events: [
          { ...opened(), id: randomUUID() },
          { ...reported('a'), id: randomUUID() },
        ],
      };
      const countBefore = await eventCount();
      const responses = await Promise.all([1, 2, 3].map(() => h.append('simultaneous', body)));
      const results = await Promise.all(
        responses.map(async (res) => ({ status: res.status, body: await res.json() })),
      );
      expect(results.map((result) => result.status).sort()).toEqual([200, 200, 201]);
      expect(new Set(results.map((result) => JSON.stringify(result.body))).size).toBe(1);
      expect(await eventCount()).toBe(countBefore + 2);
    });

    it('rejects one request without sinking others committed alongside it', async () => {
      const [bad, good] = await Promise.all([
        h.append('together-bad', { events: [opened(), reported('a'), reported('a')] }),
        h.append('together-good', { events: [opened(), reported('a')] }),
      ]);
      await expectError(bad, 422, 'development_already_reported');
      expect((await expectAppended(good)).version).toBe(2);
      expect(await eventCount('together-bad')).toBe(0);
      expect(await eventCount('together-good')).toBe(2);
    });
  });

  describe('event ids are UUIDs, whatever their letter case', () => {
    it('answers a retry of a request with uppercase ids with 200', async () => {
      const body = { events: [{ ...opened(), id: randomUUID().toUpperCase() }] };
      const first = await expectAppended(h.append('upper-ids', body), 201);
      const countBefore = await eventCount();
      expect(await expectAppended(h.append('upper-ids', body), 200)).toEqual(first);
      expect(await eventCount()).toBe(countBefore);
    });

    it('rejects an append mixing a stored uppercase id with a new one as 409', async () => {
      const stored = randomUUID().toUpperCase();
      await expectAppended(
        h.append('upper-ids', { events: [{ ...summaryRevised('point'), id: stored }] }),
      );
      const countBefore = await eventCount();
      await expectError(
        h.append('upper-ids', {
          events: [
            { ...summaryRevised('point'), id: stored },
            { ...summaryRevised('another point'), id: randomUUID() },
          ],
        }),
        409,
        'duplicate_event_id',
      );
      expect(await eventCount()).toBe(countBefore);
    });

    it('rejects one id sent twice in different letter case as duplicate_id_in_request', async () => {
      const id = randomUUID();
      const countBefore = await eventCount();
      await expectError(
        h.append('upper-ids', {
          events: [
            { ...reported('c'), id },
            { ...reported('d'), id: id.toUpperCase() },
          ],
        }),
        400,
        'duplicate_id_in_request',
      );
      expect(await eventCount()).toBe(countBefore);
    });
  });

  describe('what an event records', () => {
    it('sets metadata.author to the token name, overriding the client', async () => {
      const token = await h.storyline.tokens.create('night desk');
      await expectAppended(
        h.append(
          'meta',
          {
            events: [
              { ...opened(), metadata: { author: 'mallory', source: 'wire', requestId: 'mine' } },
              reported('a'),
            ],
          },
          { token },
        ),
      );
      const [first, second] = await storyEvents('meta');
      expect(first?.metadata).toMatchObject({ author: 'night desk', source: 'wire' });
      expect(first?.metadata['requestId']).toEqual(expect.any(String));
      expect(first?.metadata['requestId']).not.toBe('mine');
      expect(second?.metadata).toMatchObject({ author: 'night desk' });

      await expectAppended(h.append('meta', { events: [reported('b')] }));
      const third = (await storyEvents('meta'))[2];
      expect(third?.metadata['author']).toBe('test desk');
      const rows = await h.storyline.connection.pool.query<{ author: string }>(
        "select metadata->>'author' as author from events where story_id = 'meta' order by position",
      );
      expect(rows.rows.map((row) => row.author)).toEqual(['night desk', 'night desk', 'test desk']);
    });

    it('keeps occurredAt with the offset it was given', async () => {
      const times = [
        '2025-12-02T16:30:00+03:00',
        '2025-12-02T08:15:00-05:00',
        '2025-12-02T13:30:00Z',
        '2025-12-02T16:30:00.250+03:00',
      ];
      await expectAppended(
        h.append('offsets', {
          events: [
            { ...opened(), occurredAt: times[0] },
            ...times.map((occurredAt, index) => ({ ...reported(`d${index}`), occurredAt })),
          ],
        }),
      );
      const events = await storyEvents('offsets');
      expect(events.map((event) => event.occurredAt)).toEqual([times[0], ...times]);
      const view = await story('offsets');
      expect(view.openedAt).toBe(times[0]);
      const timeline = await getJson(h, '/v1/stories/offsets/timeline');
      expect(
        Object.fromEntries(
          (timeline.body as { entries: TimelineEntry[] }).entries.map((e) => [
            e.developmentId,
            e.occurredAt,
          ]),
        ),
      ).toEqual({ d0: times[0], d1: times[1], d2: times[2], d3: times[3] });
    });

    it('uses the recorded time when occurredAt is left out', async () => {
      await expectAppended(h.append('no-time', { events: [opened(), reported('a')] }));
      const events = await storyEvents('no-time');
      for (const event of events) expect(event.occurredAt).toBe(event.recordedAt);
    });
  });
});
