/**
 * The story page in the browser: draws a folded story onto the server-rendered page with the
 * same markup functions the server used, touching only what changed.
 *
 * Timeline entries are keyed by development id, and an entry is redrawn only when its key
 * (its last change's position, and whether it is pinned) differs from the drawn one. So an event
 * the page has already shown, or a snapshot that repeats what the HTML holds, changes nothing,
 * and no development can ever appear twice.
 */
import type { StoryProjection, StoryView, TimelineEntry } from '../domain/story-view.ts';
import type { Html } from './html.ts';
import {
  entryAnchor,
  entryKey,
  ids,
  renderCorrectionsLog,
  renderEntry,
  renderKeyEvents,
  renderKeyPoints,
  renderPinned,
  renderStoryStatus,
  renderTimelineCount,
} from './story-markup.ts';
import { readerTime } from './times.ts';

export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'offline';

const connectionLabels: Readonly<Record<ConnectionState, string>> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

export interface DrawOptions {
  /**
   * `live`: developments not drawn yet are new (returned, for announcing). `complete`: the
   * state replaces what is drawn (a replay, or the return from one), and nothing is new.
   */
  readonly mode: 'live' | 'complete';
  /**
   * Live only: keep new developments behind the "new updates" button instead of drawing them
   * (the reader has scrolled down the timeline and would not see them arrive).
   */
  readonly hold?: boolean;
}

function element(id: string): HTMLElement;
function element<T extends HTMLElement>(id: string, type: new () => T): T;
function element(id: string, type: new () => HTMLElement = HTMLElement): HTMLElement {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`the page has no #${id}`);
  return found;
}

export class LiveBlogPage {
  readonly storyId: string;
  readonly renderedPosition: number;
  readonly #baseTitle: string;
  readonly #readerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  readonly #timeline = element(ids.timeline, HTMLOListElement);
  readonly #newUpdates = element(ids.newUpdates, HTMLButtonElement);
  readonly #announcer = element(ids.announcer);
  readonly #connection = element(ids.connection);
  /** The markup last written into each section, so unchanged sections are left alone. */
  readonly #drawn = new Map<HTMLElement, string>();
  /** New developments not drawn yet: the reader has not asked to see them. Newest first. */
  #pending: string[] = [];
  #last: StoryProjection | null = null;

