/**
 * The live blog's markup, as pure functions of a folded story. The server renders the page with
 * them and the browser re-renders sections and entries with the same functions (live updates
 * and replay), so a page never looks different depending on how its state arrived.
 *
 * Everything from the log goes through `html`, which escapes it.
 */
import { correctionsLog } from '../domain/corrections-log.ts';
import type { Source, StoryStatus } from '../domain/event-types.ts';
import type {
  DisputeView,
  EntryCorrection,
  StoryProjection,
  StoryView,
  TimelineEntry,
} from '../domain/story-view.ts';
import { html, type Html } from './html.ts';
import { formatInZone, zoneLabel } from './times.ts';

/** The element ids the page and the script share. */
export const ids = {
  main: 'live-blog',
  status: 'story-status',
  keyPoints: 'key-points',
  pinned: 'pinned',
  keyEvents: 'key-events',
  timeline: 'timeline-entries',
  timelineCount: 'timeline-count',
  corrections: 'corrections-log',
  newUpdates: 'new-updates',
  announcer: 'announcer',
  connection: 'connection',
  replay: 'replay',
} as const;

export const entryAnchor = (developmentId: string): string => `entry-${developmentId}`;

/**
 * What an entry's markup depends on besides the entry itself: the browser re-renders an entry
 * only when this key changes.
 */
export const entryKey = (entry: TimelineEntry, story: StoryView): string =>
  `${entry.updatedPosition}:${story.pinned?.developmentId === entry.developmentId ? 'pinned' : ''}`;

const statusLabels: Readonly<Partial<Record<string, string>>> = {
  live: 'Live',
  paused: 'Paused',
  closed: 'Closed',
};

/**
 * A time in the story's zone. With `reader`, the browser adds the reader's zone after it
 * ("· 14:30 your time"); `compact` leaves out the zone's name.
 */
export function storyTime(
  iso: string,
  timeZone: string,
  options: { readonly compact?: boolean; readonly reader?: boolean } = {},
): Html {
  const text = formatInZone(iso, timeZone, Date.now());
  return html`<time
    datetime="${iso}"
    data-story-zone="${timeZone}"
    data-reader-time="${options.reader === true ? 'yes' : 'no'}"
    >${options.compact === true ? text : `${text} ${zoneLabel(timeZone)}`}</time
  >`;
}

/** `status` is a string: the story list carries it untyped. */
export const statusBadge = (status: StoryStatus | (string & {})): Html =>
  html`<span class="badge badge-${status}">${statusLabels[status] ?? status}</span>`;

/** The line under the title: status, last update, how many updates. */
export function renderStoryStatus(story: StoryView): Html {
  const { developments } = story.counts;
  return html`${statusBadge(story.status)}
    <span class="updated"
      >Updated ${storyTime(story.lastUpdateAt, story.timeZone, { reader: true })}</span
    >
    <span class="count">${developments} ${developments === 1 ? 'update' : 'updates'}</span>`;
}

export function renderKeyPoints(story: StoryView): Html {
  if (story.keyPoints.length === 0) return html``;
  return html`<h2 id="key-points-heading">Key points</h2>
    <ul>
      ${story.keyPoints.map((point) => html`<li>${point}</li>`)}
    </ul>
    ${
      story.keyPointsRevisedAt === null
        ? ''
        : html`<p class="note">Revised ${storyTime(story.keyPointsRevisedAt, story.timeZone)}</p>`
    }`;
}

export function renderPinned({ story, timeline }: StoryProjection): Html {
  const pinned = story.pinned;
  if (pinned === null) return html``;
  const entry = timeline.find((candidate) => candidate.developmentId === pinned.developmentId);
  return html`<h2 id="pinned-heading">Pinned</h2>
    <p class="pinned-time">${storyTime(pinned.occurredAt, story.timeZone, { reader: true })}</p>
    <p class="pinned-headline">
      <a href="#${entryAnchor(pinned.developmentId)}">${pinned.headline}</a>
    </p>
    ${
      entry === undefined || entry.body === null
        ? ''
        : html`<p class="pinned-body">${firstParagraph(entry.body)}</p>`
    }`;
}

export function renderKeyEvents(story: StoryView): Html {
  if (story.keyEvents.length === 0) return html``;
  return html`<h2 id="key-events-heading">Key events</h2>
    <nav aria-labelledby="key-events-heading">
      <ol>
        ${story.keyEvents.map(
          (ref) =>
            html`<li>
              <a href="#${entryAnchor(ref.developmentId)}"
                >${storyTime(ref.occurredAt, story.timeZone, { compact: true })}
                <span class="key-event-headline">${ref.headline}</span></a
              >
            </li>`,
        )}
      </ol>
    </nav>`;
}

