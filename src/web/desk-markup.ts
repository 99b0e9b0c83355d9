/**
 * The desk's markup, as pure functions: the server renders the story desk with them and the
 * desk script redraws entries and opens action forms with the same ones. Entries themselves are
 * the public page's markup (story-markup.ts), so an editor sees what readers will see.
 *
 * Everything from the log or the editor goes through `html`, which escapes it.
 */
import type { StoryProjection, StoryView, TimelineEntry } from '../domain/story-view.ts';
import { html, type Html, type HtmlValue } from './html.ts';
import { renderEntry } from './story-markup.ts';
import { zoneLabel } from './times.ts';

export const deskIds = {
  storyLine: 'desk-story-line',
  connection: 'connection',
  activity: 'desk-activity',
  compose: 'compose',
  pending: 'desk-pending',
  pendingList: 'desk-pending-list',
  entries: 'desk-entries',
  drafts: 'desk-drafts',
  draftsStatus: 'desk-drafts-status',
  statusForm: 'desk-status-form',
  keyPointsForm: 'desk-key-points-form',
} as const;

/** The fields of a development an editor fills in, by the names the forms use. */
export const developmentFieldNames = [
  'headline',
  'body',
  'kind',
  'occurredAt',
  'actors',
  'location',
  'sources',
  'keyEvent',
] as const;

export function fieldError(id: string, message: string | undefined): Html {
  return html`<p class="field-error" id="${id}" ${message === undefined ? 'hidden' : ''}>
    ${message ?? ''}
  </p>`;
}

interface TextFieldOptions {
  /** The control's id; its hint and error slot are `{id}-hint` and `{id}-error`. */
  readonly id: string;
  readonly name: string;
  readonly label: string;
  /** A textarea of this many rows; a one-line input without. */
  readonly rows?: number;
  readonly hint?: HtmlValue;
}

/** A labelled text control tied to its hint and error slot, as every desk form lays them out. */
function textField({ id, name, label, rows, hint }: TextFieldOptions): Html {
  const describedBy = `${hint === undefined ? '' : `${id}-hint `}${id}-error`;
  return html`<div class="field">
    <label for="${id}">${label}</label>
    ${
      rows === undefined
        ? html`<input id="${id}" name="${name}" aria-describedby="${describedBy}" />`
        : html`<textarea
            id="${id}"
            name="${name}"
            rows="${rows}"
            aria-describedby="${describedBy}"
          ></textarea>`
    }
    ${hint === undefined ? '' : html`<p class="hint" id="${id}-hint">${hint}</p>`}
    ${fieldError(`${id}-error`, undefined)}
  </div>`;
}

/** One entry on the desk: the public markup, then its actions and the place for their forms. */
export function deskEntry(entry: TimelineEntry, projection: StoryProjection): Html {
  return html`<li class="desk-entry" data-development-id="${entry.developmentId}">
    <ol class="timeline-entries desk-entry-view">
      ${renderEntry(entry, projection.story)}
    </ol>
    <div class="desk-entry-actions">${deskEntryActions(entry, projection.story)}</div>
    <div class="desk-entry-panel"></div>
  </li>`;
}

/**
 * A development's fields, with ids prefixed by the form's: labels, hints and error slots are
 * tied to their inputs, and the desk script fills errors from the server's issues by name.
 */
