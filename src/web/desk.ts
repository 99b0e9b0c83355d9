/**
 * The desk's browser script (bundled by the server, served as /assets/desk.js).
 *
 * A story's desk follows the story live through the client SDK, like the public page, and
 * redraws each entry with the public markup when it changes, keeping any form an editor has
 * open under it. Every action is an append to `/v1/stories/{id}/events`, made with the session
 * cookie and the page's CSRF token.
 *
 * Two promises hold the desk together:
 * - Nothing is published twice. Each action gets its event ids here, before it is sent, and is
 *   kept in sessionStorage until the server answers it; a network failure, a 5xx or a 429 sends
 *   the same events, with the same ids, again (after a backoff, when the browser is back online,
 *   or when the page is opened again), and the server answers a repeat with the original result.
 * - Nothing is overwritten silently. An action on something that exists (correct, retract, pin,
 *   dispute, key points, status) carries the story version the editor saw when they began it.
 *   If a colleague changed the story since, the server answers 409 `version_conflict`; the desk
 *   then lists what changed in between, keeps every field as the editor left it, and publishes
 *   only when the editor asks again. A correction sends only the fields the editor changed, so
 *   a colleague's change to another field is never undone.
 */
import { subscribe, type LiveStatus } from '../client/index.ts';
import type { NewEvent, RecordedEvent } from '../domain/event-types.ts';
import type { StoryProjection, TimelineEntry } from '../domain/story-view.ts';
import {
  conflictNotice,
  correctionForm,
  correctionPreview,
  deskEntry,
  deskEntryActions,
  deskIds,
  developmentFieldNames,
  disputeForm,
  draftItem,
  pendingItem,
  retractionForm,
  type DraftView,
  type FieldChange,
} from './desk-markup.ts';
import { localInputValue, zonedInstant } from './desk-times.ts';
import type { Html } from './html.ts';
import { entryKey, renderEntry, statusBadge } from './story-markup.ts';
import { formatInZone } from './times.ts';

type Fields = Record<string, string | boolean>;

interface ApiAnswer {
  readonly status: number;
  readonly body: {
    error?: {
      code?: string;
      message?: string;
      actualVersion?: number;
      issues?: { path: string; message: string }[];
    };
    [key: string]: unknown;
  };
}

const csrfToken = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '';

async function api(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: {
      Accept: 'application/json',
      'X-CSRF-Token': csrfToken,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  let parsed: ApiAnswer['body'] = {};
  try {
    parsed = (await response.json()) as ApiAnswer['body'];
  } catch {
    // A proxy's HTML error page, or nothing: the status says enough.
  }
  return { status: response.status, body: parsed };
}

/** A random UUID, also where `crypto.randomUUID` is missing (plain http on another host). */
function uuid(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function newDevelopmentId(headline: string): string {
  const slug = headline
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/g, '');
  const suffix = uuid().slice(0, 8);
  return slug === '' ? `u-${suffix}` : `${slug}-${suffix}`;
}

const setHtml = (element: Element, markup: Html | string) => {
  element.innerHTML = markup.toString();
};

/**
 * A preview is the public markup of an entry that does not exist yet: named by its section, not
 * by its headline, so it is not mistaken for a field or an entry.
 */
const setPreview = (element: Element, markup: Html) => {
  setHtml(element, markup);
  for (const labelled of Array.from(element.querySelectorAll('[aria-labelledby]'))) {
    labelled.removeAttribute('aria-labelledby');
  }
};

function fieldsOf(form: HTMLFormElement): Fields {
  const fields: Fields = {};
  for (const element of Array.from(form.elements)) {
    if (
      element instanceof HTMLInputElement ||
      element instanceof HTMLTextAreaElement ||
      element instanceof HTMLSelectElement
    ) {
      if (element.name === '' || element.type === 'hidden') continue;
      if (element instanceof HTMLInputElement && element.type === 'checkbox') {
        fields[element.name] = element.checked;
      } else if (element instanceof HTMLInputElement && element.type === 'radio') {
        if (element.checked) fields[element.name] = element.value;
      } else {
        fields[element.name] = element.value;
      }
    }
  }
  return fields;
}

function fillForm(form: HTMLFormElement, fields: Fields): void {
  for (const [name, value] of Object.entries(fields)) {
    const element = form.elements.namedItem(name);
    if (element instanceof HTMLInputElement && element.type === 'checkbox') {
      element.checked = value === true;
    } else if (element instanceof RadioNodeList) {
      element.value = String(value);
    } else if (element instanceof HTMLSelectElement) {
      // The vocabulary of kinds is open: an entry's own kind is offered even if not listed.
      const wanted = String(value);
      if (!Array.from(element.options).some((option) => option.value === wanted)) {
        element.add(new Option(wanted.replace(/_/g, ' '), wanted));
      }
      element.value = wanted;
    } else if (element instanceof HTMLInputElement || element instanceof HTMLTextAreaElement) {
      element.value = String(value);
    }
  }
}

const text = (fields: Fields, name: string): string => {
  const value = fields[name];
  return typeof value === 'string' ? value.trim() : '';
};

/** "Name, role" a line. */
function actorsOf(value: string) {
  return value
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const comma = line.indexOf(',');
      if (comma < 0) return { name: line };
      const name = line.slice(0, comma).trim();
      const role = line.slice(comma + 1).trim();
      return role === '' ? { name } : { name, role };
    });
}

