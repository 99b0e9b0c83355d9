/**
 * The seed story end to end: importing is idempotent, a rebuild reproduces the live views
 * byte for byte, and time travel at every position equals folding the log up to it.
 */
import { correctionsLog } from '../../src/domain/corrections-log.ts';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importEvents } from '../../src/app/import-events.ts';
import { rebuildViews } from '../../src/app/rebuild-views.ts';
import { readStoryFiles } from '../../src/adapters/files/story-files.ts';
import { seedIfEmpty } from '../../src/composition.ts';
import type { RecordedEvent } from '../../src/domain/event-types.ts';
import { foldStory } from '../../src/domain/story-fold.ts';
import { createHarness, silentLogger, type Harness } from '../support/harness.ts';

const eventsDir = path.resolve(import.meta.dirname, '../../events');
const storyId = 'kremlin-talks';

async function storyEvents(h: Harness): Promise<RecordedEvent[]> {
  const { body } = await h.getJson(`/v1/stories/${storyId}/events?limit=1000`);
  return body.events;
}

async function fullTimeline(h: Harness): Promise<unknown[]> {
  const entries: unknown[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page += 1) {
    const query: string = cursor === null ? '' : `&cursor=${cursor}`;
    const { body } = await h.getJson(`/v1/stories/${storyId}/timeline?limit=7${query}`);
    entries.push(...body.entries);
    cursor = body.next;
    if (cursor === null) return entries;
  }
  throw new Error('timeline paging did not end');
}

async function dumpViews(h: Harness) {
  const pool = h.storyline.connection.pool;
  const stories = await pool.query(
    'select story_id, version, position, title, status, updated_at, view::text from stories order by story_id',
  );
  const entries = await pool.query(
    `select story_id, development_id, occurred_at, reported_position, entry::text
     from timeline_entries order by story_id, development_id`,
  );
  return { stories: stories.rows, entries: entries.rows };
}