export function developmentFields(
  prefix: string,
  kinds: readonly string[],
  timeZone: string,
): Html {
  const id = (name: string) => `${prefix}-${name}`;
  const described = (name: string, hint = false) =>
    `${hint ? `${id(name)}-hint ` : ''}${id(name)}-error`;
  const slot = (name: string) => fieldError(`${id(name)}-error`, undefined);
  return html`${textField({ id: id('headline'), name: 'headline', label: 'Headline' })}
    ${textField({
      id: id('body'),
      name: 'body',
      label: 'Body',
      rows: 5,
      hint: 'A blank line starts a paragraph; web addresses become links.',
    })}
    <div class="field-row">
      <div class="field">
        <label for="${id('kind')}">Kind</label>
        <select id="${id('kind')}" name="kind" aria-describedby="${described('kind')}">
          ${kinds.map((kind) => html`<option value="${kind}">${kind.replace(/_/g, ' ')}</option>`)}
        </select>
        ${slot('kind')}
      </div>
      <div class="field">
        <label for="${id('occurredAt')}">Occurred at</label>
        <input
          id="${id('occurredAt')}"
          name="occurredAt"
          type="datetime-local"
          aria-describedby="${described('occurredAt', true)}"
        />
        <p class="hint" id="${id('occurredAt')}-hint">
          ${zoneLabel(timeZone)} time; now if left as is.
        </p>
        ${slot('occurredAt')}
      </div>
    </div>
    ${textField({
      id: id('actors'),
      name: 'actors',
      label: 'Actors',
      rows: 2,
      hint: 'One a line: name, then a comma and the role.',
    })}
    ${textField({ id: id('location'), name: 'location', label: 'Location' })}
    ${textField({
      id: id('sources'),
      name: 'sources',
      label: 'Sources',
      rows: 2,
      hint: 'One a line: the name, then its https:// link.',
    })}
    <div class="field field-check">
      <input id="${id('keyEvent')}" name="keyEvent" type="checkbox" />
      <label for="${id('keyEvent')}">Key event</label>
    </div>`;
}

/** An entry's action buttons; each names its entry for screen readers through the headline. */
export function deskEntryActions(entry: TimelineEntry, story: StoryView): Html {
  const headlineId = `entry-${entry.developmentId}-headline`;
  const pinned = story.pinned?.developmentId === entry.developmentId;
  if (entry.retracted !== null) {
    return html`<p class="hint">Retracted: no further changes.</p>`;
  }
  return html`<button
      type="button"
      class="button"
      data-action="correct"
      aria-describedby="${headlineId}"
    >
      Correct
    </button>
    <button type="button" class="button" data-action="retract" aria-describedby="${headlineId}">
      Retract
    </button>
    <button
      type="button"
      class="button"
      data-action="${pinned ? 'unpin' : 'pin'}"
      aria-describedby="${headlineId}"
    >
      ${pinned ? 'Unpin' : 'Pin'}
    </button>
    <button type="button" class="button" data-action="dispute" aria-describedby="${headlineId}">
      Dispute
    </button>`;
}

interface ActionFormOptions {
  /** What the desk script knows the form by (`data-form`), and its class: `{className}`. */
  readonly form: 'correct' | 'retract' | 'dispute';
  readonly className: string;
  readonly label: string;
  readonly submit: string;
  readonly danger?: boolean;
}

/**
 * An entry's action form: a slot for a conflict notice, the fields, a slot for the form's own
 * error, then its submit and close buttons.
 */
function actionForm(options: ActionFormOptions, fields: Html): Html {
  return html`<form
    class="desk-form ${options.className}"
    data-form="${options.form}"
    aria-label="${options.label}"
    novalidate
  >
    <div class="conflict" role="alert" hidden></div>
    ${fields}
    <p class="form-error" role="alert" hidden></p>
    <div class="button-row">
      <button
        type="submit"
        class="button ${options.danger === true ? 'button-danger' : 'button-primary'}"
      >
        ${options.submit}
      </button>
      <button type="button" class="button" data-action="close-panel">Close</button>
    </div>
  </form>`;
}

export type Severity = 'typo' | 'clarification' | 'correction';

/** The "Correct" form: the development's fields prefilled by the script, a note and a severity. */
export function correctionForm(
  developmentId: string,
  kinds: readonly string[],
  timeZone: string,
): Html {
  const prefix = `correct-${developmentId}`;
  return actionForm(
    {
      form: 'correct',
      className: 'correction-form',
      label: 'Correct this update',
      submit: 'Publish correction',
    },
    html` ${developmentFields(prefix, kinds, timeZone)}
      ${textField({
        id: `${prefix}-note`,
        name: 'note',
        label: 'Note',
        rows: 2,
        hint: 'Shown to readers with the correction.',
      })}
      <fieldset class="field severity">
        <legend>Severity</legend>
        <label
          ><input type="radio" name="severity" value="clarification" checked /> Clarification</label
        >
        <label><input type="radio" name="severity" value="correction" /> Correction</label>
        <label><input type="radio" name="severity" value="typo" /> Typo</label>
      </fieldset>
      <section
        class="diff-preview"
        aria-label="What readers will see"
        aria-live="polite"
      ></section>`,
  );
}