/** The corrections log, newest first, each linked to the entry it corrected. */
export function renderCorrectionsLog({ story, timeline }: StoryProjection): Html {
  const corrections = correctionsLog(timeline);
  if (corrections.length === 0) return html``;
  const headlines = new Map(timeline.map((entry) => [entry.developmentId, entry.headline]));
  return html`<h2 id="corrections-heading">Corrections</h2>
    <ol class="corrections-list">
      ${corrections.reverse().map(
        (correction) =>
          html`<li data-position="${correction.position}">
            <a href="#${entryAnchor(correction.developmentId)}"
              >${headlines.get(correction.developmentId) ?? correction.developmentId}</a
            >
            ${renderCorrection(correction, story.timeZone)}
          </li>`,
      )}
    </ol>`;
}

export function renderTimelineCount(story: StoryView): Html {
  const { developments } = story.counts;
  return html`${developments} ${developments === 1 ? 'update' : 'updates'}, newest first`;
}

/** One development on the timeline: an `<li>` keyed by its development id. */
export function renderEntry(entry: TimelineEntry, story: StoryView): Html {
  const zone = story.timeZone;
  const anchor = entryAnchor(entry.developmentId);
  const pinned = story.pinned?.developmentId === entry.developmentId;
  const classes = [
    'entry',
    `kind-${entry.kind}`,
    entry.retracted === null ? '' : 'is-retracted',
    entry.disputes.length > 0 ? 'is-disputed' : '',
    entry.keyEvent ? 'is-key-event' : '',
    pinned ? 'is-pinned' : '',
  ]
    .filter((name) => name !== '')
    .join(' ');
  return html`<li
    id="${anchor}"
    class="${classes}"
    data-development-id="${entry.developmentId}"
    data-key="${entryKey(entry, story)}"
    tabindex="-1"
  >
    <article aria-labelledby="${anchor}-headline">
      <div class="entry-main">
        <p class="entry-meta">
          <span class="when">${storyTime(entry.occurredAt, zone, { reader: true })}</span>
          <span class="kind">${kindLabel(entry.kind)}</span>
          ${entry.keyEvent ? html`<span class="tag tag-key">Key event</span>` : ''}
          ${pinned ? html`<span class="tag tag-pinned">Pinned</span>` : ''}
          ${entry.retracted === null ? '' : html`<span class="tag tag-retracted">Retracted</span>`}
          ${entry.disputes.length > 0 ? html`<span class="tag tag-disputed">Disputed</span>` : ''}
        </p>
        <h3 id="${anchor}-headline" class="entry-headline">${entry.headline}</h3>
        ${
          entry.retracted === null
            ? ''
            : html`<p class="retraction" role="note">
                <strong>Retracted</strong> ${storyTime(entry.retracted.at, zone)}:
                ${entry.retracted.reason}
              </p>`
        }
        ${entry.body === null ? '' : paragraphs(entry.body)}
        ${
          entry.quote === null
            ? ''
            : html`<blockquote class="quote">
                <p>${entry.quote.text}</p>
                ${entry.quote.by === undefined ? '' : html`<footer>— ${entry.quote.by}</footer>`}
              </blockquote>`
        }
        ${renderDetails(entry)}
        ${
          entry.corrections.length === 0
            ? ''
            : html`<ul class="entry-corrections">
                ${entry.corrections.map(
                  (correction) => html`<li>${renderCorrection(correction, zone)}</li>`,
                )}
              </ul>`
        }
      </div>
      ${
        entry.disputes.length === 0
          ? ''
          : html`<aside class="disputes" aria-label="Disputed">
              ${entry.disputes.map((dispute) => renderDispute(dispute, zone))}
            </aside>`
      }
    </article>
  </li>`;
}

function renderDetails(entry: TimelineEntry): Html {
  const actors = entry.actors.map((actor) =>
    actor.role === undefined ? actor.name : `${actor.name} (${actor.role})`,
  );
  if (actors.length === 0 && entry.location === null && entry.sources.length === 0) return html``;
  return html`<dl class="entry-details">
    ${
      actors.length === 0
        ? ''
        : html`<dt>Who</dt>
            <dd>${actors.join(', ')}</dd>`
    }
    ${
      entry.location === null
        ? ''
        : html`<dt>Where</dt>
            <dd>${entry.location}</dd>`
    }
    ${
      entry.sources.length === 0
        ? ''
        : html`<dt>Sources</dt>
            <dd>${joinHtml(entry.sources.map(renderSource))}</dd>`
    }
  </dl>`;
}

