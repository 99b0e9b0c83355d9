/**
 * Checkpoints for time travel: the story as it stood every K events, kept in memory, so the state
 * at any point is the nearest checkpoint before it plus at most K events folded onto it, instead
 * of the whole story folded from its first event.
 *
 * Everything here is derived from the log and from nothing else, so it can be dropped at any time
 * (eviction, a restart) and is built again by reading the log. A checkpoint is a fact about a
 * prefix of an append-only log, so it never needs invalidating.
 *
 * Memory stays linear in the story's length: a checkpoint keeps the story view (without the
 * timeline) and only the timeline entries that changed since the previous checkpoint (an event
 * changes at most one). The timeline at checkpoint c is those changes replayed from the first
 * checkpoint, which costs as much as the timeline that is then returned anyway.
 */
import type { RecordedEvent } from '../domain/event-types.ts';
import { developmentIdOf, evolve } from '../domain/story-fold.ts';
import type { StoryProjection, StoryView, TimelineEntry } from '../domain/story-view.ts';

export interface Checkpoint {
  /** The story's last event folded in. */
  readonly position: number;
  readonly version: number;
  /**
   * The latest `recordedAt` (in milliseconds) of any event up to here. Only a moment strictly
   * after it is sure to include all of them: the log keeps microseconds, `recordedAt` has
   * milliseconds.
   */
  readonly recordedUpToMs: number;
  readonly story: StoryView;
  /** Entries changed since the previous checkpoint, as they stand here. */
  readonly changed: readonly TimelineEntry[];
}

/** One story's checkpoints and the fold they were cut from, extended as the story grows. */
export class StoryHistory {
  readonly storyId: string;
  readonly #interval: number;
  readonly #checkpoints: Checkpoint[] = [];
  #story: StoryView | null = null;
  /** Every entry as it stands at `foldedTo` (shared with the checkpoints, not copied). */
  readonly #entries = new Map<string, TimelineEntry>();
  /** Developments changed since the last checkpoint. */
  readonly #changed = new Set<string>();
  #recordedUpToMs = Number.NEGATIVE_INFINITY;
  /** Every event of the story up to here has been folded. */
  #foldedTo = 0;
  /** The log's head when last extended: no event of the story lies in (foldedTo, readHead]. */
  #readHead = 0;
  /** Roughly how many objects this holds, for the cache's bound. */
  #weight = 0;

  constructor(storyId: string, interval: number) {
    this.storyId = storyId;
    this.#interval = interval;
  }

  get readHead(): number {
    return this.#readHead;
  }

  get foldedTo(): number {
    return this.#foldedTo;
  }

  get weight(): number {
    return this.#weight + this.#entries.size;
  }

  /** Folds the story's next events (in log order, after `foldedTo`), read with the log at `head`. */
  extend(events: readonly RecordedEvent[], head: number): void {
    for (const event of events) {
      if (event.position <= this.#foldedTo) continue;
      const developmentId = developmentIdOf(event);
      const current = developmentId === null ? null : (this.#entries.get(developmentId) ?? null);
      const step = evolve(this.#story, current, event);
      this.#story = step.story;
      if (step.entry !== null && step.entry !== current) {
        this.#entries.set(step.entry.developmentId, step.entry);
        this.#changed.add(step.entry.developmentId);
      }
      this.#recordedUpToMs = Math.max(this.#recordedUpToMs, Date.parse(event.recordedAt));
      this.#foldedTo = event.position;
      // Version 1 (the story opening) is the first checkpoint: every later point has one before it.
      if ((event.version - 1) % this.#interval === 0) this.#cut();
    }
    this.#readHead = Math.max(this.#readHead, head, this.#foldedTo);
  }

  /** The last checkpoint at or before a position; undefined before the story opened. */
  atPosition(position: number): number | undefined {
    return this.#lastIndex((checkpoint) => checkpoint.position <= position);
  }

  /** The last checkpoint whose every event was recorded strictly before `moment` (ms). */
  beforeMoment(momentMs: number): number | undefined {
    return this.#lastIndex((checkpoint) => checkpoint.recordedUpToMs < momentMs);
  }

  checkpoint(index: number): Checkpoint {
    const checkpoint = this.#checkpoints[index];
    if (checkpoint === undefined) throw new RangeError(`no checkpoint ${index}`);
    return checkpoint;
  }

  /** The story as it stood at checkpoint `index`; the timeline is not sorted. */
  projectionAt(index: number): StoryProjection {
    const entries = new Map<string, TimelineEntry>();
    for (let i = 0; i <= index; i += 1) {
      for (const entry of this.checkpoint(i).changed) entries.set(entry.developmentId, entry);
    }
    return { story: this.checkpoint(index).story, timeline: [...entries.values()] };
  }

  #cut(): void {
    if (this.#story === null) return;
    const changed = [...this.#changed].map((id) => this.#entries.get(id) as TimelineEntry);
    this.#changed.clear();
    this.#checkpoints.push({
      position: this.#foldedTo,
      version: this.#story.version,
      recordedUpToMs: this.#recordedUpToMs,
      story: this.#story,
      changed,
    });
    this.#weight += changed.length + 1;
  }

  /** Checkpoints are in log order and both predicates hold for a prefix of them. */
  #lastIndex(holds: (checkpoint: Checkpoint) => boolean): number | undefined {
    let low = 0;
    let high = this.#checkpoints.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (holds(this.checkpoint(middle))) low = middle + 1;
      else high = middle;
    }
    return low === 0 ? undefined : low - 1;
  }
}
