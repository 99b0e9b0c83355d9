/**
 * Story files (events/*.jsonl): export and import are inverses, and a bad file is reported line by
 * line rather than half imported.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/domain/event-types.ts';
import { formatStoryFileLine, parseStoryFile } from '../../src/domain/story-file.ts';
import { storyHistory } from './story-arbitraries.ts';
import {
  applyLive,
  at,
  brokenRule,
  emptyState,
  opened,
  record,
  reported,
  uuidOf,
} from './story-builders.ts';

type FileEvent = NewEvent & { readonly id: string };

const openedLine = (storyId = 'kremlin-talks', id = uuidOf(1)) =>
  formatStoryFileLine(storyId, { ...opened(), id });

const metadata = fc
  .dictionary(
    // "__proto__" is refused on purpose (see the test below), so it is no valid metadata key.
    fc.string({ maxLength: 12 }).filter((key) => key !== '__proto__'),
    fc.jsonValue({ maxDepth: 2 }),
    { maxKeys: 3 },
  )
  // As JSON would give it back: -0 becomes 0.
  .map((value) => JSON.parse(JSON.stringify(value)) as Record<string, unknown>);

describe('formatStoryFileLine and parseStoryFile', () => {
  it('round-trip any valid story, event by event', () => {
    fc.assert(
      fc.property(
        storyHistory(30),
        fc.constantFrom('kremlin-talks', 'a', 'geneva-2025-11-23'),
        fc.array(fc.option(metadata), { minLength: 30, maxLength: 30 }),
        (events, storyId, metadataOf) => {
          const exported = events.map((event, index): FileEvent => {
            const extra = metadataOf[index] ?? null;
            return {
              type: event.type,
              data: event.data,
              id: event.id,
              occurredAt: event.occurredAt,
              ...(extra === null ? {} : { metadata: extra }),
            } as FileEvent;
          });
          const file = exported.map((event) => formatStoryFileLine(storyId, event)).join('\n');

          expect(parseStoryFile(`${file}\n`)).toEqual({
            lines: exported.map((event) => ({ storyId, event })),
            problems: [],
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('writes one line of JSON per event, with the story first', () => {
    const line = openedLine();

    expect(line).not.toContain('\n');
    expect(Object.keys(JSON.parse(line) as object)[0]).toBe('storyId');
  });
});

describe('parseStoryFile', () => {
  it('skips blank lines and tolerates Windows line endings', () => {
    const file = `\n${openedLine()}\r\n   \n${formatStoryFileLine('kremlin-talks', {
      ...reported('talks'),
      id: uuidOf(2),
    })}\n`;

    const { lines, problems } = parseStoryFile(file);

    expect(problems).toEqual([]);
    expect(lines.map((line) => line.event.type)).toEqual(['story.opened', 'development.reported']);
  });

  it('reports every bad line with its number, and still returns the good ones', () => {
    const file = [
      openedLine(),
      '{ not json',
      JSON.stringify({ storyId: 'kremlin-talks', ...opened() }), // no id
      JSON.stringify({ storyId: 'Kremlin Talks!', id: uuidOf(4), ...opened() }),
      JSON.stringify({ storyId: 'kremlin-talks', id: uuidOf(5), type: 'story.deleted', data: {} }),
      JSON.stringify({ storyId: 'kremlin-talks', id: uuidOf(6), ...reported('talks'), extra: 1 }),
      formatStoryFileLine('kremlin-talks', { ...reported('talks'), id: uuidOf(7) }),
    ].join('\n');

    const { lines, problems } = parseStoryFile(file);

    expect(problems.map((problem) => problem.line)).toEqual([2, 3, 4, 5, 6]);
    expect(problems[0]?.message).toMatch(/^not JSON/);
    expect(problems[1]?.message).toMatch(/id/);
    expect(problems[2]?.message).toMatch(/storyId/);
    expect(lines.map((line) => line.event.id)).toEqual([uuidOf(1), uuidOf(7)]);
  });

  it('rejects an event whose data breaks its schema', () => {
    const line = JSON.stringify({
      storyId: 'kremlin-talks',
      id: uuidOf(1),
      type: 'story.opened',
      data: { title: 'Kremlin talks', timeZone: 'Mars/Olympus_Mons' },
    });

    expect(parseStoryFile(line).problems).toEqual([
      { line: 1, message: expect.stringMatching(/IANA time zone/) as unknown },
    ]);
  });
});

describe('metadata keys that are special in JavaScript', () => {
  it('keeps a key named __proto__, or reports the line, but never drops it silently', () => {
    const line = `{"storyId":"kremlin-talks","id":"${uuidOf(1)}","type":"story.opened","data":{"title":"T","timeZone":"UTC"},"metadata":{"__proto__":{"desk":"world"},"constructor":"kept"}}`;

    const { lines, problems } = parseStoryFile(line);
    const kept = lines[0]?.event.metadata ?? {};

    if (problems.length === 0) {
      expect(Object.keys(kept).sort()).toEqual(['__proto__', 'constructor']);
    } else {
      expect(problems).toEqual([{ line: 1, message: expect.stringMatching(/__proto__/) }]);
    }
  });
});

describe('the seed story file', () => {
  const file = readFileSync(new URL('../../events/kremlin-talks.jsonl', import.meta.url), 'utf8');

  it('parses without problems, one story, each event id once', () => {
    const { lines, problems } = parseStoryFile(file);

    expect(problems).toEqual([]);
    expect(lines.length).toBeGreaterThan(0);
    expect(new Set(lines.map((line) => line.storyId))).toEqual(new Set(['kremlin-talks']));
    expect(new Set(lines.map((line) => line.event.id)).size).toBe(lines.length);
  });

  it('is a history the newsroom’s rules accept, in file order', () => {
    const state = emptyState();
    parseStoryFile(file).lines.forEach(({ event }, index) => {
      const body = { type: event.type, data: event.data } as Parameters<typeof at>[1];
      const happening = event.occurredAt === undefined ? body : at(event.occurredAt, body);

      expect(brokenRule(state, happening), `line ${index + 1}`).toBeNull();
      applyLive(state, record(happening, index + 1));
    });
  });
});
