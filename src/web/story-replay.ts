/**
 * Time travel on the story page: a scrubber over the story's events (its positions in the log)
 * shows the story as it stood after each, drawn exactly like the live page; Play steps through
 * them at a chosen pace; "Back to live" returns to the live state, which the subscription kept
 * current meanwhile.
 *
 * The story's events are fetched once (`GET /v1/stories/{id}/events`, page by page) and folded
 * here with the domain's own fold, the one the server uses: a step forward folds one event, so
 * a whole playback costs one pass over the story instead of a request per step. A step back
 * starts again from the nearest state kept on the way (every `keptEvery` events).
 */
import { StoryState } from '../client/story-state.ts';
import type { RecordedEvent } from '../domain/event-types.ts';
import type { StoryProjection } from '../domain/story-view.ts';
import type { LiveBlogPage } from './live-blog-page.ts';
import { ids } from './story-markup.ts';
import { formatInZone, zoneLabel } from './times.ts';

interface Step {
  readonly position: number;
  readonly description: string;
  readonly occurredAt: string;
  readonly event: RecordedEvent;
}

/** Folded states kept on the way, for steps back: one every this many events. */
const keptEvery = 64;

export interface ReplayOptions {
  readonly storyId: string;
  readonly timeZone: string;
  /** The live state as the subscription holds it; null before its first snapshot. */
  readonly liveState: () => StoryProjection | null;
}

function control<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`the page has no #${id}`);
  return found;
}

export class StoryReplay {
  readonly #page: LiveBlogPage;
  readonly #options: ReplayOptions;
  readonly #section = control(ids.replay, HTMLElement);
  readonly #scrubber = control('replay-scrubber', HTMLInputElement);
  readonly #play = control('replay-play', HTMLButtonElement);
  readonly #speed = control('replay-speed', HTMLSelectElement);
  readonly #backToLive = control('back-to-live', HTMLButtonElement);
  readonly #label = control('replay-position', HTMLElement);
  /** The story's events, once loaded; null before (most readers never replay). */
  #steps: Step[] | null = null;
  #loading: Promise<readonly Step[]> | null = null;
  /** Events the subscription delivered, merged into the loaded list (it may have missed them). */
  readonly #seen: Step[] = [];
  /** The fold so far, at the position of the last event folded in. */
  #fold: StoryState = StoryState.fromSnapshot(null, 0);
  /** States met while folding, by position, to start a step back from. */
  readonly #kept = new Map<number, StoryProjection | null>();
  #replaying = false;
  #playing: ReturnType<typeof setTimeout> | null = null;
  /** Counts plays and stops: a step of a play that has been stopped does nothing. */
  #run = 0;
  /** Counts moves: one that finds, once the events are loaded, that the reader moved on stops. */
  #request = 0;