const actorsText = (actors: TimelineEntry['actors']) =>
  actors
    .map((actor) => (actor.role === undefined ? actor.name : `${actor.name}, ${actor.role}`))
    .join('\n');

/** "Name https://…" a line; a bare link is named by its host. */
function sourcesOf(value: string) {
  return value
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const match = /^(.*?)\s*(\S+:\/\/\S+)$/.exec(line);
      if (match === null) return { name: line };
      const url = match[2] ?? '';
      let name = (match[1] ?? '').trim();
      if (name === '') {
        try {
          name = new URL(url).host;
        } catch {
          name = url;
        }
      }
      return { name, url };
    });
}

const sourcesText = (sources: TimelineEntry['sources']) =>
  sources
    .map((source) => (source.url === undefined ? source.name : `${source.name} ${source.url}`))
    .join('\n');

/** The development a form describes, as a report's data (without its id). */
function developmentData(fields: Fields) {
  const actors = actorsOf(text(fields, 'actors'));
  const sources = sourcesOf(text(fields, 'sources'));
  const body = text(fields, 'body');
  const location = text(fields, 'location');
  return {
    kind: text(fields, 'kind'),
    headline: text(fields, 'headline'),
    ...(body === '' ? {} : { body }),
    ...(actors.length === 0 ? {} : { actors }),
    ...(location === '' ? {} : { location }),
    ...(sources.length === 0 ? {} : { sources }),
    ...(fields['keyEvent'] === true ? { keyEvent: true } : {}),
  };
}

/** The form's values for an entry, as the correction form is prefilled. */
function entryFields(entry: TimelineEntry, timeZone: string): Fields {
  return {
    headline: entry.headline,
    body: entry.body ?? '',
    kind: entry.kind,
    occurredAt: localInputValue(entry.occurredAt, timeZone),
    actors: actorsText(entry.actors),
    location: entry.location ?? '',
    sources: sourcesText(entry.sources),
    keyEvent: entry.keyEvent,
  };
}

const fieldLabels: Readonly<Record<string, string>> = {
  headline: 'Headline',
  body: 'Body',
  kind: 'Kind',
  occurredAt: 'Occurred at',
  actors: 'Actors',
  location: 'Location',
  sources: 'Sources',
  keyEvent: 'Key event',
};

/**
 * Shows the server's validation messages next to their fields: each issue's path names the field
 * (`events.0.data.headline`, `events.0.data.changes.body`, `events.0.occurredAt`); the rest go
 * to the form's own error line.
 */
function showErrors(form: HTMLFormElement, answer: ApiAnswer | null, fallback?: string): void {
  clearErrors(form);
  const prefix = form.dataset['prefix'] ?? '';
  const message = answer?.body.error?.message ?? fallback ?? 'Something went wrong.';
  const unplaced: string[] = [];
  const issues = answer?.body.error?.issues ?? [];
  let first: HTMLElement | null = null;
  for (const issue of issues) {
    const segments = issue.path.split('.');
    const field = [...segments]
      .reverse()
      .find((segment) => form.elements.namedItem(segment) !== null);
    const slot = field === undefined ? null : document.getElementById(`${prefix}-${field}-error`);
    if (field === undefined || slot === null) {
      unplaced.push(issue.message);
      continue;
    }
    slot.textContent = issue.message;
    slot.hidden = false;
    const input = form.elements.namedItem(field);
    if (input instanceof HTMLElement) {
      input.setAttribute('aria-invalid', 'true');
      first ??= input;
    }
  }
  if (issues.length === 0 || unplaced.length > 0) {
    const line = form.querySelector<HTMLElement>(':scope > .form-error');
    if (line !== null) {
      line.textContent = issues.length === 0 ? message : unplaced.join(' ');
      line.hidden = false;
    }
  }
  first?.focus();
}

function clearErrors(form: HTMLFormElement): void {
  for (const slot of Array.from(form.querySelectorAll<HTMLElement>('.field-error, .form-error'))) {
    slot.textContent = '';
    slot.hidden = true;
  }
  for (const input of Array.from(form.querySelectorAll('[aria-invalid]'))) {
    input.removeAttribute('aria-invalid');
  }
}

/** An action waiting for the server's answer, kept across reloads with its event ids. */
interface Pending {
  readonly key: string;
  /** Which form it came from (`compose`, `correct:<id>`…), to report back to. */
  readonly formKey: string;
  readonly label: string;
  readonly body: { readonly expectedVersion?: number; readonly events: NewEvent[] };
  /** The form's values, to put back should the server refuse it after a reload. */
  readonly fields: Fields;
  /** The story position the action was based on (for the conflict report). */
  readonly basePosition: number;
  state: string;
}

class PendingStore {
  readonly #key: string;
  readonly #items = new Map<string, Pending>();

