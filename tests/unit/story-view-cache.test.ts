/**
 * The story view cache: never serves a view older than an event it has been told of, whichever
 * order the read and the news of an append arrive in, and stays within its bounds.
 */
import { describe, expect, it } from 'vitest';
import { StoryViewCache, type StoryRead } from '../../src/app/story-view-cache.ts';
import type { StoryView } from '../../src/domain/story-view.ts';

const read = (storyId: string, position: number, size = 10): StoryRead => ({
  view: { storyId, position, version: position } as StoryView,
  json: 'x'.repeat(size),
  epoch: 'epoch',
});

describe('the story view cache', () => {
  it('serves a view until an event of its story after it is known', () => {
    const cache = new StoryViewCache();
    const first = read('a', 5);
    cache.put(first, cache.generation);
    expect(cache.get('a')).toBe(first);

    cache.noteCommitted('a', 5); // the view's own event, read by the feed later: still current
    cache.noteCommitted('b', 9); // another story's
    expect(cache.get('a')).toBe(first);

    cache.noteCommitted('a', 7);
    expect(cache.get('a')).toBeUndefined();
  });

  it('does not keep a read that finished after a later event of its story was known', () => {
    const cache = new StoryViewCache();
    const generation = cache.generation; // the read starts
    cache.noteCommitted('a', 8); // an append commits; the feed delivers it
    cache.put(read('a', 5), generation); // the read, begun before, ends with the older view
    expect(cache.get('a')).toBeUndefined();

    const fresh = read('a', 8);
    cache.put(fresh, cache.generation);
    expect(cache.get('a')).toBe(fresh);
  });

  it('does not keep a read begun before it was cleared', () => {
    const cache = new StoryViewCache();
    const generation = cache.generation;
    cache.clear();
    cache.put(read('a', 5), generation);
    expect(cache.get('a')).toBeUndefined();
  });

  it('forgets everything rather than what it knows of one story, past its bound', () => {
    const cache = new StoryViewCache({ maxKnownStories: 2 });
    cache.put(read('a', 1), cache.generation);
    cache.noteCommitted('b', 2);
    cache.noteCommitted('c', 3);
    const generation = cache.generation;
    cache.noteCommitted('d', 4);
    expect(cache.get('a')).toBeUndefined();
    cache.put(read('b', 1), generation);
    expect(cache.get('b')).toBeUndefined();
  });

  it('drops the least recently used views past its count and bytes', () => {
    const cache = new StoryViewCache({ maxStories: 2, maxBytes: 25 });
    cache.put(read('a', 1), cache.generation);
    cache.put(read('b', 1), cache.generation);
    cache.get('a');
    cache.put(read('c', 1), cache.generation);
    expect([cache.get('a'), cache.get('b'), cache.get('c')].map((r) => r?.view.storyId)).toEqual([
      'a',
      undefined,
      'c',
    ]);
    cache.put(read('d', 1, 20), cache.generation);
    expect(cache.get('d')?.view.storyId).toBe('d');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('c')).toBeUndefined();
    cache.put(read('e', 1, 26), cache.generation);
    expect(cache.get('e')).toBeUndefined();
  });
});
