/**
 * Importing story files keeps each event's original recordedAt, as long as the log's recorded
 * times still grow with position; an import that would go back in time is refused, and HTTP
 * clients cannot set recordedAt at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importEvents } from '../../src/app/import-events.ts';
import { parseStoryFile } from '../../src/domain/story-file.ts';
import { createHarness, type Harness } from '../support/harness.ts';

const uuid = (story: number, n: number) =>
  `00000000-0000-4000-8000-${String(story).padStart(4, '0')}${String(n).padStart(8, '0')}`;

/** A story file of `times.length` events (opened, then reports), recorded at those times. */
function storyFile(storyId: string, story: number, times: readonly string[]): string {
  return times
    .map((recordedAt, index) =>
      JSON.stringify(
        index === 0
          ? {
              storyId,
              id: uuid(story, index),
              type: 'story.opened',
              data: { title: `Story ${storyId}`, timeZone: 'Europe/Moscow' },
              occurredAt: recordedAt,
              recordedAt,
            }
          : {
              storyId,
              id: uuid(story, index),
              type: 'development.reported',
              data: { developmentId: `d${index}`, kind: 'meeting', headline: `Entry ${index}` },
              occurredAt: recordedAt,
              recordedAt,
            },
      ),
    )
    .join('\n');
}

function linesOf(text: string) {
  const parsed = parseStoryFile(text);
  expect(parsed.problems).toEqual([]);
  return parsed.lines;
}

describe('importing story files with their recorded times', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());

  const first = [
    '2025-12-02T07:00:00.000Z',
    '2025-12-02T07:05:00.000Z',
    '2025-12-02T07:05:00.000Z',
    '2025-12-02T09:30:00.000Z',
  ];
  const second = ['2025-12-03T10:00:00.000Z', '2025-12-03T10:01:00.000Z'];

  it('keeps each event’s recordedAt, in an empty log and after it', async () => {
    const a = await importEvents(h.storyline.appender, linesOf(storyFile('first', 1, first)));
    const b = await importEvents(h.storyline.appender, linesOf(storyFile('second', 2, second)));
    expect(a).toEqual({ appended: 4, alreadyPresent: 0, failed: [] });
    expect(b).toEqual({ appended: 2, alreadyPresent: 0, failed: [] });

    const { body } = await h.getJson('/v1/events?after=0&limit=100');
    expect(body.events.map((event: { recordedAt: string }) => event.recordedAt)).toEqual([
      ...first,
      ...second,
    ]);
    const story = await h.getJson('/v1/stories/first');
    expect(story.body).toMatchObject({ firstUpdateAt: first[0], lastUpdateAt: first[3] });
  });

  it('is idempotent: importing the same file again appends nothing and refuses nothing', async () => {
    const again = await importEvents(h.storyline.appender, linesOf(storyFile('first', 1, first)));
    expect(again).toEqual({ appended: 0, alreadyPresent: 4, failed: [] });
  });

  it('refuses events that would go back in time in a non-empty log, with a clear message', async () => {
    const older = ['2025-11-01T10:00:00.000Z', '2025-11-01T11:00:00.000Z'];
    const report = await importEvents(h.storyline.appender, linesOf(storyFile('older', 3, older)));

    expect(report.appended).toBe(0);
    expect(report.failed).toHaveLength(2);
    expect(report.failed[0]).toMatchObject({ code: 'invalid_event' });
    expect(report.failed[0]?.message).toContain(
      'recorded at 2025-11-01T10:00:00.000Z, before the latest event in the log (2025-12-03T10:01:00.000Z)',
    );
    expect((await h.getJson('/v1/stories/older')).status).toBe(404);
  });

  it('refuses a recordedAt in the future', async () => {
    const tomorrow = new Date(Date.now() + 24 * 3600_000).toISOString();
    const report = await importEvents(
      h.storyline.appender,
      linesOf(storyFile('ahead', 4, [tomorrow])),
    );
    expect(report.failed[0]?.message).toContain('in the future');
  });

  it('records an append without a time now, after the imported times', async () => {
    const response = await h.append('second', {
      events: [{ type: 'summary.revised', data: { keyPoints: ['Later'] } }],
    });
    expect(response.status).toBe(201);
    const { body } = await h.getJson('/v1/stories/second/events?after=0');
    const last = body.events.at(-1) as { recordedAt: string };
    expect(Date.parse(last.recordedAt)).toBeGreaterThan(Date.parse(second[1] as string));
  });

  it('does not let an HTTP client set recordedAt', async () => {
    const response = await h.append('second', {
      events: [
        {
          type: 'summary.revised',
          data: { keyPoints: ['Backdated'] },
          recordedAt: '2025-12-03T10:02:00.000Z',
        },
      ],
    });
    expect(response.status).toBe(400);
  });
});

describe('story files with recorded times', () => {
  it('say which line goes back in time', () => {
    const text = storyFile('x', 9, ['2025-12-02T07:00:00.000Z', '2025-12-02T06:00:00.000Z']);
    expect(parseStoryFile(text).problems).toEqual([
      {
        line: 2,
        message:
          'recordedAt 2025-12-02T06:00:00.000Z is before line 1 (2025-12-02T07:00:00.000Z): recorded times must grow from line to line',
      },
    ]);
  });
});
