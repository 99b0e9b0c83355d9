/**
 * The one fold from events to views. It serves live views (updated inside the append transaction),
 * full rebuilds and time travel, so all three agree by construction.
 *
 * An event changes the story view and at most one timeline entry: the development it names. That
 * is what keeps an append's cost independent of the story's length: the live path loads the view
 * and that one entry, folds, and writes both back.
 */
import { compareInstants } from './instants.ts';
import type { DevelopmentChanges, RecordedEvent, StoryEventBody } from './event-types.ts';
import type {
  ActorView,
  ClaimView,
  DevelopmentRef,
  StatementRef,
  StoryProjection,
  StoryView,
  TimelineEntry,
} from './story-view.ts';

export interface FoldStep {
  readonly story: StoryView;
  /** The entry of the development the event names, after the event; `null` if it names none. */
  readonly entry: TimelineEntry | null;
}

/** Kinds whose development counts as its actors' statement even without a quote. */
const statementKinds: ReadonlySet<string> = new Set([
  'statement',
  'readout',
  'social_post',
  'claim',
  'denial',
]);

/** The development an event is about, which the fold needs loaded; `null` for story-wide events. */
export function developmentIdOf(event: StoryEventBody): string | null {
  switch (event.type) {
    case 'story.opened':
    case 'summary.revised':
    case 'story.status_changed':
      return null;
    case 'development.reported':
    case 'development.corrected':
    case 'development.retracted':
    case 'development.pinned':
    case 'development.unpinned':
    case 'claim.disputed':
      return event.data.developmentId;
  }
}

/**
 * Applies one recorded event. Events in the log were checked when appended, so this never
 * rejects; given an event that does not fit (only possible with a hand-edited log) it throws.
 */
export function evolve(
  story: StoryView | null,
  entry: TimelineEntry | null,
  event: RecordedEvent,
): FoldStep {
  if (event.type === 'story.opened') {
    const opened: StoryView = {
      storyId: event.storyId,
      version: event.version,
      position: event.position,
      title: event.data.title,
      summary: event.data.summary ?? null,
      timeZone: event.data.timeZone,
      tags: event.data.tags ?? [],
      status: 'live',
      openedAt: event.occurredAt,
      firstUpdateAt: event.recordedAt,
      lastUpdateAt: event.recordedAt,
      keyPoints: [],
      keyPointsRevisedAt: null,
      counts: { developments: 0, retracted: 0, corrections: 0, disputes: 0, keyEvents: 0 },
      pinned: null,
      keyEvents: [],
      actors: [],
      claims: [],
    };
    return { story: opened, entry: null };
  }
  if (story === null) throw new Error(`event ${event.id} precedes story.opened`);
  const base: StoryView = {
    ...story,
    version: event.version,
    position: event.position,
    lastUpdateAt: event.recordedAt,
  };

  switch (event.type) {
    case 'story.status_changed':
      return { story: { ...base, status: event.data.status }, entry: null };
    case 'summary.revised':
      return {
        story: { ...base, keyPoints: event.data.keyPoints, keyPointsRevisedAt: event.recordedAt },
        entry: null,
      };
    case 'development.reported': {
      const { data } = event;
      const reported: TimelineEntry = {
        developmentId: data.developmentId,
        kind: data.kind,
        headline: data.headline,
        body: data.body ?? null,
        actors: data.actors ?? [],
        location: data.location ?? null,
        sources: data.sources ?? [],
        quote: data.quote ?? null,
        keyEvent: data.keyEvent ?? false,
        occurredAt: event.occurredAt,
        reportedAt: event.recordedAt,
        reportedPosition: event.position,
        updatedAt: event.recordedAt,
        updatedPosition: event.position,
        retracted: null,
        corrections: [],
        disputes: [],
      };
      const counted = { ...base.counts, developments: base.counts.developments + 1 };
      let next: StoryView = { ...base, counts: counted };
      next = withActors(next, reported, []);
      next = syncRefs(next, reported);
      return { story: next, entry: reported };
    }
    case 'development.corrected': {
      const current = required(entry, event);
      const { changes } = event.data;
      const previous: Record<string, unknown> = {};
      for (const field of Object.keys(changes) as (keyof typeof changes)[]) {
        previous[field] = current[field] ?? null;
      }
      const corrected: TimelineEntry = {
        ...applyChanges(current, changes),
        updatedAt: event.recordedAt,
        updatedPosition: event.position,
        corrections: [
          ...current.corrections,
          {
            severity: event.data.severity,
            note: event.data.note,
            changes,
            previous,
            correctedAt: event.recordedAt,
            position: event.position,
          },
        ],
      };
      let next: StoryView = {
        ...base,
        counts: { ...base.counts, corrections: base.counts.corrections + 1 },
      };
      next = withActors(next, corrected, current.actors);
      next = syncRefs(next, corrected);
      return { story: next, entry: corrected };
    }
    case 'development.retracted': {
      const current = required(entry, event);
      const retracted: TimelineEntry = {
        ...current,
        updatedAt: event.recordedAt,
        updatedPosition: event.position,
        retracted: { reason: event.data.reason, at: event.recordedAt, position: event.position },
      };
      let next: StoryView = {
        ...base,
        counts: { ...base.counts, retracted: base.counts.retracted + 1 },
      };
      next = withActors(next, retracted, current.actors);
      next = syncRefs(next, retracted);
      return { story: next, entry: retracted };
    }
    case 'development.pinned': {
      const current = required(entry, event);
      return { story: { ...base, pinned: refOf(current) }, entry: current };
    }
    case 'development.unpinned':
      return { story: { ...base, pinned: null }, entry: required(entry, event) };
    case 'claim.disputed': {
      const current = required(entry, event);
      const disputed: TimelineEntry = {
        ...current,
        updatedAt: event.recordedAt,
        updatedPosition: event.position,
        disputes: [
          ...current.disputes,
          {
            by: event.data.by,
            statement: event.data.statement,
            sources: event.data.sources ?? [],
            occurredAt: event.occurredAt,
            recordedAt: event.recordedAt,
            position: event.position,
          },
        ],
      };
      const next: StoryView = {
        ...base,
        counts: { ...base.counts, disputes: base.counts.disputes + 1 },
      };
      return { story: syncRefs(next, disputed), entry: disputed };
    }
  }
}

