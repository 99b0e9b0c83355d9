/**
 * Whole HTML documents: the story list, the live blog, and the not-found and error pages. The
 * sections that change live come from src/web/story-markup.ts, which the browser script uses
 * too; this module adds what only the server writes (the shell, JSON-LD, the replay controls).
 */
import type { StoryListItem } from '../../../app/ports.ts';
import type { StoryProjection } from '../../../domain/story-view.ts';
import { html, jsonForScript, type Html } from '../../../web/html.ts';
import {
  ids,
  renderCorrectionsLog,
  renderEntry,
  renderKeyEvents,
  renderKeyPoints,
  renderPinned,
  renderStoryStatus,
  renderTimelineCount,
  statusBadge,
  storyTime,
} from '../../../web/story-markup.ts';
import { zoneLabel } from '../../../web/times.ts';
import { liveBlogJsonLd, type NewsPublisher } from './live-blog-json-ld.ts';

interface DocumentParts {
  readonly title: string;
  readonly description?: string;
  readonly canonical?: string;
  readonly head?: Html;
  readonly main: Html;
}

function documentOf(parts: DocumentParts): string {
  return `<!doctype html>\n${html`<html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>${parts.title}</title>
      ${
        parts.description === undefined
          ? ''
          : html`<meta name="description" content="${parts.description}" />`
      }
      ${parts.canonical === undefined ? '' : html`<link rel="canonical" href="${parts.canonical}" />`}
      <link rel="icon" href="data:," />
      <link rel="stylesheet" href="/assets/live-blog.css" />
      ${parts.head ?? ''}
    </head>
    <body>
      <a class="skip-link" href="#content">Skip to content</a>
      <header class="site-header">
        <a class="brand" href="/">Storyline</a>
        <span class="tagline">live news, as it develops</span>
      </header>
      ${parts.main}
      <footer class="site-footer">
        <p>Storyline: every update is kept; corrections and retractions are shown, never hidden.</p>
      </footer>
    </body>
  </html>`.toString()}\n`;
}

/** Live stories first, then the most recently updated. */
export function storiesPage(stories: readonly StoryListItem[]): string {
  const ordered = [...stories].sort(
    (a, b) =>
      Number(b.status === 'live') - Number(a.status === 'live') ||
      Date.parse(b.updatedAt) - Date.parse(a.updatedAt),
  );
  return documentOf({
    title: 'Storyline: live stories',
    description: 'Live news stories, updated as they develop.',
    main: html`<main id="content" class="stories-page">
      <h1>Stories</h1>
      ${
        ordered.length === 0
          ? html`<p>No stories yet.</p>`
          : html`<ol class="story-list">
              ${ordered.map((story) => storyCard(story))}
            </ol>`
      }
    </main>`,
  });
}

const counted = (count: number, one: string, many: string): string =>
  `${count} ${count === 1 ? one : many}`;

/** A story on the home page: status, when it last changed (in its zone), title, counts. */
function storyCard(story: StoryListItem): Html {
  const { developments, corrections } = story.counts;
  return html`<li class="story-card">
    <p class="story-card-meta">
      ${statusBadge(story.status)}
      <span>Updated ${storyTime(story.updatedAt, story.timeZone)}</span>
    </p>
    <h2><a href="/stories/${story.storyId}">${story.title}</a></h2>
    <p class="story-card-counts">
      ${`${counted(developments, 'update', 'updates')} · ${counted(corrections, 'correction', 'corrections')}`}
    </p>
  </li>`;
}

export interface StoryPageInput {
  readonly projection: StoryProjection;
  readonly head: number;
  readonly epoch: string;
  readonly pageUrl: string;
  /** The story's Atom feed, offered to feed readers (autodiscovery) and to people (a link). */
  readonly feedUrl: string;
  /** Who publishes the story, for the JSON-LD. */
  readonly publisher: NewsPublisher;
}