  constructor(root: HTMLElement) {
    this.storyId = root.dataset['story'] ?? '';
    this.renderedPosition = Number(root.dataset['position'] ?? '0');
    this.#baseTitle = document.title;
    this.#newUpdates.addEventListener('click', () => this.showPending());
    this.#connection.hidden = false;
    addReaderTimes(document.body, this.#readerZone);
  }

  get pendingCount(): number {
    return this.#pending.length;
  }

  /** Draws a whole story; returns the developments it showed for the first time. */
  draw(projection: StoryProjection, options: DrawOptions): readonly TimelineEntry[] {
    const { story } = projection;
    this.#last = projection;
    this.#section(ids.status, renderStoryStatus(story));
    this.#section(ids.keyPoints, renderKeyPoints(story));
    this.#section(ids.pinned, renderPinned(projection));
    this.#section(ids.keyEvents, renderKeyEvents(story));
    this.#section(ids.corrections, renderCorrectionsLog(projection));
    this.#section(ids.timelineCount, renderTimelineCount(story));
    return this.#drawTimeline(projection, options);
  }

  /** Shows the developments waiting behind the button, and takes the reader to them. */
  showPending(): void {
    if (this.#pending.length === 0 || this.#last === null) return;
    const newest = this.#pending[0];
    this.draw(this.#last, { mode: 'live', hold: false });
    if (newest !== undefined) {
      const entry = document.getElementById(entryAnchor(newest));
      entry?.focus({ preventScroll: true });
      this.#timeline.scrollIntoView({ block: 'start' });
    }
  }

  announce(message: string): void {
    // Emptied first and filled a moment later, so the same words twice are announced twice.
    this.#announcer.textContent = '';
    setTimeout(() => {
      this.#announcer.textContent = message;
    }, 50);
  }

  setConnection(state: ConnectionState): void {
    this.#connection.dataset['state'] = state;
    const text = this.#connection.querySelector('.connection-text');
    if (text !== null) text.textContent = connectionLabels[state];
  }

  /** Whether the reader can see the top of the timeline (or has not scrolled down to it yet). */
  readerAtTop(): boolean {
    return this.#timeline.getBoundingClientRect().top >= 0;
  }

  #section(id: string, markup: Html): void {
    const target = element(id);
    const text = markup.toString();
    if (this.#drawn.get(target) === text) return;
    this.#drawn.set(target, text);
    target.innerHTML = text;
    if (target.tagName !== 'SPAN' && target.tagName !== 'P') target.hidden = text.trim() === '';
    addReaderTimes(target, this.#readerZone);
  }

  #drawTimeline(projection: StoryProjection, options: DrawOptions): readonly TimelineEntry[] {
    const { mode } = options;
    const { story } = projection;
    const drawn = new Map<string, HTMLElement>();
    for (const child of Array.from(this.#timeline.children)) {
      if (child instanceof HTMLElement && child.dataset['developmentId'] !== undefined) {
        drawn.set(child.dataset['developmentId'], child);
      }
    }
    const hold = mode === 'live' && options.hold === true;
    const held: string[] = [];
    const shown: TimelineEntry[] = [];
    const wanted: HTMLElement[] = [];
    for (const entry of [...projection.timeline].reverse()) {
      let node = drawn.get(entry.developmentId);
      drawn.delete(entry.developmentId);
      if (node === undefined) {
        if (hold) {
          held.push(entry.developmentId);
          continue;
        }
        node = entryNode(entry, story, this.#readerZone);
        if (mode === 'live') shown.push(entry);
      } else if (node.dataset['key'] !== entryKey(entry, story)) {
        const replacement = entryNode(entry, story, this.#readerZone);
        const hadFocus = node.contains(document.activeElement);
        node.replaceWith(replacement);
        if (hadFocus) replacement.focus({ preventScroll: true });
        node = replacement;
      }
      wanted.push(node);
    }
    // Drawn but not in this state: a replay went back to before they were reported.
    for (const stale of drawn.values()) stale.remove();
    wanted.forEach((node, index) => {
      const current = this.#timeline.children[index];
      if (current !== node) this.#timeline.insertBefore(node, current ?? null);
    });

    // Everything undrawn is held, so this also keeps the developments held before.
    this.#pending = held;
    this.#updatePendingControls();
    return shown;
  }

  #updatePendingControls(): void {
    const count = this.#pending.length;
    this.#newUpdates.hidden = count === 0;
    this.#newUpdates.textContent = count === 1 ? 'Show 1 new update' : `Show ${count} new updates`;
    document.title = count === 0 ? this.#baseTitle : `(${count}) ${this.#baseTitle}`;
  }
}

function entryNode(entry: TimelineEntry, story: StoryView, readerZone: string): HTMLElement {
  const template = document.createElement('template');
  template.innerHTML = renderEntry(entry, story).toString();
  const node = template.content.firstElementChild;
  if (!(node instanceof HTMLElement)) throw new Error('an entry rendered to nothing');
  addReaderTimes(node, readerZone);
  return node;
}

/** Adds "· 14:30 your time" after the times that ask for it, once each. */
export function addReaderTimes(root: ParentNode, readerZone: string): void {
  for (const time of Array.from(root.querySelectorAll('time[data-reader-time="yes"]'))) {
    if (!(time instanceof HTMLTimeElement)) continue;
    if (time.nextElementSibling?.classList.contains('reader-time') === true) continue;
    const zone = time.dataset['storyZone'];
    if (zone === undefined) continue;
    const text = readerTime(time.dateTime, zone, readerZone, Date.now());
    if (text === null) continue;
    const reader = document.createElement('span');
    reader.className = 'reader-time';
    reader.textContent = ` · ${text}`;
    time.after(reader);
  }
}
