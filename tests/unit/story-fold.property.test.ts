/**
 * Invariants of the fold over random valid histories: the live path (one entry at a time) and a
 * full rebuild agree, so does time travel, and a retraction is forever.
 */
import { correctionsLog } from '../../src/domain/corrections-log.ts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newEventSchema, type RecordedEvent } from '../../src/domain/event-types.ts';
import { compareTimeline, foldStory } from '../../src/domain/story-fold.ts';
import type { StoryProjection, TimelineEntry } from '../../src/domain/story-view.ts';
import { storyHistory } from './story-arbitraries.ts';
import { applyLive, emptyState, type LiveState } from './story-builders.ts';

const numRuns = 200;

/** What a view and an entry look like after a trip through the database's `json` columns. */
const stored = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/**
 * The live path, event by event: load the story and the one entry the event names, evolve, store
 * both back. Returns the projection after each event, as a reader would see it at that version.
 */
function liveProjections(events: readonly RecordedEvent[]): StoryProjection[] {
  const state: LiveState = emptyState();
  return events.map((event) => {
    applyLive(state, event);
    state.story = stored(state.story);
    for (const [id, entry] of state.entries) state.entries.set(id, stored(entry));
    if (state.story === null) throw new Error('every valid history starts with story.opened');
    return { story: state.story, timeline: [...state.entries.values()].sort(compareTimeline) };
  });
}

const statementKinds = new Set(['statement', 'readout', 'social_post', 'claim', 'denial']);

/**
 * The actors as the timeline says they are, computed from scratch: everyone a development names,
 * how many name them, and their latest statement: of the developments that name them, are
 * statements (by kind or by quote) and are not retracted, the one that happened last (ties: the
 * one reported last).
 */
function actorsFromTimeline(timeline: readonly TimelineEntry[]) {
  const actors = new Map<string, { developments: number; latest: TimelineEntry | null }>();
  const byOccurrence = [...timeline].sort(compareTimeline);
  for (const entry of byOccurrence) {
    for (const name of new Set(entry.actors.map((actor) => actor.name))) {
      const actor = actors.get(name) ?? { developments: 0, latest: null };
      actor.developments += 1;
      const statement = statementKinds.has(entry.kind) || entry.quote !== null;
      if (statement && entry.retracted === null) actor.latest = entry;
      actors.set(name, actor);
    }
  }
  return [...actors]
    .map(([name, { developments, latest }]) => ({
      name,
      developments,
      latestStatement: latest?.developmentId ?? null,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

describe('the fold over random valid histories', () => {
  it('keeps each actor and their latest statement as the timeline says, whatever was corrected or retracted', () => {
    fc.assert(
      fc.property(storyHistory(), (events) => {
        const projection = foldStory(events);
        if (projection === null) throw new Error('every valid history opens a story');
        const folded = projection.story.actors
          .map((actor) => ({
            name: actor.name,
            developments: actor.developments,
            latestStatement: actor.latestStatement?.developmentId ?? null,
          }))
          .sort((a, b) => a.name.localeCompare(b.name));

        expect(folded).toEqual(actorsFromTimeline(projection.timeline));
      }),
      { numRuns },
    );
  });

  it('generates histories the append API would accept', () => {
    fc.assert(
      fc.property(storyHistory(), (events) => {
        expect(events[0]?.type).toBe('story.opened');
        for (const event of events) {
          expect(() => newEventSchema.parse({ type: event.type, data: event.data })).not.toThrow();
        }
      }),
      { numRuns: 50 },
    );
  });

  it('folds incrementally, one loaded entry at a time, to exactly what a rebuild gives', () => {
    fc.assert(
      fc.property(storyHistory(), (events) => {
        const live = liveProjections(events).at(-1);
        const rebuilt = foldStory(events);

        expect(live).toStrictEqual(rebuilt);
        expect(JSON.stringify(live)).toBe(JSON.stringify(rebuilt));
      }),
      { numRuns },
    );
  });

  it('time-travels: folding the first n events gives the state after the nth event', () => {
    fc.assert(
      fc.property(storyHistory(30), (events) => {
        liveProjections(events).forEach((afterN, index) => {
          expect(foldStory(events.slice(0, index + 1))).toStrictEqual(afterN);
        });
      }),
      { numRuns: 100 },
    );
  });

  it('never brings a retracted development back', () => {
    fc.assert(
      fc.property(storyHistory(), (events) => {
        const retractedIds = new Set<string>();
        liveProjections(events).forEach(({ story, timeline }, index) => {
          const event = events[index];
          if (event?.type === 'development.retracted') retractedIds.add(event.data.developmentId);

          for (const id of retractedIds) {
            const entry = timeline.find((known) => known.developmentId === id);
            expect(entry?.retracted, `${id} after event ${index + 1}`).not.toBeNull();
            expect(story.keyEvents.map((ref) => ref.developmentId)).not.toContain(id);
            expect(story.pinned?.developmentId).not.toBe(id);
            for (const claim of story.claims.filter((known) => known.developmentId === id)) {
              expect(claim.retracted).toBe(true);
            }
            for (const actor of story.actors) {
              if (actor.latestStatement?.developmentId === id) {
                expect(actor.latestStatement.retracted).toBe(true);
              }
            }
          }
          expect(story.counts.retracted).toBe(retractedIds.size);
        });
      }),
      { numRuns },
    );
  });

  it('keeps the counts in step with the timeline', () => {
    fc.assert(
      fc.property(storyHistory(), (events) => {
        const projection = foldStory(events);
        if (projection === null) throw new Error('every valid history opens a story');
        const { story, timeline } = projection;
        const live = timeline.filter((entry) => entry.retracted === null);

        expect(story.counts).toEqual({
          developments: timeline.length,
          retracted: timeline.length - live.length,
          corrections: timeline.reduce((sum, entry) => sum + entry.corrections.length, 0),
          disputes: timeline.reduce((sum, entry) => sum + entry.disputes.length, 0),
          keyEvents: live.filter((entry) => entry.keyEvent).length,
        });
        expect(correctionsLog(timeline)).toHaveLength(story.counts.corrections);
      }),
      { numRuns },
    );
  });
});
