/**
 * The desk's HTML documents, rendered on the server: sign-in, the story list with "New story",
 * and a story's desk (compose, entries with their actions, drafts, story tools). The browser
 * script (src/web/desk.ts) takes the story desk over from there; the entries are drawn with the
 * public page's own markup (src/web/story-markup.ts), so the desk shows what readers see.
 */
import type { StoryListItem } from '../../../app/ports.ts';
import type { StoryProjection } from '../../../domain/story-view.ts';
import { html, type Html } from '../../../web/html.ts';
import { deskEntry, deskIds, developmentFields, fieldError } from '../../../web/desk-markup.ts';
import { statusBadge, storyTime } from '../../../web/story-markup.ts';
import { zoneLabel } from '../../../web/times.ts';

interface Shell {
  readonly title: string;
  readonly main: Html;
  /** The signed-in editor's name and CSRF token; absent on the sign-in page. */
  readonly editor?: { readonly name: string; readonly csrfToken: string };
  readonly script?: boolean;
}

function documentOf(shell: Shell): string {
  return `<!doctype html>\n${html`<html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="robots" content="noindex" />
      <title>${shell.title}</title>
      <link rel="icon" href="data:," />
      <link rel="stylesheet" href="/assets/live-blog.css" />
      <link rel="stylesheet" href="/assets/desk.css" />
      ${shell.editor === undefined ? '' : html`<meta name="csrf-token" content="${shell.editor.csrfToken}" />`}
      ${shell.script === true ? html`<script type="module" src="/assets/desk.js"></script>` : ''}
    </head>
    <body class="desk-body">
      <a class="skip-link" href="#content">Skip to content</a>
      <header class="site-header desk-header">
        <a class="brand" href="/desk">Storyline desk</a>
        ${
          shell.editor === undefined
            ? ''
            : html`<span class="desk-editor"
                  >Signed in as <strong>${shell.editor.name}</strong></span
                >
                <form method="post" action="/desk/sign-out" class="desk-sign-out">
                  <input type="hidden" name="csrf" value="${shell.editor.csrfToken}" />
                  <button type="submit" class="button">Sign out</button>
                </form>`
        }
      </header>
      ${shell.main}
    </body>
  </html>`.toString()}\n`;
}

export function signInPage(options: { csrf: string; error?: string }): string {
  const invalid = options.error !== undefined;
  return documentOf({
    title: 'Sign in: Storyline desk',
    main: html`<main id="content" class="desk desk-narrow">
      <h1>Sign in to the desk</h1>
      <form method="post" action="/desk/sign-in" class="desk-form" novalidate>
        <input type="hidden" name="csrf" value="${options.csrf}" />
        <div class="field">
          <label for="token">Publish token</label>
          <input
            id="token"
            name="token"
            type="password"
            autocomplete="current-password"
            spellcheck="false"
            aria-describedby="token-hint token-error"
            ${invalid ? html`aria-invalid="true"` : ''}
          />
          <p class="hint" id="token-hint">
            From <code>storyline tokens create &lt;your-name&gt;</code>. It is checked once; the
            browser keeps only a session.
          </p>
          ${fieldError('token-error', options.error)}
        </div>
        <button type="submit" class="button button-primary">Sign in</button>
      </form>
    </main>`,
  });
}

export interface Editor {
  readonly name: string;
  readonly csrfToken: string;
}

export function storyListPage(editor: Editor, stories: readonly StoryListItem[]): string {
  const ordered = [...stories].sort(
    (a, b) =>
      Number(b.status === 'live') - Number(a.status === 'live') ||
      Date.parse(b.updatedAt) - Date.parse(a.updatedAt),
  );
  return documentOf({
    title: 'Stories: Storyline desk',
    editor,
    main: html`<main id="content" class="desk">
      <div class="desk-title-row">
        <h1>Stories</h1>
        <a class="button button-primary" href="/desk/new">New story</a>
      </div>
      ${
        ordered.length === 0
          ? html`<p>No stories yet. Open one with “New story”.</p>`
          : html`<ol class="story-list desk-story-list">
              ${ordered.map(
                (story) =>
                  html`<li class="story-card">
                    <p class="story-card-meta">
                      ${statusBadge(story.status)}
                      <span>Updated ${storyTime(story.updatedAt, 'UTC')}</span>
                    </p>
                    <h2><a href="/desk/stories/${story.storyId}">${story.title}</a></h2>
                  </li>`,
              )}
            </ol>`
      }
    </main>`,
  });
}