  constructor(storyId: string) {
    this.#key = `storyline-desk:pending:${storyId}`;
    try {
      const saved = JSON.parse(sessionStorage.getItem(this.#key) ?? '[]') as Pending[];
      for (const item of saved) this.#items.set(item.key, { ...item, state: 'sending again' });
    } catch {
      // Nothing usable was kept.
    }
  }

  get items(): Pending[] {
    return [...this.#items.values()];
  }

  has(formKey: string): boolean {
    return this.items.some((item) => item.formKey === formKey);
  }

  put(item: Pending): void {
    this.#items.set(item.key, item);
    this.#save();
  }

  remove(key: string): void {
    this.#items.delete(key);
    this.#save();
  }

  #save(): void {
    sessionStorage.setItem(this.#key, JSON.stringify(this.items));
  }
}

function startStoryDesk(root: HTMLElement): void {
  const storyId = root.dataset['story'] ?? '';
  const timeZone = root.dataset['timeZone'] ?? 'UTC';
  const editor = root.dataset['editor'] ?? '';
  const compose = document.getElementById(deskIds.compose) as HTMLFormElement;
  compose.dataset['prefix'] = 'compose';
  const kinds = Array.from(
    compose.querySelectorAll<HTMLOptionElement>('select[name="kind"] option'),
  ).map((option) => option.value);
  const entriesList = document.getElementById(deskIds.entries) as HTMLOListElement;
  const activity = document.getElementById(deskIds.activity) as HTMLElement;
  const pending = new PendingStore(storyId);
  let state: StoryProjection | null = null;
  /** The story's version and position as the server last told us (SDK state or an answer). */
  let known = {
    version: Number(root.dataset['version'] ?? '0'),
    position: Number(root.dataset['storyPosition'] ?? '0'),
  };

  const entryOf = (developmentId: string) =>
    state?.timeline.find((entry) => entry.developmentId === developmentId) ?? null;

  // ---- live ---------------------------------------------------------------------------------

  const connection = document.getElementById(deskIds.connection) as HTMLElement;
  const connectionText: Record<LiveStatus, [string, string]> = {
    connecting: ['connecting', 'Connecting…'],
    live: ['live', 'Live'],
    recovering: ['reconnecting', 'Reconnecting…'],
    offline: ['offline', 'Offline'],
  };

  subscribe(window.location.origin, {
    stories: [storyId],
    onSnapshot: (_id, snapshot) => {
      if (snapshot !== null) draw(snapshot);
    },
    onEvent: (event, next) => {
      if (next !== null) draw(next);
      const author = typeof event.metadata['author'] === 'string' ? event.metadata['author'] : '';
      if (author !== editor) note(describe(event, next, true));
      if (event.type === 'development.reported') void refreshDrafts();
    },
    onStatus: (status) => {
      const [value, label] = connectionText[status];
      connection.dataset['state'] = value;
      const textNode = connection.querySelector('.connection-text');
      if (textNode !== null) textNode.textContent = label;
      if (status === 'live') resendAll();
    },
  });

  function note(line: string): void {
    const item = document.createElement('p');
    item.textContent = line;
    activity.prepend(item);
    while (activity.childElementCount > 5) activity.lastElementChild?.remove();
  }

  function draw(next: StoryProjection): void {
    state = next;
    if (next.story.version >= known.version) {
      known = { version: next.story.version, position: next.story.position };
    }
    const line = document.getElementById(deskIds.storyLine);
    if (line !== null) {
      setHtml(
        line,
        `${statusBadge(next.story.status).toString()} <span>Version ${next.story.version}</span>`,
      );
    }
    // The story's own fields follow the story, unless an editor is changing them.
    const statusForm = document.getElementById(deskIds.statusForm) as HTMLFormElement | null;
    const statusSelect = statusForm?.elements.namedItem('status');
    if (
      statusForm?.dataset['baseVersion'] === undefined &&
      statusSelect instanceof HTMLSelectElement
    ) {
      statusSelect.value = next.story.status;
    }
    const keyPointsForm = document.getElementById(deskIds.keyPointsForm) as HTMLFormElement | null;
    const keyPoints = keyPointsForm?.elements.namedItem('keyPoints');
    if (
      keyPointsForm?.dataset['baseVersion'] === undefined &&
      keyPoints instanceof HTMLTextAreaElement
    ) {
      keyPoints.value = next.story.keyPoints.join('\n');
    }
    const newestFirst = [...next.timeline].reverse();
    newestFirst.forEach((entry, index) => {
      let item = entriesList.querySelector<HTMLLIElement>(
        `:scope > li[data-development-id="${CSS.escape(entry.developmentId)}"]`,
      );
      if (item === null) {
        const holder = document.createElement('ol');
        setHtml(holder, deskEntry(entry, next));
        item = holder.firstElementChild as HTMLLIElement;
      } else if (item.dataset['key'] !== entryKey(entry, next.story)) {
        const view = item.querySelector('.desk-entry-view');
        const actions = item.querySelector('.desk-entry-actions');
        if (view !== null) setHtml(view, renderEntry(entry, next.story));
        if (actions !== null) setHtml(actions, deskEntryActions(entry, next.story));
        if (entry.retracted !== null) item.querySelector('.desk-entry-panel')?.replaceChildren();
      }
      item.dataset['key'] = entryKey(entry, next.story);
      const at = entriesList.children[index];
      if (at !== item) entriesList.insertBefore(item, at ?? null);
    });
    for (const form of Array.from(
      entriesList.querySelectorAll<HTMLFormElement>('form[data-form="correct"]'),
    )) {
      updateCorrectionPreview(form);
    }
  }

  /** One line about an event, for the activity log and conflict notices. */
  function describe(event: RecordedEvent, after: StoryProjection | null, live = false): string {
    const author =
      typeof event.metadata['author'] === 'string' ? event.metadata['author'] : 'Someone';
    const headline = (id: string) =>
      `“${(after?.timeline.find((entry) => entry.developmentId === id) ?? entryOf(id))?.headline ?? id}”`;
    const prefix = live ? `${author} ` : `${author} `;
    switch (event.type) {
      case 'story.opened':
        return `${prefix}opened the story`;
      case 'development.reported':
        return `${prefix}published “${event.data.headline}”`;
      case 'development.corrected': {
        const changed = Object.entries(event.data.changes).map(
          ([field, value]) =>
            `${(fieldLabels[field] ?? field).toLowerCase()} → ${valueText(field, value)}`,
        );
        return `${prefix}corrected ${headline(event.data.developmentId)}: ${changed.join('; ')} (${event.data.note})`;
      }
      case 'development.retracted':
        return `${prefix}retracted ${headline(event.data.developmentId)}: ${event.data.reason}`;
      case 'development.pinned':
        return `${prefix}pinned ${headline(event.data.developmentId)}`;
      case 'development.unpinned':
        return `${prefix}unpinned ${headline(event.data.developmentId)}`;
      case 'claim.disputed':
        return `${prefix}added a dispute by ${event.data.by} to ${headline(event.data.developmentId)}`;
      case 'summary.revised':
        return `${prefix}revised the key points`;
      case 'story.status_changed':
        return `${prefix}set the status to ${event.data.status}`;
    }
  }

  function valueText(field: string, value: unknown): string {
    if (value === undefined || value === null || value === '') return '(none)';
    if (field === 'occurredAt' && typeof value === 'string')
      return formatInZone(value, timeZone, Date.now());
    if (typeof value === 'string') return `“${value}”`;
    if (typeof value === 'boolean') return value ? 'yes' : 'no';
    if (Array.isArray(value)) {
      return value
        .map((item: unknown) =>
          typeof item === 'object' && item !== null && 'name' in item ? String(item.name) : '',
        )
        .join(', ');
    }
    return JSON.stringify(value);
  }

  // ---- sending, with retries and conflicts -------------------------------------------------

  const retryTimers = new Map<string, ReturnType<typeof setTimeout>>();
  const attempts = new Map<string, number>();

  function drawPending(): void {
    const section = document.getElementById(deskIds.pending);
    const list = document.getElementById(deskIds.pendingList);
    if (section === null || list === null) return;
    const items = pending.items;
    section.hidden = items.length === 0;
    setHtml(
      list,
      items
        .map((item) =>
          pendingItem({ key: item.key, label: item.label, state: item.state }).toString(),
        )
        .join(''),
    );
  }

  function formFor(formKey: string): HTMLFormElement | null {
    return document.querySelector<HTMLFormElement>(`form[data-form-key="${CSS.escape(formKey)}"]`);
  }

  function queue(item: Omit<Pending, 'state'>): void {
    const full: Pending = { ...item, state: 'sending' };
    pending.put(full);
    drawPending();
    void send(full);
  }

  function resendAll(): void {
    for (const item of pending.items) {
      if (retryTimers.has(item.key)) {
        clearTimeout(retryTimers.get(item.key));
        retryTimers.delete(item.key);
        void send(item);
      }
    }
  }

  const inFlight = new Set<string>();

  async function send(item: Pending): Promise<void> {
    if (inFlight.has(item.key)) return;
    inFlight.add(item.key);
    let answer: ApiAnswer | null = null;
    try {
      answer = await api('POST', `/v1/stories/${encodeURIComponent(storyId)}/events`, item.body);
    } catch {
      answer = null;
    } finally {
      inFlight.delete(item.key);
    }
    const form = formFor(item.formKey);
    if (answer === null || answer.status >= 500 || answer.status === 429 || answer.status === 408) {
      const attempt = (attempts.get(item.key) ?? 0) + 1;
      attempts.set(item.key, attempt);
      item.state = `not acknowledged yet; trying again (attempt ${attempt + 1})`;
      drawPending();
      const delay = Math.min(15_000, 500 * 2 ** attempt);
      retryTimers.set(
        item.key,
        setTimeout(() => {
          retryTimers.delete(item.key);
          void send(item);
        }, delay),
      );
      return;
    }
    attempts.delete(item.key);
    pending.remove(item.key);
    drawPending();
    if (answer.status === 200 || answer.status === 201) {
      const version = Number(answer.body['version']);
      if (Number.isFinite(version) && version > known.version) known = { ...known, version };
      if (form !== null) succeeded(form);
      return;
    }
    // Refused: nothing was published. The editor's text goes back where it came from.
    let target = form;
    if (target === null && item.formKey === 'compose') target = compose;
    if (target === null) {
      note(
        `Not published: ${item.label}: ${answer.body.error?.message ?? `HTTP ${answer.status}`}`,
      );
      return;
    }
    if (target === compose && form === null) fillForm(compose, item.fields);
    setBusy(target, false);
    if (answer.body.error?.code === 'version_conflict') {
      await showConflict(target, item.basePosition, answer.body.error.actualVersion);
    } else {
      showErrors(target, answer);
    }
  }

  function setBusy(form: HTMLFormElement, busy: boolean): void {
    form.setAttribute('aria-busy', String(busy));
    for (const button of Array.from(
      form.querySelectorAll<HTMLButtonElement>('button[type="submit"]'),
    )) {
      button.disabled = busy;
    }
  }

  /** The form an editor began: the version and position of the story it was based on. */
  function baseOf(form: HTMLFormElement): { version: number; position: number } {
    const version = form.dataset['baseVersion'];
    const position = form.dataset['basePosition'];
    if (version === undefined || position === undefined) return known;
    return { version: Number(version), position: Number(position) };
  }

  function setBase(form: HTMLFormElement, base: { version: number; position: number }): void {
    form.dataset['baseVersion'] = String(base.version);
    form.dataset['basePosition'] = String(base.position);
  }

  async function showConflict(
    form: HTMLFormElement,
    basePosition: number,
    actual?: number,
  ): Promise<void> {
    let lines: string[] = [];
    let position = basePosition;
    try {
      const answer = await api(
        'GET',
        `/v1/stories/${encodeURIComponent(storyId)}/events?after=${basePosition}&limit=100`,
      );
      const events = (answer.body['events'] ?? []) as RecordedEvent[];
      lines = events.map((event) => describe(event, state));
      position = events.at(-1)?.position ?? position;
    } catch {
      lines = ['(the changes could not be loaded: check the updates below)'];
    }
    if (lines.length === 0) lines = ['(changes the desk has not received yet)'];
    // The next attempt is based on what the editor has now been shown.
    setBase(form, { version: actual ?? known.version, position });
    const box = form.querySelector<HTMLElement>('.conflict');
    const verb =
      form.querySelector<HTMLButtonElement>('button[type="submit"]')?.textContent.trim() ??
      'publish';
    if (box !== null) {
      setHtml(box, conflictNotice(lines, `“${verb}”`));
      box.hidden = false;
    } else {
      showErrors(
        form,
        null,
        `The story changed while you were working: ${lines.join('; ')}. Try again to publish over it.`,
      );
    }
    if (form.dataset['form'] === 'correct') updateCorrectionPreview(form);
  }

  function succeeded(form: HTMLFormElement): void {
    setBusy(form, false);
    clearErrors(form);
    delete form.dataset['baseVersion'];
    delete form.dataset['basePosition'];
    if (form === compose) {
      compose.reset();
      compose.dataset['occurredTouched'] = '';
      setNow();
      updateComposePreview();
      return;
    }
    const panel = form.closest('.desk-entry-panel');
    if (panel !== null) {
      const item = panel.closest('li');
      panel.replaceChildren();
      item?.querySelector<HTMLButtonElement>('.desk-entry-actions button')?.focus();
    }
  }

  // ---- compose ------------------------------------------------------------------------------

  compose.dataset['formKey'] = 'compose';
  const occurred = compose.elements.namedItem('occurredAt') as HTMLInputElement;
  const setNow = () => {
    occurred.value = localInputValue(Date.now(), timeZone);
  };
  setNow();
  occurred.addEventListener('input', () => {
    compose.dataset['occurredTouched'] = 'yes';
  });

  function composeEvent(fields: Fields): NewEvent | string {
    const data = {
      developmentId: newDevelopmentId(text(fields, 'headline')),
      ...developmentData(fields),
    };
    let occurredAt: string | null = null;
    if (compose.dataset['occurredTouched'] === 'yes' && text(fields, 'occurredAt') !== '') {
      occurredAt = zonedInstant(text(fields, 'occurredAt'), timeZone);
      if (occurredAt === null) return 'Occurred at is not a date and time.';
    }
    return {
      id: uuid(),
      type: 'development.reported',
      data,
      ...(occurredAt === null ? {} : { occurredAt }),
    };
  }

  function previewEntry(fields: Fields, occurredAt: string): TimelineEntry {
    const data = developmentData(fields);
    return {
      developmentId: 'compose-preview',
      kind: data.kind || 'statement',
      headline: data.headline || 'Headline',
      body: data.body ?? null,
      actors: data.actors ?? [],
      location: data.location ?? null,
      sources: data.sources ?? [],
      quote: null,
      keyEvent: data.keyEvent === true,
      occurredAt,
      reportedAt: occurredAt,
      reportedPosition: 0,
      updatedAt: occurredAt,
      updatedPosition: 0,
      retracted: null,
      corrections: [],
      disputes: [],
    };
  }

  function updateComposePreview(): void {
    const list = compose.querySelector('[data-preview]');
    if (list === null || state === null) return;
    const fields = fieldsOf(compose);
    const when = zonedInstant(text(fields, 'occurredAt'), timeZone) ?? new Date().toISOString();
    setPreview(list, renderEntry(previewEntry(fields, when), state.story));
  }

  compose.addEventListener('input', updateComposePreview);
  compose.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      compose.requestSubmit();
    }
  });
  compose.addEventListener('submit', (event) => {
    event.preventDefault();
    if (pending.has('compose')) return;
    const fields = fieldsOf(compose);
    const built = composeEvent(fields);
    if (typeof built === 'string') {
      showErrors(compose, null, built);
      return;
    }
    clearErrors(compose);
    setBusy(compose, true);
    queue({
      key: built.id ?? uuid(),
      formKey: 'compose',
      label: `“${text(fields, 'headline') || 'untitled'}”`,
      body: { events: [built] },
      fields,
      basePosition: known.position,
    });
  });

