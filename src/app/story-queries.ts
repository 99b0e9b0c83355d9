/**
 * Reading the log and its views, including time travel.
 *
 * Given the process's live feed, the latest story views and the tip of the log are served from
 * memory (see story-view-cache.ts for why that is never staler than the feed); without one,
 * every read goes to the database. Time travel folds at most K events onto the nearest in-memory
 * checkpoint (story-checkpoints.ts), with or without a feed.
 *
 * Everything kept in memory is a fact about one log. When the feed finds the log replaced (a
 * database restored or recreated under the running process: another epoch, or a head gone back),
 * all of it is forgotten at once, and whoever keeps more (the HTTP layer's encoded responses)
 * is told through `onLogReplaced`, so that the next request reads the new log.
 */
import { correctionsLog } from '../domain/corrections-log.ts';
import { StorylineError } from '../domain/errors.ts';
import type { RecordedEvent } from '../domain/event-types.ts';
import { foldOnto, foldStory } from '../domain/story-fold.ts';
import type {
  CorrectionView,
  StoryProjection,
  StoryView,
  TimelineEntry,
} from '../domain/story-view.ts';
import type { LiveFeed } from './live-feed.ts';
import type { EventPage, EventQuery, LogReader, StoryListItem, TimelineQuery } from './ports.ts';
import { StoryHistory } from './story-checkpoints.ts';
import { StoryViewCache, type StoryRead } from './story-view-cache.ts';

export type { StoryRead } from './story-view-cache.ts';

export type TimeTravelPoint = { readonly position: number } | { readonly recordedAt: string };

/** What the queries need of the live feed. */
export type ReadFeed = Pick<LiveFeed, 'head' | 'epoch' | 'listen' | 'entriesAfter' | 'onReset'>;

export interface StoryQueriesOptions {
  /** The process's live feed: with it, recent reads are served from memory. */
  readonly feed?: ReadFeed;
  /** Events between two time-travel checkpoints of a story. */
  readonly checkpointInterval?: number;
  /** Checkpointed timeline entries and views kept in memory, over every story. */
  readonly maxCheckpointWeight?: number;
  readonly maxCachedStories?: number;
  readonly maxCachedBytes?: number;
}

/** Stories' events read per statement when checkpoints catch up with the log. */
const historyPageSize = 1000;

export class StoryQueries {
  readonly #reader: LogReader;
  readonly #feed: ReadFeed | undefined;
  readonly #views: StoryViewCache;
  readonly #unlisten: () => void;
  readonly #unlistenReset: () => void;
  readonly #replacedListeners = new Set<() => void>();
  /** The highest position this process appended, which the feed may not have read yet. */
  #committedHead = 0;
  readonly #checkpointInterval: number;
  readonly #maxCheckpointWeight: number;
  /** In least-recently-used order. */
  readonly #histories = new Map<string, StoryHistory>();
  #historiesWeight = 0;

