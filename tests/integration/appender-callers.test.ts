/**
 * The group-commit queue with callers that append again the moment their previous append
 * resolves, from inside the same run of microtasks (in-process importers, benchmarks). An
 * append queued just as a drain finishes must start a new drain, never wait forever.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/domain/event-types.ts';
import { createHarness, type Harness } from '../support/harness.ts';

const reported = (index: number): NewEvent => ({
  id: randomUUID(),
  type: 'development.reported',
  data: { developmentId: `tight-${index}`, kind: 'statement', headline: `update ${index}` },
});

describe('the appender under tight loops of callers', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
    await h.storyline.appender.append({
      storyId: 'tight',
      author: 'test',
      events: [{ type: 'story.opened', data: { title: 'Tight', timeZone: 'UTC' } }],
    });
  });
  afterAll(() => h.close());

  it('serves a lone caller that re-appends any number of microtask hops after each resolve', async () => {
    // A lone caller lets the queue run empty after every append; its next append lands a few
    // hops later, as wrapper functions add them. Each count of hops probes a different moment of
    // the queue going idle; none may leave the append waiting forever.
    let index = 0;
    for (let hops = 0; hops <= 12; hops += 1) {
      for (let round = 0; round < 3; round += 1) {
        const result = await h.storyline.appender.append({
          storyId: 'tight',
          author: 'test',
          events: [reported(index++)],
        });
        expect(result.positions).toHaveLength(1);
        for (let hop = 0; hop < hops; hop += 1) await Promise.resolve();
      }
    }
    const story = await h.getJson('/v1/stories/tight');
    expect(story.body.version).toBe(index + 1);
  }, 60_000);
});