  // ---- drafts and scheduling ----------------------------------------------------------------

  const draftsList = document.getElementById(deskIds.drafts) as HTMLUListElement;
  const draftsStatus = document.getElementById(deskIds.draftsStatus) as HTMLElement;
  const draftsPath = `/v1/stories/${encodeURIComponent(storyId)}/drafts`;

  async function refreshDrafts(): Promise<void> {
    let answer: ApiAnswer;
    try {
      // Failed ones too, with why: the editor decides what to do with them.
      answer = await api('GET', `${draftsPath}?status=draft,scheduled,publishing,failed`);
    } catch {
      draftsStatus.textContent = 'Drafts could not be loaded; retrying.';
      return;
    }
    if (answer.status === 404 && answer.body.error?.code === 'route_not_found') {
      draftsStatus.textContent = 'This server does not keep drafts.';
      return;
    }
    if (answer.status !== 200) {
      draftsStatus.textContent = answer.body.error?.message ?? `Drafts: HTTP ${answer.status}`;
      return;
    }
    const drafts = ((answer.body['drafts'] ?? []) as RawDraft[])
      .filter((draft) => draft.status !== 'published' && draft.status !== 'cancelled')
      .map(draftView);
    draftsStatus.textContent = drafts.length === 0 ? 'None.' : '';
    setHtml(
      draftsList,
      drafts
        .map((draft) =>
          draftItem(draft, timeZone, (iso) => formatInZone(iso, timeZone, Date.now())).toString(),
        )
        .join(''),
    );
  }