  constructor(page: LiveBlogPage, options: ReplayOptions) {
    this.#page = page;
    this.#options = options;
    // The events list is loaded when the reader reaches for the controls, not with every page.
    const prepare = () => void this.#load().catch(() => undefined);
    this.#section.addEventListener('focusin', prepare);
    this.#section.addEventListener('pointerenter', prepare);
    this.#scrubber.addEventListener('input', () => {
      this.#stop();
      void this.#goTo(this.#scrubber.valueAsNumber);
    });
    this.#play.addEventListener('click', () => {
      if (this.#play.getAttribute('aria-pressed') === 'true') this.#stop();
      else void this.#start();
    });
    this.#backToLive.addEventListener('click', () => void this.backToLive());
    this.#section.hidden = false;
  }

  /** Whether the page shows the past (live updates then wait until "Back to live"). */
  get replaying(): boolean {
    return this.#replaying;
  }

  /** A live event: one more point to travel to; the scrubber stays on "now" unless replaying. */
  noteEvent(event: RecordedEvent): void {
    if (event.storyId !== this.#options.storyId) return;
    const step = stepOf(event);
    this.#seen.push(step);
    if (this.#steps !== null) {
      this.#setSteps(merged(this.#steps, [step]));
      this.#showCount(this.#steps.length);
    } else {
      // Until the list is loaded, the server-rendered count, kept up to date.
      this.#showCount(Number(this.#scrubber.max) + 2);
    }
  }

  async backToLive(): Promise<void> {
    this.#stop();
    this.#request += 1;
    const request = this.#request;
    this.#replaying = false;
    document.body.classList.remove('is-replaying');
    this.#backToLive.hidden = true;
    this.#showCount(this.#steps?.length ?? Number(this.#scrubber.max) + 1);
    try {
      // Before the subscription's first snapshot, the state the page was rendered from.
      const live =
        this.#options.liveState() ?? this.#stateAt(await this.#load(), this.#page.renderedPosition);
      if (live !== null && request === this.#request) this.#page.draw(live, { mode: 'complete' });
    } catch {
      this.#label.textContent = 'The live story could not be loaded. Reload the page.';
    }
  }

  /** The story's events, from `GET /v1/stories/{id}/events`, loaded once. */
  #load(): Promise<readonly Step[]> {
    this.#loading ??= fetchSteps(this.#options.storyId).then(
      (loaded) => {
        this.#setSteps(merged(loaded, this.#seen));
        const steps = this.#steps ?? [];
        if (!this.#replaying) this.#showCount(steps.length);
        else this.#scrubber.max = String(steps.length - 1);
        return steps;
      },
      (error: unknown) => {
        this.#loading = null;
        throw error;
      },
    );
    return this.#loading;
  }

  async #goTo(index: number): Promise<void> {
    const request = ++this.#request;
    let steps: readonly Step[];
    try {
      steps = await this.#load();
    } catch {
      this.#label.textContent = 'The story’s history could not be loaded. Try again.';
      return;
    }
    if (request !== this.#request) return;
    const last = steps.length - 1;
    const at = Math.min(Math.max(index, 0), last);
    const step = steps[at];
    if (step === undefined) return;
    if (at === last) {
      await this.backToLive();
      return;
    }
    this.#replaying = true;
    document.body.classList.add('is-replaying');
    this.#backToLive.hidden = false;
    this.#scrubber.value = String(at);
    this.#describe(steps, at);
    try {
      const state = this.#stateAt(steps, step.position);
      if (state !== null) this.#page.draw(state, { mode: 'complete' });
    } catch {
      this.#stop();
      this.#label.textContent = 'That point of the story could not be shown.';
    }
  }

  async #start(): Promise<void> {
    const run = ++this.#run;
    this.#play.textContent = 'Pause';
    this.#play.setAttribute('aria-pressed', 'true');
    const atNow = !this.#replaying;
    let steps: readonly Step[];
    try {
      steps = await this.#load();
    } catch {
      this.#stop();
      this.#label.textContent = 'The story’s history could not be loaded. Try again.';
      return;
    }
    const step = async (index: number) => {
      if (run !== this.#run) return;
      if (index >= steps.length - 1) {
        await this.backToLive();
        return;
      }
      await this.#goTo(index);
      if (run !== this.#run) return;
      this.#playing = setTimeout(() => void step(index + 1), Number(this.#speed.value));
    };
    // Playing from "now" starts from the story's beginning.
    await step(atNow ? 0 : this.#scrubber.valueAsNumber + 1);
  }

  /** Stops playing; a step already under way finds its run over and goes no further. */
  #stop(): void {
    this.#run += 1;
    if (this.#playing !== null) clearTimeout(this.#playing);
    this.#playing = null;
    this.#play.textContent = 'Play';
    this.#play.setAttribute('aria-pressed', 'false');
  }

  /** Sets the scrubber's range to `count` events; on "now" unless replaying. */
  #showCount(count: number): void {
    this.#scrubber.max = String(Math.max(count - 1, 0));
    this.#scrubber.disabled = count < 2;
    if (this.#replaying) return;
    this.#scrubber.value = this.#scrubber.max;
    const text = `Now: the story as it stands, after ${count} ${count === 1 ? 'event' : 'events'}.`;
    this.#label.textContent = text;
    this.#scrubber.setAttribute('aria-valuetext', text);
  }

  #describe(steps: readonly Step[], index: number): void {
    const step = steps[index];
    if (step === undefined) return;
    const zone = this.#options.timeZone;
    const when = `${formatInZone(step.occurredAt, zone, Date.now())} ${zoneLabel(zone)}`;
    const text = `Event ${index + 1} of ${steps.length}: ${step.description} (${when}).`;
    this.#label.textContent = text;
    this.#scrubber.setAttribute('aria-valuetext', text);
  }

  /** Replaces the steps; a step inserted before the fold's position makes it start over. */
  #setSteps(steps: Step[]): void {
    const folded = this.#fold.applied;
    const previous = this.#steps ?? [];
    const before = (list: readonly Step[]) => list.filter((step) => step.position <= folded).length;
    if (before(steps) !== before(previous)) {
      this.#fold = StoryState.fromSnapshot(null, 0);
      this.#kept.clear();
    }
    this.#steps = steps;
  }

  /**
   * The story after its events up to `position`, folded from the nearest state known before it
   * (the fold so far, or one kept on the way); null if it had not opened.
   */
  #stateAt(steps: readonly Step[], position: number): StoryProjection | null {
    if (this.#fold.applied > position) {
      let from = 0;
      for (const kept of this.#kept.keys()) if (kept <= position && kept > from) from = kept;
      this.#fold = StoryState.fromSnapshot(this.#kept.get(from) ?? null, from);
    }
    for (let index = firstAfter(steps, this.#fold.applied); index < steps.length; index += 1) {
      const step = steps[index];
      if (step === undefined || step.position > position) break;
      this.#fold.apply(step.event);
      if ((index + 1) % keptEvery === 0) this.#kept.set(step.position, this.#fold.projection());
    }
    return this.#fold.projection();
  }
}

/** The index of the first step after a position (steps are in log order). */
function firstAfter(steps: readonly Step[], position: number): number {
  let low = 0;
  let high = steps.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((steps[middle]?.position ?? Infinity) <= position) low = middle + 1;
    else high = middle;
  }
  return low;
}

