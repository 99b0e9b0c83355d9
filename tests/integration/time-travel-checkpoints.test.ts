/**
 * Time travel from checkpoints equals folding the log: at every position of the seed story and
 * at every moment an event was recorded (and just before and after it), with checkpoints every
 * few events, a story interleaved with another, growing after its checkpoints were cut, and
 * with every checkpoint evicted between requests.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoryQueries } from '../../src/app/story-queries.ts';
import { seedIfEmpty } from '../../src/composition.ts';
import type { RecordedEvent } from '../../src/domain/event-types.ts';
import { foldStory } from '../../src/domain/story-fold.ts';
import { createHarness, silentLogger, type Harness } from '../support/harness.ts';

const eventsDir = path.resolve(import.meta.dirname, '../../events');
const storyId = 'kremlin-talks';

describe('time travel from checkpoints', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
    await seedIfEmpty(h.storyline, eventsDir, silentLogger);
  });
  afterAll(() => h.close());

  const logOf = async (id: string): Promise<readonly RecordedEvent[]> =>
    h.storyline.reader.storyEvents(id, {});

  /** The reference: the whole filtered log folded, as time travel did before checkpoints. */
  const foldedAsOf = async (id: string, recordedAt: string) =>
    foldStory(await h.storyline.reader.storyEvents(id, { recordedAt }));

  async function expectEveryPoint(queries: StoryQueries, id: string): Promise<void> {
    const events = await logOf(id);
    for (const [index, event] of events.entries()) {
      const state = await queries.stateAt(id, { position: event.position });
      expect(state, `at ${event.position}`).toEqual(foldStory(events.slice(0, index + 1)));
      const recorded = Date.parse(event.recordedAt);
      for (const moment of [recorded - 1, recorded, recorded + 1]) {
        const recordedAt = new Date(moment).toISOString();
        const expected = await foldedAsOf(id, recordedAt);
        if (expected === null) {
          await expect(queries.stateAt(id, { recordedAt })).rejects.toMatchObject({
            code: 'story_not_found',
          });
        } else {
          expect(await queries.stateAt(id, { recordedAt }), `as of ${recordedAt}`).toEqual(
            expected,
          );
        }
      }
    }
  }

  it('equals the fold of the log at every position and moment, checkpoints every 3 events', async () => {
    await expectEveryPoint(
      new StoryQueries(h.storyline.reader, { checkpointInterval: 3 }),
      storyId,
    );
  });

  it('stays equal when the story grows, interleaved with another, after checkpoints were cut', async () => {
    const queries = new StoryQueries(h.storyline.reader, { checkpointInterval: 2 });
    await expectEveryPoint(queries, storyId);
    const append = (id: string, events: unknown[]) =>
      h.append(id, { events }).then(async (response) => {
        expect(response.status, await response.clone().text()).toBe(201);
      });
    await append('elsewhere', [
      { type: 'story.opened', data: { title: 'Elsewhere', timeZone: 'UTC' } },
    ]);
    for (let round = 0; round < 3; round += 1) {
      await append(storyId, [
        {
          type: 'development.reported',
          data: { developmentId: `later-${round}`, kind: 'statement', headline: `Later ${round}` },
        },
      ]);
      await append('elsewhere', [
        {
          type: 'development.reported',
          data: { developmentId: `there-${round}`, kind: 'meeting', headline: `There ${round}` },
        },
      ]);
      await append(storyId, [
        {
          type: 'development.corrected',
          data: {
            developmentId: `later-${round}`,
            changes: { headline: `Later ${round}, corrected` },
            note: 'wording',
            severity: 'typo',
          },
        },
      ]);
    }
    await expectEveryPoint(queries, storyId);
    await expectEveryPoint(queries, 'elsewhere');
  });

  it('is the same with every checkpoint evicted between requests', async () => {
    const queries = new StoryQueries(h.storyline.reader, {
      checkpointInterval: 4,
      maxCheckpointWeight: 1,
    });
    await expectEveryPoint(queries, storyId);
    await expectEveryPoint(queries, 'elsewhere');
  });

  it('is out of range past the head, and not found for a story never opened', async () => {
    const queries = new StoryQueries(h.storyline.reader, { checkpointInterval: 4 });
    const { head } = await h.storyline.reader.logInfo();
    await expect(queries.stateAt(storyId, { position: head + 1 })).rejects.toMatchObject({
      code: 'position_out_of_range',
      details: { head },
    });
    await expect(queries.stateAt('never-opened', { position: head })).rejects.toMatchObject({
      code: 'story_not_found',
    });
  });
});
