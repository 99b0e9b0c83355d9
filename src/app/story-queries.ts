/** Reading the log and its views, including time travel, which folds the log up to a point. */
import { StorylineError } from '../domain/errors.ts';
import { foldStory } from '../domain/story-fold.ts';
import type { StoryProjection, StoryView, TimelineEntry } from '../domain/story-view.ts';
import type { EventPage, EventQuery, LogReader, StoryListItem, TimelineQuery } from './ports.ts';

export type TimeTravelPoint = { readonly position: number } | { readonly recordedAt: string };

export class StoryQueries {
  readonly #reader: LogReader;

  constructor(reader: LogReader) {
    this.#reader = reader;
  }

  listStories(): Promise<readonly StoryListItem[]> {
    return this.#reader.listStories();
  }

  async story(storyId: string): Promise<StoryView> {
    const story = await this.#reader.getStory(storyId);
    if (story === null) throw notFound(storyId);
    return story;
  }

  async timeline(
    storyId: string,
    query: TimelineQuery,
  ): Promise<{ story: StoryView; entries: readonly TimelineEntry[] }> {
    const story = await this.story(storyId);
    const entries = await this.#reader.timeline(storyId, query);
    return { story, entries };
  }

  /**
   * The story view, its whole timeline and the log's head read in one snapshot: a page rendered
   * from it and then followed live `after` that head misses nothing and repeats nothing.
   */
  async snapshot(
    storyId: string,
  ): Promise<{ projection: StoryProjection; head: number; epoch: string }> {
    const [{ projection, head }, { epoch }] = await Promise.all([
      this.#reader.storySnapshot(storyId),
      this.#reader.logInfo(),
    ]);
    if (projection === null) throw notFound(storyId);
    return { projection, head, epoch };
  }

  /** The story as it stood at a position, or at a moment (what the log had recorded by then). */
  async stateAt(storyId: string, point: TimeTravelPoint): Promise<StoryProjection> {
    if ('position' in point) {
      const { head } = await this.#reader.logInfo();
      if (point.position > head) {
        throw new StorylineError(
          'position_out_of_range',
          `position ${point.position} is beyond the head of the log (${head})`,
          { head },
        );
      }
    }
    const until =
      'position' in point ? { position: point.position } : { recordedAt: point.recordedAt };
    const projection = foldStory(await this.#reader.storyEvents(storyId, until));
    if (projection === null) {
      const exists = (await this.#reader.getStory(storyId)) !== null;
      throw exists
        ? new StorylineError('story_not_found', `story ${storyId} had not been opened by then`)
        : notFound(storyId);
    }
    return projection;
  }

  events(query: EventQuery): Promise<EventPage> {
    return this.#reader.readEvents(query);
  }

  async storyEvents(storyId: string, query: { after: number; limit: number }): Promise<EventPage> {
    await this.story(storyId);
    return this.#reader.readEvents({ ...query, storyIds: [storyId] });
  }

  logInfo(): Promise<{ epoch: string; head: number }> {
    return this.#reader.logInfo();
  }

  ready(): Promise<boolean> {
    return this.#reader.ready();
  }
}

const notFound = (storyId: string) =>
  new StorylineError('story_not_found', `no story ${storyId}`, { storyId });
