/**
 * Small builders for the pure-domain tests: event bodies that read like the newsroom's own words,
 * and a recorder that wraps them in the envelope the log would give them.
 */
import type { ErrorCode } from '../../src/domain/errors.ts';
import {
  currentSchemaVersion,
  type DevelopmentChanges,
  type RecordedEvent,
  type StoryEventBody,
  type StoryStatus,
} from '../../src/domain/event-types.ts';
import { developmentIdOf, evolve, foldStory } from '../../src/domain/story-fold.ts';
import { checkRules } from '../../src/domain/story-rules.ts';
import type { StoryProjection, StoryView, TimelineEntry } from '../../src/domain/story-view.ts';

export const storyId = 'kremlin-talks';

type DataOf<T extends StoryEventBody['type']> = Extract<StoryEventBody, { type: T }>['data'];

/** An event as an editor submits it: the body, and optionally when it happened in the world. */
export type Happening = StoryEventBody & { readonly occurredAt?: string };

export const opened = (data: Partial<DataOf<'story.opened'>> = {}): StoryEventBody => ({
  type: 'story.opened',
  data: { title: 'Putin hosts Witkoff and Kushner', timeZone: 'Europe/Moscow', ...data },
});

export const reported = (
  developmentId: string,
  data: Partial<Omit<DataOf<'development.reported'>, 'developmentId'>> = {},
): StoryEventBody => ({
  type: 'development.reported',
  data: { developmentId, kind: 'meeting', headline: `headline of ${developmentId}`, ...data },
});

export const corrected = (
  developmentId: string,
  changes: DevelopmentChanges,
  note = 'fixed after a reader wrote in',
): StoryEventBody => ({
  type: 'development.corrected',
  data: { developmentId, changes, note, severity: 'correction' },
});

export const retracted = (
  developmentId: string,
  reason = 'the source withdrew it',
): StoryEventBody => ({
  type: 'development.retracted',
  data: { developmentId, reason },
});

export const pinned = (developmentId: string): StoryEventBody => ({
  type: 'development.pinned',
  data: { developmentId },
});

export const unpinned = (developmentId: string): StoryEventBody => ({
  type: 'development.unpinned',
  data: { developmentId },
});

export const disputed = (
  developmentId: string,
  by: string,
  statement = 'That is not what happened.',
): StoryEventBody => ({
  type: 'claim.disputed',
  data: { developmentId, by, statement },
});

export const summaryRevised = (...keyPoints: string[]): StoryEventBody => ({
  type: 'summary.revised',
  data: { keyPoints },
});

export const statusChanged = (status: StoryStatus): StoryEventBody => ({
  type: 'story.status_changed',
  data: { status },
});

/** The same event, said to have happened at `occurredAt`. */
export const at = (occurredAt: string, event: StoryEventBody): Happening => ({
  ...event,
  occurredAt,
});

/** A fixed, valid v4-shaped uuid per number, so failures are reproducible. */
export const uuidOf = (n: number): string =>
  `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

const firstRecordedAt = Date.parse('2025-12-02T12:00:00.000Z');

/** When the log accepted event number `n` (1-based): one minute apart, in UTC. */
export const recordedAtOf = (n: number): string =>
  new Date(firstRecordedAt + (n - 1) * 60_000).toISOString();

/**
 * Wraps one event in the envelope the log gives it as event number `n` of the story (position and
 * version both `n`). Without an occurredAt it happened when it was recorded, as the appender does.
 */
export function record(happening: Happening, n: number, story = storyId): RecordedEvent {
  const { occurredAt, ...body } = happening;
  return {
    ...body,
    position: n,
    storyId: story,
    version: n,
    id: uuidOf(n),
    schemaVersion: currentSchemaVersion[body.type],
    metadata: {},
    occurredAt: occurredAt ?? recordedAtOf(n),
    recordedAt: recordedAtOf(n),
  };
}

export const recordAll = (happenings: readonly Happening[]): RecordedEvent[] =>
  happenings.map((happening, index) => record(happening, index + 1));

/** Folds a history of happenings, recorded in the order given. */
export function fold(...happenings: Happening[]): StoryProjection {
  const projection = foldStory(recordAll(happenings));
  if (projection === null) throw new Error('the history holds no story.opened');
  return projection;
}

export function entryOf(projection: StoryProjection, developmentId: string): TimelineEntry {
  const entry = projection.timeline.find((known) => known.developmentId === developmentId);
  if (entry === undefined) throw new Error(`no development ${developmentId} on the timeline`);
  return entry;
}

/** The story and its entries as the live path holds them: one view, entries by development. */
export interface LiveState {
  story: StoryView | null;
  readonly entries: Map<string, TimelineEntry>;
}

export const emptyState = (): LiveState => ({ story: null, entries: new Map() });

export function entryNamedBy(state: LiveState, event: StoryEventBody): TimelineEntry | null {
  const developmentId = developmentIdOf(event);
  return developmentId === null ? null : (state.entries.get(developmentId) ?? null);
}

/** Checks the rules for an event against the state; the broken rule's code, or `null`. */
export function brokenRule(state: LiveState, event: StoryEventBody): ErrorCode | null {
  return checkRules(storyId, state.story, entryNamedBy(state, event), event)?.code ?? null;
}

/** Applies a recorded event the way the live path does: load the one entry, evolve, store back. */
export function applyLive(state: LiveState, event: RecordedEvent): void {
  const step = evolve(state.story, entryNamedBy(state, event), event);
  state.story = step.story;
  if (step.entry !== null) state.entries.set(step.entry.developmentId, step.entry);
}
