/**
 * The write side's memory of the stories it appends to: each story's latest view and the
 * timeline entries this process has loaded or written, as of the view's version. Every change to
 * an entry bumps its story's version, so a story's entries are exactly as current as its view,
 * and one version number checked under the append lock (see AppendExpectations) vouches for
 * both. Entries not held here are loaded when a batch needs them.
 *
 * Bounded by story count, least recently appended first out; a story's entries are bounded by
 * the story itself.
 */
import type { StoryView, TimelineEntry } from '../domain/story-view.ts';
import type { LogChanges } from './ports.ts';

interface CachedStory {
  view: StoryView;
  readonly entries: Map<string, TimelineEntry>;
}

export class StoryStateCache {
  readonly #maxStories: number;
  /** Map order is recency: a touched story is moved to the end. */
  readonly #stories = new Map<string, CachedStory>();

  constructor(maxStories = 1000) {
    this.#maxStories = maxStories;
  }

  has(storyId: string): boolean {
    return this.#stories.has(storyId);
  }

  view(storyId: string): StoryView | null {
    return this.#stories.get(storyId)?.view ?? null;
  }

  /** The cached entry; undefined when this process does not hold it (it may still exist). */
  entry(storyId: string, developmentId: string): TimelineEntry | undefined {
    return this.#stories.get(storyId)?.entries.get(developmentId);
  }

  /**
   * A story as just read under the append lock. Its held entries survive only if the version is
   * the one they belong to.
   */
  load(view: StoryView, entries: Iterable<TimelineEntry>): void {
    const cached = this.#stories.get(view.storyId);
    const kept = cached !== undefined && cached.view.version === view.version;
    const held = kept ? cached.entries : new Map<string, TimelineEntry>();
    for (const entry of entries) held.set(entry.developmentId, entry);
    this.#put(view.storyId, { view, entries: held });
  }

  /** What a committed batch wrote. */
  apply(changes: LogChanges): void {
    const byStory = new Map<string, TimelineEntry[]>();
    for (const { storyId, entry } of changes.entries) {
      const list = byStory.get(storyId) ?? [];
      list.push(entry);
      byStory.set(storyId, list);
    }
    for (const view of changes.stories) {
      const cached = this.#stories.get(view.storyId);
      const entries = cached?.entries ?? new Map<string, TimelineEntry>();
      for (const entry of byStory.get(view.storyId) ?? []) {
        entries.set(entry.developmentId, entry);
      }
      this.#put(view.storyId, { view, entries });
    }
  }

  /** After a batch whose outcome is unknown, or a log that changed under us. */
  forget(storyIds: Iterable<string>): void {
    for (const storyId of storyIds) this.#stories.delete(storyId);
  }

  clear(): void {
    this.#stories.clear();
  }

  #put(storyId: string, story: CachedStory): void {
    this.#stories.delete(storyId);
    this.#stories.set(storyId, story);
    if (this.#stories.size > this.#maxStories) {
      const oldest = this.#stories.keys().next();
      if (oldest.done !== true) this.#stories.delete(oldest.value);
    }
  }
}