export interface NewStoryForm {
  readonly title?: string;
  readonly summary?: string;
  readonly timeZone?: string;
  readonly tags?: string;
}

export function newStoryPage(
  editor: Editor,
  values: NewStoryForm = {},
  errors: Readonly<Record<string, string>> = {},
): string {
  const field = (
    name: keyof NewStoryForm,
    label: string,
    input: (describedBy: string) => Html,
    hint?: string,
  ) =>
    html`<div class="field">
      <label for="story-${name}">${label}</label>
      ${input(`${hint === undefined ? '' : `story-${name}-hint `}story-${name}-error`)}
      ${hint === undefined ? '' : html`<p class="hint" id="story-${name}-hint">${hint}</p>`}
      ${fieldError(`story-${name}-error`, errors[name])}
    </div>`;
  const invalid = (name: string) => (errors[name] === undefined ? '' : html`aria-invalid="true"`);
  return documentOf({
    title: 'New story: Storyline desk',
    editor,
    script: true,
    main: html`<main id="content" class="desk desk-narrow">
      <p><a href="/desk">← Stories</a></p>
      <h1>New story</h1>
      ${
        errors['form'] === undefined
          ? ''
          : html`<p class="form-error" role="alert">${errors['form']}</p>`
      }
      <form method="post" action="/desk/stories" class="desk-form" id="new-story" novalidate>
        <input type="hidden" name="csrf" value="${editor.csrfToken}" />
        ${field(
          'title',
          'Title',
          (describedBy) =>
            html`<input
              id="story-title"
              name="title"
              value="${values.title ?? ''}"
              aria-describedby="${describedBy}"
              ${invalid('title')}
            />`,
        )}
        ${field(
          'summary',
          'Summary',
          (describedBy) =>
            html`<textarea
              id="story-summary"
              name="summary"
              rows="3"
              aria-describedby="${describedBy}"
              ${invalid('summary')}
            >
${values.summary ?? ''}</textarea>`,
        )}
        ${field(
          'timeZone',
          'Time zone',
          (describedBy) =>
            html`<input
              id="story-timeZone"
              name="timeZone"
              value="${values.timeZone ?? ''}"
              placeholder="Europe/Moscow"
              data-default-from-browser="${values.timeZone === undefined ? 'yes' : 'no'}"
              aria-describedby="${describedBy}"
              ${invalid('timeZone')}
            />`,
          'An IANA zone such as Europe/Kyiv; times on the story are shown in it. Yours is filled in.',
        )}
        ${field(
          'tags',
          'Tags',
          (describedBy) =>
            html`<input
              id="story-tags"
              name="tags"
              value="${values.tags ?? ''}"
              aria-describedby="${describedBy}"
              ${invalid('tags')}
            />`,
          'Separated by commas.',
        )}
        <button type="submit" class="button button-primary">Open story</button>
      </form>
    </main>`,
  });
}

export interface StoryDeskInput {
  readonly editor: Editor;
  readonly projection: StoryProjection;
  readonly head: number;
  readonly epoch: string;
  readonly kinds: readonly string[];
}