describe('the seed story', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());

  it('is imported into an empty log, and only once', async () => {
    const first = await seedIfEmpty(h.storyline, eventsDir, silentLogger);
    expect(first?.failed).toEqual([]);
    expect(first?.appended).toBeGreaterThanOrEqual(24);
    expect(await seedIfEmpty(h.storyline, eventsDir, silentLogger)).toBeNull();

    const again = await importEvents(h.storyline.appender, (await readStoryFiles(eventsDir)).lines);
    expect(again).toEqual({ appended: 0, alreadyPresent: first?.appended, failed: [] });
  });

  it('is served with its developments, key events, a dispute and corrections', async () => {
    const { status, body } = await h.getJson(`/v1/stories/${storyId}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ storyId, status: 'live', timeZone: 'Europe/Moscow' });
    expect(body.counts.developments).toBeGreaterThanOrEqual(20);
    expect(body.keyEvents.length).toBeGreaterThan(0);
    expect(body.counts.corrections).toBeGreaterThan(0);
    expect(body.keyPoints.length).toBeGreaterThan(0);
    expect(body.claims.some((claim: { disputeCount: number }) => claim.disputeCount > 0)).toBe(
      true,
    );
  });

  it('carries its original times: corrections after what they correct, updated when it last changed', async () => {
    const { body: story } = await h.getJson(`/v1/stories/${storyId}`);
    expect(story).toMatchObject({
      firstUpdateAt: '2025-12-02T07:00:00.000Z',
      lastUpdateAt: '2025-12-03T08:15:00.000Z',
    });

    const { body: log } = await h.getJson(`/v1/stories/${storyId}/events?after=0&limit=1000`);
    const times = log.events.map((event: { recordedAt: string }) => event.recordedAt);
    expect(times).toEqual([...times].sort());
    for (const event of log.events) {
      expect(Date.parse(event.recordedAt)).toBeLessThan(Date.parse('2025-12-04T00:00:00Z'));
    }

    const { body: corrections } = await h.getJson(`/v1/stories/${storyId}/corrections?limit=100`);
    const { body: timeline } = await h.getJson(`/v1/stories/${storyId}/timeline?limit=100`);
    expect(corrections.corrections.length).toBeGreaterThan(0);
    for (const correction of corrections.corrections) {
      const entry = timeline.entries.find(
        (known: { developmentId: string }) => known.developmentId === correction.developmentId,
      );
      expect(Date.parse(correction.correctedAt)).toBeGreaterThan(Date.parse(entry.reportedAt));
    }
  });

  it('serves the corrections log a page at a time, derived from the corrected entries', async () => {
    const story = await h.getJson(`/v1/stories/${storyId}`);
    const all: { position: number; developmentId: string; previous: unknown }[] = [];
    let after = 0;
    for (let page = 0; page < 100; page += 1) {
      const { status, body } = await h.getJson(
        `/v1/stories/${storyId}/corrections?after=${after}&limit=1`,
      );
      expect(status).toBe(200);
      all.push(...body.corrections);
      if (body.next === null) break;
      after = body.next;
    }
    expect(all).toHaveLength(story.body.counts.corrections);
    expect(all.map((correction) => correction.position)).toEqual(
      [...all.map((correction) => correction.position)].sort((a, b) => a - b),
    );
    const { projection } = await h.storyline.queries.snapshot(storyId);
    expect(all).toEqual(correctionsLog(projection.timeline));
    const missing = await h.getJson('/v1/stories/no-such-story/corrections');
    expect(missing.status).toBe(404);
  });

  it('rebuilds into byte-identical views, also after more appends', async () => {
    const more = await h.append(storyId, {
      events: [
        {
          type: 'development.reported',
          data: { developmentId: 'late-report', kind: 'statement', headline: 'A late report' },
          occurredAt: '2025-12-01T09:00:00+02:00',
        },
        {
          type: 'development.corrected',
          data: {
            developmentId: 'late-report',
            changes: { headline: 'A late report, corrected' },
            note: 'wrong headline',
            severity: 'typo',
          },
        },
        {
          type: 'development.retracted',
          data: { developmentId: 'late-report', reason: 'unsourced' },
        },
      ],
    });
    expect(more.status).toBe(201);

    const before = await dumpViews(h);
    const result = await rebuildViews(h.storyline.log);
    expect(result.stories).toBe(1);
    const after = await dumpViews(h);
    expect(after).toEqual(before);
  });

  it('time travels: the state at every position is the fold of the log up to it', async () => {
    const events = await storyEvents(h);
    expect(events.length).toBeGreaterThan(20);
    for (const [index, event] of events.entries()) {
      const { status, body } = await h.getJson(`/v1/stories/${storyId}/state?at=${event.position}`);
      expect(status).toBe(200);
      const expected = foldStory(events.slice(0, index + 1));
      expect(body).toEqual({
        ...expected?.story,
        at: event.position,
        asOf: null,
        timeline: expected?.timeline,
      });
    }
  });

  it('agrees with the live views at the head (incremental equals a full fold)', async () => {
    const events = await storyEvents(h);
    const folded = foldStory(events);
    const live = await h.getJson(`/v1/stories/${storyId}`);
    expect(live.body).toEqual(folded?.story);
    expect(await fullTimeline(h)).toEqual(folded?.timeline);
  });

  it('time travels by recorded time: before the story opened there is nothing', async () => {
    const [first] = await storyEvents(h);
    const opened = first?.recordedAt ?? '';
    const at = await h.getJson(`/v1/stories/${storyId}/state?asOf=${encodeURIComponent(opened)}`);
    expect(at.status).toBe(200);
    expect(at.body.version).toBeGreaterThanOrEqual(1);
    const before = new Date(Date.parse(opened) - 1000).toISOString();
    const early = await h.getJson(`/v1/stories/${storyId}/state?asOf=${before}`);
    expect(early.status).toBe(404);
    expect(early.body.error.code).toBe('story_not_found');
  });
});