export function retractionForm(developmentId: string): Html {
  const id = `retract-${developmentId}-reason`;
  return actionForm(
    {
      form: 'retract',
      className: 'retraction-form',
      label: 'Retract this update',
      submit: 'Retract',
      danger: true,
    },
    textField({
      id,
      name: 'reason',
      label: 'Reason',
      rows: 2,
      hint: 'Readers see the reason; the update stays on the page, marked retracted.',
    }),
  );
}

export function disputeForm(developmentId: string): Html {
  const prefix = `dispute-${developmentId}`;
  return actionForm(
    {
      form: 'dispute',
      className: 'dispute-form',
      label: 'Dispute this claim',
      submit: 'Publish dispute',
    },
    html` ${textField({ id: `${prefix}-by`, name: 'by', label: 'Disputed by' })}
    ${textField({ id: `${prefix}-statement`, name: 'statement', label: 'Statement', rows: 2 })}
    ${textField({ id: `${prefix}-sources`, name: 'sources', label: 'Sources', rows: 2 })}`,
  );
}

/** One changed field of a correction, as readers will see it: the old value struck through. */
export interface FieldChange {
  readonly label: string;
  readonly before: string;
  readonly after: string;
}

/** The correction's diff and the entry as readers will see it once corrected. */
export function correctionPreview(
  changes: readonly FieldChange[],
  corrected: TimelineEntry | null,
  story: StoryView,
): Html {
  if (changes.length === 0 || corrected === null) {
    return html`<h4>What readers will see</h4>
      <p class="hint">Nothing changed yet: edit a field above.</p>`;
  }
  return html`<h4>What readers will see</h4>
    <ul class="diff">
      ${changes.map(
        (change) =>
          html`<li>
            <span class="diff-field">${change.label}</span>:
            ${change.before === '' ? html`<span class="hint">(none)</span>` : html`<del>${change.before}</del>`}
            →
            ${change.after === '' ? html`<span class="hint">(none)</span>` : html`<ins>${change.after}</ins>`}
          </li>`,
      )}
    </ul>
    <ol class="timeline-entries diff-entry">
      ${renderEntry({ ...corrected, developmentId: `preview-${corrected.developmentId}` }, story)}
    </ol>`;
}

/** What changed on the story between the version an action was based on and now. */
export function conflictNotice(lines: readonly string[], verb: string): Html {
  return html`<p>
      <strong>This story changed while you were working.</strong> Nothing was published and your
      text is kept. In between:
    </p>
    <ul class="conflict-changes">
      ${lines.map((line) => html`<li>${line}</li>`)}
    </ul>
    <p>Check the changes, then ${verb} again to publish over them.</p>`;
}

export interface PendingView {
  readonly key: string;
  readonly label: string;
  readonly state: string;
}

export function pendingItem(pending: PendingView): Html {
  return html`<li data-pending="${pending.key}">
    ${pending.label}: <span class="hint">${pending.state}</span>
  </li>`;
}

export interface DraftView {
  readonly id: string;
  readonly status: string;
  readonly headline: string;
  readonly publishAt: string | null;
  readonly lastError: string | null;
}

export function draftItem(draft: DraftView, timeZone: string, when: (iso: string) => string): Html {
  const open = draft.status === 'draft' || draft.status === 'scheduled';
  const headlineId = `draft-${draft.id}-headline`;
  return html`<li class="desk-draft" data-draft-id="${draft.id}" data-status="${draft.status}">
    <p class="desk-draft-headline" id="${headlineId}">${draft.headline}</p>
    <p class="hint">
      ${
        draft.status === 'scheduled' && draft.publishAt !== null
          ? `Scheduled for ${when(draft.publishAt)} ${zoneLabel(timeZone)}`
          : draft.status.charAt(0).toUpperCase() + draft.status.slice(1)
      }
      ${draft.lastError === null ? '' : html` · <span class="field-error">${draft.lastError}</span>`}
    </p>
    ${
      open
        ? html`<div class="button-row">
            <button
              type="button"
              class="button"
              data-draft-action="publish"
              aria-describedby="${headlineId}"
            >
              Publish now
            </button>
            <button
              type="button"
              class="button"
              data-draft-action="cancel"
              aria-describedby="${headlineId}"
            >
              Cancel
            </button>
          </div>`
        : ''
    }
  </li>`;
}

/** For the desk's own `deskEntry` redraws: the projection an entry is drawn against. */
export type { StoryProjection };