  async function saveDraft(publishAt: string | null): Promise<void> {
    const fields = fieldsOf(compose);
    const built = composeEvent(fields);
    if (typeof built === 'string') {
      showErrors(compose, null, built);
      return;
    }
    const answer = await api('POST', draftsPath, {
      events: [built],
      ...(publishAt === null ? {} : { publishAt }),
    }).catch(() => null);
    if (answer === null || answer.status >= 300) {
      showErrors(compose, answer, 'The draft could not be saved: try again.');
      return;
    }
    succeeded(compose);
    await refreshDrafts();
  }

  compose
    .querySelector('[data-action="save-draft"]')
    ?.addEventListener('click', () => void saveDraft(null));
  compose.querySelector('[data-action="schedule"]')?.addEventListener('click', () => {
    const at = zonedInstant(
      (compose.elements.namedItem('publishAt') as HTMLInputElement).value,
      timeZone,
    );
    if (at === null) {
      const slot = document.getElementById('compose-publishAt-error');
      showErrors(compose, null, 'Choose when to publish (Publish at) first.');
      slot?.removeAttribute('hidden');
      return;
    }
    void saveDraft(at);
  });

  draftsList.addEventListener('click', (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>(
      'button[data-draft-action]',
    );
    if (button === null) return;
    const id = button.closest<HTMLElement>('[data-draft-id]')?.dataset['draftId'];
    if (id === undefined) return;
    button.disabled = true;
    const path = `${draftsPath}/${encodeURIComponent(id)}`;
    const request =
      button.dataset['draftAction'] === 'publish'
        ? api('POST', `${path}/publish`, {})
        : api('DELETE', path);
    void request
      .then((answer) => {
        if (answer.status >= 300)
          draftsStatus.textContent = answer.body.error?.message ?? `HTTP ${answer.status}`;
      })
      .catch(() => {
        draftsStatus.textContent = 'Not done: the server could not be reached. Try again.';
      })
      .finally(() => void refreshDrafts());
  });