/** Folds a whole story from its events in log order; `null` if the events hold none of it. */
export function foldStory(events: Iterable<RecordedEvent>): StoryProjection | null {
  return foldOnto(null, events);
}

/**
 * Folds events onto a projection (a snapshot), as a live client does. The events must come
 * after the projection's position, in log order.
 */
export function foldOnto(
  projection: StoryProjection | null,
  events: Iterable<RecordedEvent>,
): StoryProjection | null {
  let story: StoryView | null = projection?.story ?? null;
  const entries = new Map<string, TimelineEntry>(
    projection?.timeline.map((entry) => [entry.developmentId, entry]),
  );
  for (const event of events) {
    const developmentId = developmentIdOf(event);
    const step = evolve(
      story,
      developmentId === null ? null : (entries.get(developmentId) ?? null),
      event,
    );
    story = step.story;
    if (step.entry !== null) entries.set(step.entry.developmentId, step.entry);
  }
  if (story === null) return null;
  return { story, timeline: [...entries.values()].sort(compareTimeline) };
}

/** Timeline order: when it happened, then the order the log learned of it. */
export function compareTimeline(a: TimelineEntry, b: TimelineEntry): number {
  return compareInstants(a.occurredAt, b.occurredAt) || a.reportedPosition - b.reportedPosition;
}

/** The entry with the changed fields replaced; a field a correction leaves out is kept. */
function applyChanges(entry: TimelineEntry, changes: DevelopmentChanges): TimelineEntry {
  const defined = Object.fromEntries(
    Object.entries(changes).filter(([, value]) => value !== undefined),
  ) as Partial<TimelineEntry>;
  return { ...entry, ...defined };
}

function required(entry: TimelineEntry | null, event: RecordedEvent): TimelineEntry {
  if (entry === null) throw new Error(`event ${event.id} names an unknown development`);
  return entry;
}

const refOf = (entry: TimelineEntry): DevelopmentRef => ({
  developmentId: entry.developmentId,
  headline: entry.headline,
  occurredAt: entry.occurredAt,
});

const isStatement = (entry: TimelineEntry): boolean =>
  statementKinds.has(entry.kind) || entry.quote !== null;

const statementOf = (entry: TimelineEntry): StatementRef => ({
  ...refOf(entry),
  quote: entry.quote?.text ?? null,
  retracted: entry.retracted !== null,
  reportedPosition: entry.reportedPosition,
});

