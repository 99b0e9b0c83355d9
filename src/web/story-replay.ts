/**
 * Time travel on the story page: a scrubber over the story's events (its positions in the log)
 * shows the story as it stood after each, from `GET /v1/stories/{id}/state?at=<position>`, drawn
 * exactly like the live page; Play steps through them at a chosen pace; "Back to live" returns
 * to the live state, which the subscription kept current meanwhile.
 */
import type { RecordedEvent } from '../domain/event-types.ts';
import type { StoryProjection, StoryView, TimelineEntry } from '../domain/story-view.ts';
import type { LiveBlogPage } from './live-blog-page.ts';
import { ids } from './story-markup.ts';
import { formatInZone, zoneLabel } from './times.ts';

interface Step {
  readonly position: number;
  readonly description: string;
  readonly occurredAt: string;
}

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
  readonly #states = new Map<number, Promise<StoryProjection>>();
  #replaying = false;
  #playing: ReturnType<typeof setTimeout> | null = null;
  /** Counts plays and stops: a step of a play that has been stopped does nothing. */
  #run = 0;
  /** Counts requests for states: a slow answer for a point the reader has left is dropped. */
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
      this.#steps = merged(this.#steps, [step]);
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
      const live = this.#options.liveState() ?? (await this.#stateAt(this.#page.renderedPosition));
      if (request === this.#request) this.#page.draw(live, { mode: 'complete' });
    } catch {
      this.#label.textContent = 'The live story could not be loaded. Reload the page.';
    }
  }

  /** The story's events, from `GET /v1/stories/{id}/events`, loaded once. */
  #load(): Promise<readonly Step[]> {
    this.#loading ??= fetchSteps(this.#options.storyId).then(
      (loaded) => {
        this.#steps = merged(loaded, this.#seen);
        if (!this.#replaying) this.#showCount(this.#steps.length);
        else this.#scrubber.max = String(this.#steps.length - 1);
        return this.#steps;
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
      const state = await this.#stateAt(step.position);
      if (request === this.#request) this.#page.draw(state, { mode: 'complete' });
    } catch {
      if (request === this.#request) {
        this.#stop();
        this.#label.textContent = 'That point of the story could not be loaded. Try again.';
      }
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
    const when = `${formatInZone(step.occurredAt, zone)} ${zoneLabel(zone)}`;
    const text = `Event ${index + 1} of ${steps.length}: ${step.description} (${when}).`;
    this.#label.textContent = text;
    this.#scrubber.setAttribute('aria-valuetext', text);
  }

  #stateAt(position: number): Promise<StoryProjection> {
    let state = this.#states.get(position);
    if (state === undefined) {
      state = fetchState(this.#options.storyId, position);
      // A failed request is not remembered: moving back to the point tries again.
      state.catch(() => this.#states.delete(position));
      this.#states.set(position, state);
    }
    return state;
  }
}

const stepOf = (event: RecordedEvent): Step => ({
  position: event.position,
  description: describe(event),
  occurredAt: event.occurredAt,
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

async function fetchState(storyId: string, position: number): Promise<StoryProjection> {
  const response = await fetch(`/v1/stories/${storyId}/state?at=${position}`);
  if (!response.ok) throw new Error(`state at ${position}: ${response.status}`);
  const {
    timeline,
    asOf: _asOf,
    at: _at,
    ...story
  } = (await response.json()) as StoryView & {
    timeline: TimelineEntry[];
    asOf: string | null;
    at: number | null;
  };
  return { story, timeline };
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