  void refreshDrafts();
  // Scheduled drafts publish on the server; the list follows what it did.
  setInterval(() => void refreshDrafts(), 5000);

  // ---- entry actions ------------------------------------------------------------------------

  entriesList.addEventListener('click', (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('button[data-action]');
    if (button === null) return;
    const item = button.closest<HTMLLIElement>('li.desk-entry');
    if (item === null) return;
    const developmentId = item.dataset['developmentId'] ?? '';
    const panel = item.querySelector<HTMLElement>('.desk-entry-panel');
    if (panel === null) return;
    switch (button.dataset['action']) {
      case 'correct':
        openPanel(panel, 'correct', developmentId);
        break;
      case 'retract':
        openPanel(panel, 'retract', developmentId);
        break;
      case 'dispute':
        openPanel(panel, 'dispute', developmentId);
        break;
      case 'pin':
      case 'unpin':
        pin(panel, button.dataset['action'], developmentId);
        break;
      case 'close-panel':
        panel.replaceChildren();
        item.querySelector<HTMLButtonElement>('.desk-entry-actions button')?.focus();
        break;
      default:
        break;
    }
  });

  function openPanel(
    panel: HTMLElement,
    kind: 'correct' | 'retract' | 'dispute',
    developmentId: string,
  ): void {
    const entry = entryOf(developmentId);
    if (entry === null) return;
    const formKey = `${kind}:${developmentId}`;
    const open = panel.querySelector<HTMLFormElement>('form');
    if (open?.dataset['formKey'] === formKey) {
      open.querySelector<HTMLElement>('input, textarea')?.focus();
      return;
    }
    const markup =
      kind === 'correct'
        ? correctionForm(developmentId, kinds, timeZone)
        : kind === 'retract'
          ? retractionForm(developmentId)
          : disputeForm(developmentId);
    setHtml(panel, markup);
    const form = panel.querySelector('form') as HTMLFormElement;
    form.dataset['formKey'] = formKey;
    form.dataset['prefix'] = `${kind}-${developmentId}`;
    form.dataset['developmentId'] = developmentId;
    setBase(form, known);
    if (kind === 'correct') {
      const fields = entryFields(entry, timeZone);
      fillForm(form, fields);
      form.dataset['baseFields'] = JSON.stringify(fields);
      form.addEventListener('input', () => updateCorrectionPreview(form));
      updateCorrectionPreview(form);
    }
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      submitEntryForm(form, kind, developmentId);
    });
    form.querySelector<HTMLElement>('input:not([type="hidden"]), textarea')?.focus();
  }

  /** The fields the editor changed since opening the form, as a correction's `changes`. */
  function correctionChanges(form: HTMLFormElement): {
    changes: Record<string, unknown>;
    diff: FieldChange[];
  } {
    const fields = fieldsOf(form);
    const base = JSON.parse(form.dataset['baseFields'] ?? '{}') as Fields;
    const current = entryOf(form.dataset['developmentId'] ?? '');
    const now = current === null ? base : entryFields(current, timeZone);
    const changes: Record<string, unknown> = {};
    const diff: FieldChange[] = [];
    for (const name of developmentFieldNames) {
      if (fields[name] === base[name]) continue;
      const after = fields[name];
      const display = (value: string | boolean | undefined) =>
        typeof value === 'boolean' ? (value ? 'yes' : 'no') : (value ?? '').trim();
      switch (name) {
        case 'actors':
          changes[name] = actorsOf(text(fields, name));
          break;
        case 'sources':
          changes[name] = sourcesOf(text(fields, name));
          break;
        case 'keyEvent':
          changes[name] = after === true;
          break;
        case 'occurredAt':
          changes[name] = zonedInstant(text(fields, name), timeZone) ?? text(fields, name);
          break;
        default:
          changes[name] = text(fields, name);
      }
      diff.push({
        label: fieldLabels[name] ?? name,
        before: display(now[name]),
        after: display(after),
      });
    }
    return { changes, diff };
  }

  function updateCorrectionPreview(form: HTMLFormElement): void {
    const box = form.querySelector('.diff-preview');
    const entry = entryOf(form.dataset['developmentId'] ?? '');
    if (box === null || entry === null || state === null) return;
    const { changes, diff } = correctionChanges(form);
    const fields = fieldsOf(form);
    const previous: Record<string, unknown> = {};
    for (const field of Object.keys(changes))
      previous[field] = (entry as unknown as Record<string, unknown>)[field] ?? null;
    const corrected: TimelineEntry | null =
      diff.length === 0
        ? null
        : {
            ...entry,
            ...(changes as Partial<TimelineEntry>),
            corrections: [
              ...entry.corrections,
              {
                severity: (text(fields, 'severity') || 'clarification') as 'clarification',
                note: text(fields, 'note') || '(your note)',
                changes,
                previous,
                correctedAt: new Date().toISOString(),
                position: 0,
              },
            ],
          };
    setPreview(box, correctionPreview(diff, corrected, state.story));
  }

  function submitEntryForm(
    form: HTMLFormElement,
    kind: 'correct' | 'retract' | 'dispute',
    developmentId: string,
  ): void {
    const formKey = form.dataset['formKey'] ?? '';
    if (pending.has(formKey)) return;
    const fields = fieldsOf(form);
    const base = baseOf(form);
    let event: NewEvent;
    let label: string;
    const headline = entryOf(developmentId)?.headline ?? developmentId;
    if (kind === 'correct') {
      const { changes } = correctionChanges(form);
      event = {
        id: uuid(),
        type: 'development.corrected',
        data: {
          developmentId,
          changes,
          note: text(fields, 'note'),
          severity: text(fields, 'severity') || 'clarification',
        },
      } as NewEvent;
      label = `Correction of “${headline}”`;
    } else if (kind === 'retract') {
      event = {
        id: uuid(),
        type: 'development.retracted',
        data: { developmentId, reason: text(fields, 'reason') },
      };
      label = `Retraction of “${headline}”`;
    } else {
      const sources = sourcesOf(text(fields, 'sources'));
      event = {
        id: uuid(),
        type: 'claim.disputed',
        data: {
          developmentId,
          by: text(fields, 'by'),
          statement: text(fields, 'statement'),
          ...(sources.length === 0 ? {} : { sources }),
        },
      };
      label = `Dispute of “${headline}”`;
    }
    clearErrors(form);
    const box = form.querySelector<HTMLElement>('.conflict');
    if (box !== null) box.hidden = true;
    setBusy(form, true);
    queue({
      key: event.id ?? uuid(),
      formKey,
      label,
      body: { expectedVersion: base.version, events: [event] },
      fields,
      basePosition: base.position,
    });
  }

  function pin(panel: HTMLElement, action: 'pin' | 'unpin', developmentId: string): void {
    // A one-click action is based on what the desk shows now.
    setHtml(
      panel,
      `<form class="desk-form" data-form="${action}" novalidate><div class="conflict" role="alert" hidden></div><p class="form-error" role="alert" hidden></p></form>`,
    );
    const form = panel.querySelector('form') as HTMLFormElement;
    const formKey = `${action}:${developmentId}`;
    form.dataset['formKey'] = formKey;
    if (pending.has(formKey)) return;
    const event: NewEvent = {
      id: uuid(),
      type: action === 'pin' ? 'development.pinned' : 'development.unpinned',
      data: { developmentId },
    };
    queue({
      key: event.id ?? uuid(),
      formKey,
      label: `${action === 'pin' ? 'Pin' : 'Unpin'} “${entryOf(developmentId)?.headline ?? developmentId}”`,
      body: { expectedVersion: known.version, events: [event] },
      fields: {},
      basePosition: known.position,
    });
  }

  // ---- story tools ------------------------------------------------------------------------

  function storyForm(
    id: string,
    prefix: string,
    build: (fields: Fields) => NewEvent,
    label: string,
  ): void {
    const form = document.getElementById(id) as HTMLFormElement | null;
    if (form === null) return;
    form.dataset['formKey'] = id;
    form.dataset['prefix'] = prefix;
    if (form.querySelector('.conflict') === null) {
      const box = document.createElement('div');
      box.className = 'conflict';
      box.setAttribute('role', 'alert');
      box.hidden = true;
      form.prepend(box);
    }
    // Based on the story as it was when the editor began to change the form.
    form.addEventListener('input', () => {
      if (form.dataset['baseVersion'] === undefined) setBase(form, known);
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (pending.has(id)) return;
      const fields = fieldsOf(form);
      const base = baseOf(form);
      const built = build(fields);
      setBusy(form, true);
      queue({
        key: built.id ?? uuid(),
        formKey: id,
        label,
        body: { expectedVersion: base.version, events: [built] },
        fields,
        basePosition: base.position,
      });
    });
  }

  storyForm(
    deskIds.statusForm,
    'status',
    (fields) =>
      ({
        id: uuid(),
        type: 'story.status_changed',
        data: { status: text(fields, 'status') },
      }) as NewEvent,
    'Status',
  );
  storyForm(
    deskIds.keyPointsForm,
    'key-points',
    (fields) => ({
      id: uuid(),
      type: 'summary.revised',
      data: {
        keyPoints: text(fields, 'keyPoints')
          .split('\n')
          .map((line) => line.trim())
          .filter((line) => line !== ''),
      },
    }),
    'Key points',
  );

  // Whatever was still unacknowledged when the page was left is sent again, with its ids.
  drawPending();
  for (const item of pending.items) {
    const form = formFor(item.formKey);
    if (form !== null) setBusy(form, true);
    void send(item);
  }
  window.addEventListener('online', resendAll);
}

