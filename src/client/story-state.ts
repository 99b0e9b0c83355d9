/**
 * One story as a client holds it: the view and its timeline entries, kept current with the
 * domain's own fold (`evolve`), so the client cannot read an event differently from the server.
 */
import type { RecordedEvent } from '../domain/event-types.ts';
import { compareTimeline, developmentIdOf, evolve } from '../domain/story-fold.ts';
import type { StoryProjection, StoryView, TimelineEntry } from '../domain/story-view.ts';

export class StoryState {
  #story: StoryView | null;
  readonly #entries: Map<string, TimelineEntry>;
  /** The position of the last event (or snapshot) folded in. */
  #applied: number;
  /**
   * False when the subscription resumed from the caller's own cursor with nothing to fold onto:
   * events are passed on, but the state stays unknown until the story's `story.opened` (its
   * very first event) comes by, from which the fold is exact.
   */
  #known: boolean;
  /** The timeline in timeline order, sorted once per change. */
  #timeline: readonly TimelineEntry[] | null = null;

  private constructor(state: StoryProjection | null, applied: number, known: boolean) {
    this.#story = state?.story ?? null;
    this.#entries = new Map(state?.timeline.map((entry) => [entry.developmentId, entry]));
    this.#applied = applied;
    this.#known = known;
  }

  /** A server snapshot: the story at `position` (`null`: not opened yet). */
  static fromSnapshot(state: StoryProjection | null, position: number): StoryState {
    return new StoryState(state, position, true);
  }

  /** Nothing known but that the caller has seen every event up to `after`. */
  static unknownAfter(after: number): StoryState {
    return new StoryState(null, after, after === 0);
  }

  get applied(): number {
    return this.#applied;
  }

  /**
   * Folds one event in; false if it was already applied (a duplicate, see LiveSubscription).
   * Throws, leaving the state as it was, if the event does not follow from it (a gap).
   */
  apply(event: RecordedEvent): boolean {
    if (event.position <= this.#applied) return false;
    if (this.#known || event.type === 'story.opened') {
      const developmentId = developmentIdOf(event);
      const step = evolve(
        this.#story,
        developmentId === null ? null : (this.#entries.get(developmentId) ?? null),
        event,
      );
      this.#story = step.story;
      if (step.entry !== null) {
        this.#entries.set(step.entry.developmentId, step.entry);
        this.#timeline = null;
      }
      this.#known = true;
    }
    this.#applied = event.position;
    return true;
  }

  /** The view and its timeline in `compareTimeline` order; null if unknown or not opened. */
  projection(): StoryProjection | null {
    if (!this.#known || this.#story === null) return null;
    this.#timeline ??= [...this.#entries.values()].sort(compareTimeline);
    return { story: this.#story, timeline: this.#timeline };
  }
}