export function storyPage({
  projection,
  head,
  epoch,
  pageUrl,
  feedUrl,
  publisher,
}: StoryPageInput): string {
  const { story, timeline } = projection;
  const newestFirst = [...timeline].reverse();
  return documentOf({
    title: story.title,
    canonical: pageUrl,
    ...(story.summary === null ? {} : { description: story.summary }),
    head: html`<link
        rel="alternate"
        type="application/atom+xml"
        title="${story.title}"
        href="${feedUrl}"
      />
      <script type="application/ld+json">
        ${jsonForScript(liveBlogJsonLd(projection, pageUrl, publisher))}
      </script>
      <script type="module" src="/assets/live-blog.js"></script>`,
    main: html`<main
      id="${ids.main}"
      class="live-blog"
      data-story="${story.storyId}"
      data-position="${head}"
      data-epoch="${epoch}"
      data-time-zone="${story.timeZone}"
      data-title="${story.title}"
    >
      <header class="story-header">
        <p class="story-status" id="${ids.status}">${renderStoryStatus(story)}</p>
        <p class="connection" id="${ids.connection}" data-state="connecting" hidden>
          <span class="connection-dot" aria-hidden="true"></span>
          <span class="connection-text">Connecting…</span>
        </p>
        <h1 class="story-title">${story.title}</h1>
        ${story.summary === null ? '' : html`<p class="story-summary">${story.summary}</p>`}
        <p class="story-zone">
          Times are ${zoneLabel(story.timeZone)} time (${story.timeZone}). Opened
          ${storyTime(story.openedAt, story.timeZone)}.
          <a class="feed-link" href="${feedUrl}">Follow in a feed reader (Atom)</a>
        </p>
      </header>
      <div
        id="${ids.announcer}"
        class="visually-hidden"
        aria-live="polite"
        aria-atomic="true"
      ></div>
      ${replayControls(story.version)}
      <div class="live-blog-layout">
        <section id="content" class="timeline" aria-labelledby="timeline-heading" tabindex="-1">
          <h2 id="timeline-heading">
            Updates
            <span class="timeline-count" id="${ids.timelineCount}"
              >${renderTimelineCount(story)}</span
            >
          </h2>
          <button type="button" id="${ids.newUpdates}" class="new-updates" hidden></button>
          <ol id="${ids.timeline}" class="timeline-entries">
            ${newestFirst.map((entry) => renderEntry(entry, story))}
          </ol>
          ${panel(
            ids.corrections,
            'panel corrections-log',
            'corrections-heading',
            renderCorrectionsLog(projection),
          )}
        </section>
        <!-- After the updates in the document: on a phone they come first, on a wide screen
             the panels stand beside them. -->
        <div class="live-blog-side">
          ${panel(ids.keyPoints, 'panel', 'key-points-heading', renderKeyPoints(story))}
          ${panel(ids.pinned, 'panel panel-pinned', 'pinned-heading', renderPinned(projection))}
          ${panel(ids.keyEvents, 'panel', 'key-events-heading', renderKeyEvents(story))}
        </div>
      </div>
    </main>`,
  });
}

/** A section the script redraws; hidden while it has nothing to show. */
function panel(id: string, className: string, headingId: string, content: Html): Html {
  return content.toString().trim() === ''
    ? html`<section
        id="${id}"
        class="${className}"
        aria-labelledby="${headingId}"
        hidden
      ></section>`
    : html`<section id="${id}" class="${className}" aria-labelledby="${headingId}">
        ${content}
      </section>`;
}

/**
 * Shown once the script runs: without JavaScript there is nothing to replay with. The scrubber
 * has a step per event of the story, and starts on the last: now.
 */
function replayControls(events: number): Html {
  const now = `Now: the story as it stands, after ${events} ${events === 1 ? 'event' : 'events'}.`;
  return html`<section id="${ids.replay}" class="replay" aria-labelledby="replay-heading" hidden>
    <h2 id="replay-heading">How the story developed</h2>
    <div class="replay-controls">
      <button type="button" id="replay-play" class="button" aria-pressed="false">Play</button>
      <label class="replay-speed"
        >Speed
        <select id="replay-speed">
          <option value="2000">1 update / 2 s</option>
          <option value="1000" selected>1 update / s</option>
          <option value="400">fast</option>
          <option value="100">very fast</option>
        </select>
      </label>
      <input
        type="range"
        id="replay-scrubber"
        class="replay-scrubber"
        min="0"
        max="${events - 1}"
        step="1"
        value="${events - 1}"
        aria-label="Point in the story's history"
        aria-valuetext="${now}"
      />
      <button type="button" id="back-to-live" class="button button-live" hidden>
        Back to live
      </button>
    </div>
    <p id="replay-position" class="replay-position">${now}</p>
  </section>`;
}

export function notFoundPage(storyId: string): string {
  return documentOf({
    title: 'Story not found: Storyline',
    main: html`<main id="content" class="message-page">
      <h1>Story not found</h1>
      <p>There is no story <code>${storyId}</code>.</p>
      <p><a href="/">See all stories</a></p>
    </main>`,
  });
}

export function errorPage(requestId: string): string {
  return documentOf({
    title: 'Something went wrong: Storyline',
    main: html`<main id="content" class="message-page">
      <h1>Something went wrong</h1>
      <p>The page could not be shown. Please try again in a moment.</p>
      <p class="note">Request ${requestId}</p>
    </main>`,
  });
}