  constructor(reader: LogReader, options: StoryQueriesOptions = {}) {
    this.#reader = reader;
    this.#feed = options.feed;
    this.#views = new StoryViewCache({
      ...(options.maxCachedStories === undefined ? {} : { maxStories: options.maxCachedStories }),
      ...(options.maxCachedBytes === undefined ? {} : { maxBytes: options.maxCachedBytes }),
    });
    this.#checkpointInterval = options.checkpointInterval ?? 64;
    this.#maxCheckpointWeight = options.maxCheckpointWeight ?? 2_000_000;
    this.#unlisten =
      this.#feed?.listen((entries) => {
        for (const entry of entries) this.#views.noteCommitted(entry.storyId, entry.position);
      }) ?? (() => undefined);
    this.#unlistenReset = this.#feed?.onReset(() => this.#forgetLog()) ?? (() => undefined);
  }

  /** Stops following the feed and forgets what is cached. */
  close(): void {
    this.#unlisten();
    this.#unlistenReset();
    this.#replacedListeners.clear();
    this.#views.clear();
  }

  /**
   * Called when the log was replaced, after this forgot what it cached of the old one: whatever
   * the listener keeps that was derived from the old log must go too. Returns what undoes it.
   */
  onLogReplaced(listener: () => void): () => void {
    this.#replacedListeners.add(listener);
    return () => this.#replacedListeners.delete(listener);
  }

  /**
   * This process committed these events of a story: called by the append path after the commit
   * and before it answers, so the writer's next read here sees them.
   */
  noteCommitted(storyId: string, positions: readonly number[]): void {
    const last = Math.max(0, ...positions);
    this.#committedHead = Math.max(this.#committedHead, last);
    this.#views.noteCommitted(storyId, last);
  }

  /**
   * The highest position this process knows to be in the log (its feed's head, or its own
   * appends'); undefined without a feed, when nothing is served from memory.
   */
  get knownHead(): number | undefined {
    return this.#feed === undefined ? undefined : Math.max(this.#feed.head, this.#committedHead);
  }

  listStories(): Promise<readonly StoryListItem[]> {
    return this.#reader.listStories();
  }

  async story(storyId: string): Promise<StoryView> {
    return (await this.storyRead(storyId)).view;
  }

  /** The story view from memory, with no database access; undefined if it is not cached. */
  cachedStory(storyId: string): StoryRead | undefined {
    return this.#feed === undefined ? undefined : this.#views.get(storyId);
  }

  /** The story view and its JSON, from memory if cached there, else from the database. */
  async storyRead(storyId: string): Promise<StoryRead> {
    const cached = this.cachedStory(storyId);
    if (cached !== undefined) return cached;
    const generation = this.#views.generation;
    // With a feed, its epoch as the read starts: a replacement of the log that the feed finds
    // during the read changes the generation, and then the read is not cached.
    const [view, epoch] = await Promise.all([
      this.#reader.getStory(storyId),
      this.#feed?.epoch ?? this.#reader.logInfo().then((info) => info.epoch),
    ]);
    if (view === null) throw notFound(storyId);
    const read = { view, json: JSON.stringify(view), epoch };
    if (this.#feed !== undefined) this.#views.put(read, generation);
    return read;
  }

  /**
   * A page of the timeline and the story view. `ofStory` says whether the page is exactly the
   * page as the story stood at `story.position` (so it may be cached with that view): the view
   * and the page are two reads, and an append may land between them.
   */
  async timeline(
    storyId: string,
    query: TimelineQuery,
  ): Promise<{
    story: StoryView;
    entries: readonly TimelineEntry[];
    ofStory: boolean;
    /** The log's epoch the view was read from. */
    epoch: string;
  }> {
    const { view: story, epoch } = await this.storyRead(storyId);
    const entries = await this.#reader.timeline(storyId, query);
    // The page was read after the view. An event after the view that changed the page either
    // changed or added an entry in it (its updatedPosition says so), or moved one out, and
    // then another moved in, which did. So a page without such an entry is the view's page.
    const ofStory = entries.every((entry) => entry.updatedPosition <= story.position);
    return { story, entries, ofStory, epoch };
  }

  /** A page of the corrections log: the corrections at positions after `after`, oldest first. */
  async corrections(
    storyId: string,
    query: { readonly after: number; readonly limit: number },
  ): Promise<{ story: StoryView; corrections: readonly CorrectionView[]; more: boolean }> {
    const story = await this.story(storyId);
    const log = correctionsLog(await this.#reader.correctedEntries(storyId)).filter(
      (correction) => correction.position > query.after && correction.position <= story.position,
    );
    return {
      story,
      corrections: log.slice(0, query.limit),
      more: log.length > query.limit,
    };
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

  /**
   * The story as it stood at a position, or at a moment (what the log had recorded by then):
   * the nearest checkpoint at or before the point, and the story's few events after it up to
   * the point, folded with the one fold. At a moment, a checkpoint counts only if every event
   * in it was recorded strictly earlier; the rest is the database's `recorded_at <= moment`,
   * exactly as a fold of the whole filtered log.
   */
  async stateAt(storyId: string, point: TimeTravelPoint): Promise<StoryProjection> {
    const position = 'position' in point ? point.position : undefined;
    const history = await this.#history(storyId, position);
    let projection: StoryProjection | null;
    if (position !== undefined) {
      if (position > history.readHead) {
        throw new StorylineError(
          'position_out_of_range',
          `position ${position} is beyond the head of the log (${history.readHead})`,
          { head: history.readHead },
        );
      }
      const index = history.atPosition(position);
      if (index === undefined) {
        projection = null;
      } else {
        const checkpoint = history.checkpoint(index);
        const rest =
          checkpoint.position >= position || checkpoint.position >= history.foldedTo
            ? []
            : await this.#reader.storyEvents(storyId, { after: checkpoint.position, position });
        projection = foldOnto(history.projectionAt(index), rest);
      }
    } else {
      const recordedAt = 'recordedAt' in point ? point.recordedAt : '';
      const index = history.beforeMoment(Date.parse(recordedAt));
      if (index === undefined) {
        projection = foldStory(await this.#reader.storyEvents(storyId, { recordedAt }));
      } else {
        const after = history.checkpoint(index).position;
        const rest = await this.#reader.storyEvents(storyId, { after, recordedAt });
        projection = foldOnto(history.projectionAt(index), rest);
      }
    }
    if (projection === null) {
      throw history.foldedTo > 0
        ? new StorylineError('story_not_found', `story ${storyId} had not been opened by then`)
        : notFound(storyId);
    }
    return projection;
  }

  /**
   * Events after a position. From the feed's memory when it reaches back that far and has
   * everything this process appended; otherwise from the database.
   */
  events(query: EventQuery): Promise<EventPage> {
    return Promise.resolve(this.#recentEvents(query) ?? this.#reader.readEvents(query));
  }

  async storyEvents(storyId: string, query: { after: number; limit: number }): Promise<EventPage> {
    await this.story(storyId);
    return this.events({ ...query, storyIds: [storyId] });
  }

  logInfo(): Promise<{ epoch: string; head: number }> {
    return this.#reader.logInfo();
  }

  ready(): Promise<boolean> {
    return this.#reader.ready();
  }

  #recentEvents(query: EventQuery): EventPage | undefined {
    const feed = this.#feed;
    // A client may know of positions the feed has not read yet (appended here or elsewhere).
    if (feed === undefined || Math.max(this.#committedHead, query.after) > feed.head) {
      return undefined;
    }
    const entries = feed.entriesAfter(query.after);
    if (entries === null) return undefined;
    const wanted = query.storyIds === undefined ? null : new Set(query.storyIds);
    const events: RecordedEvent[] = [];
    for (const entry of entries) {
      if (events.length >= query.limit) break;
      if (wanted === null || wanted.has(entry.storyId)) events.push(entry.event);
    }
    return { events, head: feed.head, epoch: feed.epoch };
  }

  /**
   * The story's checkpoints, extended from the log when `through` (a position; undefined: the
   * log's current head) lies beyond what they have read.
   */
  async #history(storyId: string, through: number | undefined): Promise<StoryHistory> {
    let history = this.#histories.get(storyId);
    if (history === undefined) {
      history = new StoryHistory(storyId, this.#checkpointInterval);
    } else {
      this.#histories.delete(storyId);
    }
    this.#histories.set(storyId, history);
    if (through === undefined || through > history.readHead) {
      for (;;) {
        const page = await this.#reader.readEvents({
          after: history.foldedTo,
          limit: historyPageSize,
          storyIds: [storyId],
        });
        const complete = page.events.length < historyPageSize;
        // Measured around the synchronous step, so concurrent requests extending the same
        // history count each addition once.
        const before = history.weight;
        history.extend(page.events, complete ? page.head : 0);
        if (this.#histories.get(storyId) === history) {
          this.#historiesWeight += history.weight - before;
        }
        if (complete) break;
      }
    }
    for (const [oldest, evicted] of this.#histories) {
      if (this.#historiesWeight <= this.#maxCheckpointWeight || oldest === storyId) break;
      this.#histories.delete(oldest);
      this.#historiesWeight -= evicted.weight;
    }
    return history;
  }

  /**
   * Reads already under way may finish with the old log's data: the view cache's generation
   * keeps their views out, and a history they extend is no longer the one held here.
   */
  #forgetLog(): void {
    this.#views.clear();
    this.#histories.clear();
    this.#historiesWeight = 0;
    this.#committedHead = 0;
    for (const listener of this.#replacedListeners) listener();
  }
}

const notFound = (storyId: string) =>
  new StorylineError('story_not_found', `no story ${storyId}`, { storyId });