/** A story's desk. Everything interactive is wired by the desk script. */
export function storyDeskPage(input: StoryDeskInput): string {
  const { editor, projection, kinds } = input;
  const { story, timeline } = projection;
  const newestFirst = [...timeline].reverse();
  return documentOf({
    title: `${story.title}: Storyline desk`,
    editor,
    script: true,
    main: html`<main
      id="content"
      class="desk desk-story"
      data-story="${story.storyId}"
      data-position="${input.head}"
      data-story-position="${story.position}"
      data-version="${story.version}"
      data-epoch="${input.epoch}"
      data-time-zone="${story.timeZone}"
      data-editor="${editor.name}"
    >
      <p class="desk-crumbs">
        <a href="/desk">← Stories</a> ·
        <a href="/stories/${story.storyId}" target="_blank" rel="noopener">Public page</a>
      </p>
      <header class="desk-story-header">
        <h1>${story.title}</h1>
        <p id="${deskIds.storyLine}" class="desk-story-line">
          ${statusBadge(story.status)} <span>Version ${story.version}</span>
        </p>
        <p class="connection" id="${deskIds.connection}" data-state="connecting">
          <span class="connection-dot" aria-hidden="true"></span>
          <span class="connection-text">Connecting…</span>
        </p>
        <p class="hint">Times are ${zoneLabel(story.timeZone)} time (${story.timeZone}).</p>
      </header>
      <div id="${deskIds.activity}" class="desk-activity" aria-live="polite"></div>
      <div class="desk-layout">
        <div class="desk-main">
          <section class="desk-panel" aria-labelledby="compose-heading">
            <h2 id="compose-heading">New update</h2>
            ${composeForm(kinds, story.timeZone)}
          </section>
          <section
            class="desk-panel"
            aria-labelledby="pending-heading"
            id="${deskIds.pending}"
            hidden
          >
            <h2 id="pending-heading">Waiting to publish</h2>
            <ul id="${deskIds.pendingList}"></ul>
          </section>
          <section class="desk-panel" aria-labelledby="entries-heading">
            <h2 id="entries-heading">Updates</h2>
            <ol id="${deskIds.entries}" class="desk-entries">
              ${newestFirst.map((entry) => deskEntry(entry, projection))}
            </ol>
          </section>
        </div>
        <div class="desk-side">
          <section class="desk-panel" aria-labelledby="drafts-heading">
            <h2 id="drafts-heading">Drafts and scheduled</h2>
            <p id="${deskIds.draftsStatus}" class="hint"></p>
            <ul id="${deskIds.drafts}" class="desk-drafts"></ul>
          </section>
          <section class="desk-panel" aria-labelledby="story-tools-heading">
            <h2 id="story-tools-heading">Story</h2>
            ${storyTools(projection)}
          </section>
        </div>
      </div>
    </main>`,
  });
}

/** The compose form's fields; the correction form is the same, prefilled, plus note and severity. */
function composeForm(kinds: readonly string[], timeZone: string): Html {
  return html`<form id="${deskIds.compose}" class="desk-form compose" novalidate>
    ${developmentFields('compose', kinds, timeZone)}
    <p class="form-error" role="alert" hidden></p>
    <div class="button-row">
      <button type="submit" class="button button-primary" name="action" value="publish">
        Publish
      </button>
      <button type="button" class="button" data-action="save-draft">Save draft</button>
      <span class="schedule-group">
        <label for="compose-publishAt">Publish at</label>
        <input id="compose-publishAt" name="publishAt" type="datetime-local" step="1" />
        <button type="button" class="button" data-action="schedule">Schedule</button>
      </span>
    </div>
    <p class="hint">Ctrl+Enter publishes.</p>
    <section class="preview" aria-labelledby="compose-preview-heading">
      <h3 id="compose-preview-heading">Preview</h3>
      <ol class="timeline-entries" data-preview></ol>
    </section>
  </form>`;
}

function storyTools({ story, timeline }: StoryProjection): Html {
  return html`<form id="${deskIds.statusForm}" class="desk-form" novalidate>
      <div class="field">
        <label for="story-status-select">Status</label>
        <select id="story-status-select" name="status">
          ${(
            [
              ['live', 'Live'],
              ['paused', 'Paused'],
              ['closed', 'Closed (coverage ended)'],
            ] as const
          ).map(
            ([status, label]) =>
              html`<option value="${status}" ${status === story.status ? 'selected' : ''}>
                ${label}
              </option>`,
          )}
        </select>
      </div>
      <p class="form-error" role="alert" hidden></p>
      <button type="submit" class="button">Set status</button>
    </form>
    <form id="${deskIds.keyPointsForm}" class="desk-form" novalidate>
      <div class="field">
        <label for="key-points-input">Key points</label>
        <textarea
          id="key-points-input"
          name="keyPoints"
          rows="5"
          aria-describedby="key-points-hint key-points-keyPoints-error"
        >
${story.keyPoints.join('\n')}</textarea>
        <p class="hint" id="key-points-hint">One a line: the story's summary for readers.</p>
        ${fieldError('key-points-keyPoints-error', undefined)}
      </div>
      <p class="form-error" role="alert" hidden></p>
      <button type="submit" class="button">Revise key points</button>
    </form>
    <p class="hint">${timeline.length} updates.</p>`;
}