function renderDispute(dispute: DisputeView, zone: string): Html {
  return html`<div class="dispute">
    <p class="dispute-by"><strong>Disputed by ${dispute.by}</strong></p>
    <p class="dispute-time">${storyTime(dispute.occurredAt, zone)}</p>
    <p class="dispute-statement">${dispute.statement}</p>
    ${
      dispute.sources.length === 0
        ? ''
        : html`<p class="dispute-sources">
            Sources: ${joinHtml(dispute.sources.map(renderSource))}
          </p>`
    }
  </div>`;
}

const severityLabels: Readonly<Record<EntryCorrection['severity'], string>> = {
  typo: 'Typo',
  clarification: 'Clarification',
  correction: 'Correction',
};

/** "Corrected 3 Dec 02:10 Moscow: <note> — was: <previous values>". */
export function renderCorrection(
  correction: Pick<EntryCorrection, 'severity' | 'note' | 'previous' | 'correctedAt'>,
  zone: string,
): Html {
  const was = describePrevious(correction.previous, zone);
  return html`<p class="correction">
    <span class="severity severity-${correction.severity}"
      >${severityLabels[correction.severity]}</span
    >
    Corrected ${storyTime(correction.correctedAt, zone)}: ${correction.note}
    ${was === '' ? '' : html`<span class="was">— was: ${was}</span>`}
  </p>`;
}

const fieldLabels: Readonly<Record<string, string>> = {
  kind: 'kind',
  headline: 'headline',
  body: 'text',
  actors: 'people',
  location: 'place',
  sources: 'sources',
  quote: 'quote',
  keyEvent: 'key event',
  occurredAt: 'time',
};

/** The values a correction replaced, as text: `headline “…”; time 2 Dec 16:00 Moscow`. */
export function describePrevious(
  previous: Readonly<Record<string, unknown>>,
  zone: string,
  now: number = Date.now(),
) {
  return Object.entries(previous)
    .map(
      ([field, value]) =>
        `${fieldLabels[field] ?? field} ${describeValue(field, value, zone, now)}`,
    )
    .join('; ');
}

function describeValue(field: string, value: unknown, zone: string, now: number): string {
  if (value === null || value === undefined) return 'none';
  if (field === 'occurredAt' && typeof value === 'string') {
    return `${formatInZone(value, zone, now)} ${zoneLabel(zone)}`;
  }
  if (typeof value === 'string') return `“${value}”`;
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value)) {
    const names = value.map((item: unknown) =>
      typeof item === 'object' && item !== null && 'name' in item ? String(item.name) : '',
    );
    return names.length === 0 ? 'none' : names.join(', ');
  }
  if (typeof value === 'object' && 'text' in value) return `“${String(value.text)}”`;
  return JSON.stringify(value);
}

/** A source, linked only when its URL is http(s): a `javascript:` URL stays text. */
function renderSource(source: Source): Html {
  if (source.url !== undefined && /^https?:\/\//i.test(source.url)) {
    return html`<a href="${source.url}" rel="noopener noreferrer nofollow">${source.name}</a>`;
  }
  return html`${source.name}`;
}

function joinHtml(parts: readonly Html[], separator = ', '): Html {
  return html`${parts.map((part, index) => (index === 0 ? part : html`${separator}${part}`))}`;
}

function paragraphs(text: string): Html {
  return html`${text
    .split(/\n\s*\n|\n/)
    .map((paragraph) => paragraph.trim())
    .filter((paragraph) => paragraph !== '')
    .map((paragraph) => html`<p class="entry-body">${withLinks(paragraph)}</p>`)}`;
}

/**
 * Text with its web addresses as links. Only `http://` and `https://` become links (nothing
 * else can be written as one), escaped like all text; a trailing full stop, comma or closing
 * bracket stays text.
 */
function withLinks(text: string): Html {
  const parts: Html[] = [];
  let last = 0;
  for (const match of text.matchAll(/\bhttps?:\/\/[^\s<>"]+/gi)) {
    const url = match[0].replace(/[.,;:!?)\]]+$/, '');
    const start = match.index;
    parts.push(html`${text.slice(last, start)}`);
    parts.push(html`<a href="${url}" rel="noopener noreferrer nofollow ugc">${url}</a>`);
    last = start + url.length;
  }
  parts.push(html`${text.slice(last)}`);
  return html`${parts}`;
}

function firstParagraph(text: string): string {
  return text.split(/\n/)[0] ?? text;
}

/** "social_post" → "Social post". */
export function kindLabel(kind: string): string {
  const words = kind.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