/** Timeline order for statements: when they happened, then where the log reported them. */
const compareStatements = (a: StatementRef, b: StatementRef): number =>
  compareInstants(a.occurredAt, b.occurredAt) || a.reportedPosition - b.reportedPosition;

/**
 * How many of an actor's latest statements the view keeps. Enough to fall back on when the latest
 * few are retracted or corrected away, and bounded, because the story row is rewritten on every
 * append: keeping all of them made the row, and each append, grow with the story (1.8 MB at
 * 10,000 developments in `npm run bench`'s growth scenario, against 89 KB without them).
 */
export const statementsKept = 16;

/**
 * `statements` without the development `id`, plus `statement` in its place by time, if any; only
 * the latest `statementsKept` stay.
 */
function withStatement(
  statements: readonly StatementRef[],
  id: string,
  statement: StatementRef | null,
): readonly StatementRef[] {
  const others = statements.filter((known) => known.developmentId !== id);
  if (statement === null) return others;
  return [...others, statement].sort(compareStatements).slice(-statementsKept);
}

/**
 * Keeps the actors in step with one development, newly reported (`previousActors` empty),
 * corrected or retracted. Each actor named is counted once and takes the role given last; an
 * actor no development names any more leaves the list. Each actor keeps their statements (not
 * retracted, in timeline order), so the latest is always the last of them, whatever was
 * corrected or retracted: the same as folding the whole log would give.
 */
function withActors(
  story: StoryView,
  entry: TimelineEntry,
  previousActors: TimelineEntry['actors'],
): StoryView {
  const id = entry.developmentId;
  const before = new Set(previousActors.map((actor) => actor.name));
  const named = new Map<string, string | null>();
  for (const { name, role } of entry.actors) {
    if (!named.has(name) || role !== undefined) named.set(name, role ?? named.get(name) ?? null);
  }
  const statement = isStatement(entry) && entry.retracted === null ? statementOf(entry) : null;

  const actors: ActorView[] = [];
  for (const actor of story.actors) {
    if (named.has(actor.name)) {
      const statements = withStatement(actor.statements, id, statement);
      actors.push({
        name: actor.name,
        role: named.get(actor.name) ?? actor.role,
        developments: actor.developments + (before.has(actor.name) ? 0 : 1),
        latestStatement: statements.at(-1) ?? null,
        statements,
      });
    } else if (before.has(actor.name)) {
      // The correction says this actor was never part of it.
      if (actor.developments <= 1) continue;
      const statements = withStatement(actor.statements, id, null);
      actors.push({
        ...actor,
        developments: actor.developments - 1,
        latestStatement: statements.at(-1) ?? null,
        statements,
      });
    } else {
      actors.push(actor);
    }
  }
  const known = new Set(story.actors.map((actor) => actor.name));
  for (const [name, role] of named) {
    if (known.has(name)) continue;
    const statements = statement === null ? [] : [statement];
    actors.push({ name, role, developments: 1, latestStatement: statement, statements });
  }
  return { ...story, actors };
}

/**
 * Keeps every place the view mentions a development (pin, key events, claims) in step with the
 * development's current state; actors' statements are kept by `withActors`.
 */
function syncRefs(story: StoryView, entry: TimelineEntry): StoryView {
  const id = entry.developmentId;
  const live = entry.retracted === null;

  const pinned = story.pinned?.developmentId === id ? (live ? refOf(entry) : null) : story.pinned;

  const keyEvents = story.keyEvents.filter((ref) => ref.developmentId !== id);
  if (entry.keyEvent && live) {
    keyEvents.push(refOf(entry));
    keyEvents.sort((a, b) => compareInstants(a.occurredAt, b.occurredAt));
  }

  const isClaim = entry.kind === 'claim' || entry.disputes.length > 0;
  const claim: ClaimView = {
    ...refOf(entry),
    claimedBy: entry.actors.map((actor) => actor.name),
    retracted: !live,
    disputeCount: entry.disputes.length,
  };
  const index = story.claims.findIndex((known) => known.developmentId === id);
  let claims = story.claims;
  if (index >= 0) {
    claims = isClaim
      ? story.claims.map((known, i) => (i === index ? claim : known))
      : story.claims.filter((_, i) => i !== index);
  } else if (isClaim) {
    claims = [...story.claims, claim];
  }

  return {
    ...story,
    pinned,
    keyEvents,
    claims,
    counts: { ...story.counts, keyEvents: keyEvents.length },
  };
}