/** The draft API's shape (drafts are kept by the server, outside the public log). */
interface RawDraft {
  readonly id: string;
  readonly status: string;
  readonly events?: readonly { type?: string; data?: { headline?: string } }[];
  readonly publishAt?: string | null;
  readonly lastError?: { readonly message?: string } | null;
}

function draftView(draft: RawDraft): DraftView {
  const reported = draft.events?.find((event) => event.type === 'development.reported');
  return {
    id: draft.id,
    status: draft.status,
    headline: reported?.data?.headline ?? `${draft.events?.length ?? 0} events`,
    publishAt: draft.publishAt ?? null,
    lastError: draft.lastError?.message ?? null,
  };
}

function startNewStoryForm(form: HTMLFormElement): void {
  const zone = form.querySelector<HTMLInputElement>('input[name="timeZone"]');
  if (zone !== null && zone.value === '' && zone.dataset['defaultFromBrowser'] === 'yes') {
    zone.value = Intl.DateTimeFormat().resolvedOptions().timeZone;
  }
}

const storyRoot = document.querySelector<HTMLElement>('main.desk-story');
if (storyRoot !== null) startStoryDesk(storyRoot);
const newStory = document.getElementById('new-story');
if (newStory instanceof HTMLFormElement) startNewStoryForm(newStory);
