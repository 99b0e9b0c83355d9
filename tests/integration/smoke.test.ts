import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../support/harness.ts';

describe('smoke', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());

  it('appends and reads', async () => {
    const res = await h.append('s1', {
      events: [{ type: 'story.opened', data: { title: 'T', timeZone: 'Europe/Moscow' } }],
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ storyId: 's1', version: 1, positions: [1] });
    const story = await h.getJson('/v1/stories/s1');
    expect(story.body.title).toBe('T');
  });
});