const stepOf = (event: RecordedEvent): Step => ({
  position: event.position,
  description: describe(event),
  occurredAt: event.occurredAt,
  event,
});

/** Both lists' steps, once each, in log order. */
function merged(a: readonly Step[], b: readonly Step[]): Step[] {
  const byPosition = new Map([...a, ...b].map((step) => [step.position, step]));
  return [...byPosition.values()].sort((x, y) => x.position - y.position);
}

async function fetchSteps(storyId: string): Promise<Step[]> {
  const steps: Step[] = [];
  let after = 0;
  for (;;) {
    const response = await fetch(`/v1/stories/${storyId}/events?after=${after}&limit=1000`);
    if (!response.ok) throw new Error(`events: ${response.status}`);
    const page = (await response.json()) as { events: RecordedEvent[]; next: number | null };
    steps.push(...page.events.map(stepOf));
    if (page.next === null) return steps;
    after = page.next;
  }
}

function describe(event: RecordedEvent): string {
  switch (event.type) {
    case 'story.opened':
      return 'the story opens';
    case 'development.reported':
      return `reported: ${event.data.headline}`;
    case 'development.corrected':
      return `a correction (${event.data.severity})`;
    case 'development.retracted':
      return 'a retraction';
    case 'development.pinned':
      return 'an update is pinned';
    case 'development.unpinned':
      return 'an update is unpinned';
    case 'claim.disputed':
      return `${event.data.by} disputes a claim`;
    case 'summary.revised':
      return 'the key points are revised';
    case 'story.status_changed':
      return `the story is now ${event.data.status}`;
  }
}
