/**
 * The decision step of an append batch, in the style of a decider: given the state the batch
 * reads and the requests, it returns each request's outcome and the events, views and timeline
 * entries to write. It is pure (no I/O, no clock, no randomness): the caller supplies the log's
 * head and the recorded time, and whichever storage it runs on only loads state and writes the
 * result.
 *
 * Each request is all-or-nothing: a broken rule, version conflict or duplicate rejects that
 * request alone, and the others in the batch still commit.
 */
import { StorylineError } from '../domain/errors.ts';
import { currentSchemaVersion, type NewEvent, type RecordedEvent } from '../domain/event-types.ts';
import { developmentIdOf, evolve } from '../domain/story-fold.ts';
import { checkRules } from '../domain/story-rules.ts';
import type { StoryView, TimelineEntry } from '../domain/story-view.ts';
import type { LogChanges } from './ports.ts';
import { sameJson } from './same-json.ts';

/** An event as queued: its id is fixed before it waits, so a retry can never mint a new one. */
export type IdentifiedEvent = NewEvent & { readonly id: string };

export interface AppendRequest {
  readonly storyId: string;
  /** 0: the story must not exist yet; n: it must be at version n; absent: any. */
  readonly expectedVersion?: number;
  readonly events: readonly NewEvent[];
  /** Recorded in each event's metadata; the client cannot override them. */
  readonly author: string;
  readonly requestId?: string;
  /**
   * When the log first recorded these events, for an import that keeps a story file's times;
   * absent: now. Never taken from an HTTP client. It may not be earlier than the latest time in
   * the log (recorded times grow with position) nor later than now plus `recordedAtSkewMs`.
   */
  readonly recordedAt?: string;
}

/** How far in the future a supplied recordedAt may be: clocks of two machines disagree a little. */
export const recordedAtSkewMs = 60_000;

/** A request as queued, every event with its id. */
export type IdentifiedRequest = Omit<AppendRequest, 'events'> & {
  readonly events: readonly IdentifiedEvent[];
};

export interface AppendResult {
  readonly storyId: string;
  readonly version: number;
  readonly positions: readonly number[];
  /** False when every event was already in the log (an idempotent retry): nothing was written. */
  readonly appended: boolean;
}

export type AppendOutcome = AppendResult | StorylineError;

/** What a batch reads: every lookup the decision makes goes through here. */
export interface DecisionState {
  story(storyId: string): StoryView | null;
  /** The development's entry, or null when the story has no such development. */
  entry(storyId: string, developmentId: string): TimelineEntry | null;
  /** An event already in the log with this id. */
  knownEvent(id: string): RecordedEvent | undefined;
}

export interface Decision {
  readonly outcomes: readonly AppendOutcome[];
  readonly changes: LogChanges;
}

/** What a batch needs loaded to be decided: its stories, the entries it names, its event ids. */
export interface BatchNeeds {
  readonly storyIds: readonly string[];
  readonly entries: readonly { readonly storyId: string; readonly developmentId: string }[];
  readonly eventIds: readonly string[];
}

export function needsOf(requests: readonly IdentifiedRequest[]): BatchNeeds {
  const storyIds = new Set<string>();
  const entries: { storyId: string; developmentId: string }[] = [];
  const eventIds: string[] = [];
  for (const request of requests) {
    storyIds.add(request.storyId);
    for (const event of request.events) {
      eventIds.push(event.id);
      const developmentId = developmentIdOf(event);
      if (developmentId !== null) entries.push({ storyId: request.storyId, developmentId });
    }
  }
  return { storyIds: [...storyIds], entries, eventIds };
}

export function decideAppends(
  state: DecisionState,
  requests: readonly IdentifiedRequest[],
  at: {
    readonly head: number;
    /** Now, never before the latest recorded time. */
    readonly recordedAt: string;
    /** The latest recordedAt in the log, for requests that supply their own; null: empty. */
    readonly lastRecordedAt: string | null;
  },
): Decision {
  // The batch's own writes shadow the loaded state for the requests after them.
  const stories = new Map<string, StoryView>();
  const entries = new Map<string, Map<string, TimelineEntry>>();
  const written = new Map<string, RecordedEvent>();
  const events: RecordedEvent[] = [];
  let head = at.head;
  // The latest time written so far (the log's, then this batch's): times never go back.
  let latest = at.lastRecordedAt === null ? null : Date.parse(at.lastRecordedAt);

  const storyOf = (storyId: string) => stories.get(storyId) ?? state.story(storyId);
  const entryOf = (storyId: string, developmentId: string) =>
    entries.get(storyId)?.get(developmentId) ?? state.entry(storyId, developmentId);
  const lookup = (id: string) => written.get(id) ?? state.knownEvent(id);

  const outcomes = requests.map((request): AppendOutcome => {
    const { storyId } = request;
    const duplicate = replayOf(storyId, request.events, lookup);
    if (duplicate !== null) return duplicate;

    const before = storyOf(storyId);
    const currentVersion = before?.version ?? 0;
    if (request.expectedVersion !== undefined && request.expectedVersion !== currentVersion) {
      return new StorylineError(
        'version_conflict',
        `story ${storyId} is at version ${currentVersion}, not ${request.expectedVersion}`,
        { expectedVersion: request.expectedVersion, actualVersion: currentVersion },
      );
    }

    const recordedAt = recordedTimeOf(request, latest, at.recordedAt);
    if (recordedAt instanceof StorylineError) return recordedAt;

    // Fold onto scratch state; it replaces the batch's state only if every event passes.
    let story = before;
    const scratch = new Map<string, TimelineEntry>();
    const recorded: RecordedEvent[] = [];
    for (const [index, event] of request.events.entries()) {
      const developmentId = developmentIdOf(event);
      const entry =
        developmentId === null
          ? null
          : (scratch.get(developmentId) ?? entryOf(storyId, developmentId));
      const broken = checkRules(storyId, story, entry, event);
      if (broken !== null) {
        return new StorylineError(broken.code, `events[${index}]: ${broken.message}`, {
          ...broken.details,
          index,
          eventId: event.id,
        });
      }
      const next = {
        position: head + recorded.length + 1,
        storyId,
        version: (story?.version ?? 0) + 1,
        id: event.id,
        type: event.type,
        schemaVersion: currentSchemaVersion[event.type],
        data: event.data,
        metadata: {
          ...event.metadata,
          author: request.author,
          ...(request.requestId === undefined ? {} : { requestId: request.requestId }),
        },
        occurredAt: event.occurredAt ?? recordedAt,
        recordedAt,
      } as RecordedEvent;
      const step = evolve(story, entry, next);
      story = step.story;
      if (step.entry !== null) scratch.set(step.entry.developmentId, step.entry);
      recorded.push(next);
    }

    if (story === null) throw new Error('unreachable: a non-empty append leaves a story');
    stories.set(storyId, story);
    let storyEntries = entries.get(storyId);
    if (storyEntries === undefined) {
      storyEntries = new Map();
      entries.set(storyId, storyEntries);
    }
    for (const [developmentId, entry] of scratch) storyEntries.set(developmentId, entry);
    for (const event of recorded) written.set(event.id, event);
    events.push(...recorded);
    head += recorded.length;
    latest = Math.max(latest ?? -Infinity, Date.parse(recordedAt));
    return {
      storyId,
      version: story.version,
      positions: recorded.map((event) => event.position),
      appended: true,
    };
  });

  return {
    outcomes,
    changes: {
      events,
      stories: [...stories.values()],
      entries: [...entries].flatMap(([storyId, byId]) =>
        [...byId.values()].map((entry) => ({ storyId, entry })),
      ),
    },
  };
}

/**
 * The recordedAt of a request's events: the one it supplies (an import), checked, or now. Now is
 * never before the log's latest time, but a supplied time may be a little ahead of it (clock
 * skew), so a request after one is recorded no earlier than that.
 */
function recordedTimeOf(
  request: IdentifiedRequest,
  latest: number | null,
  now: string,
): string | StorylineError {
  if (request.recordedAt === undefined) {
    return latest !== null && latest > Date.parse(now) ? new Date(latest).toISOString() : now;
  }
  const supplied = Date.parse(request.recordedAt);
  if (Number.isNaN(supplied)) {
    return new StorylineError('invalid_event', `recordedAt ${request.recordedAt} is not a time`);
  }
  const time = new Date(supplied).toISOString();
  if (latest !== null && supplied < latest) {
    const last = new Date(latest).toISOString();
    return new StorylineError(
      'invalid_event',
      `recorded at ${time}, before the latest event in the log (${last}): recorded times must grow with position, so events with earlier times can only be imported into an empty log (or without their recordedAt, to be recorded now)`,
      { recordedAt: time, latestRecordedAt: last },
    );
  }
  if (supplied > Date.parse(now) + recordedAtSkewMs) {
    return new StorylineError(
      'invalid_event',
      `recorded at ${time}, in the future (now is ${now})`,
      { recordedAt: time, now },
    );
  }
  return time;
}

/**
 * An idempotent retry: every event's id is already in the log with the same content, so the
 * original positions are returned and nothing is written. The same id with other content, or an
 * append only some of whose events are known, is a conflict: appends are all-or-nothing, so no
 * earlier request can have written part of this one.
 */
function replayOf(
  storyId: string,
  events: readonly IdentifiedEvent[],
  lookup: (id: string) => RecordedEvent | undefined,
): AppendOutcome | null {
  const found = events.map((event) => ({ event, stored: lookup(event.id) }));
  const knownCount = found.filter(({ stored }) => stored !== undefined).length;
  if (knownCount === 0) return null;
  for (const { event, stored } of found) {
    if (stored === undefined) continue;
    const same =
      stored.storyId === storyId &&
      stored.type === event.type &&
      sameJson(stored.data, event.data) &&
      (event.occurredAt === undefined || event.occurredAt === stored.occurredAt);
    if (!same) {
      return new StorylineError(
        'duplicate_event_id',
        `event id ${event.id} is already in the log with different content`,
        { eventId: event.id, position: stored.position },
      );
    }
  }
  if (knownCount < events.length) {
    const first = found.find(({ stored }) => stored !== undefined);
    return new StorylineError(
      'duplicate_event_id',
      `event id ${first?.event.id ?? ''} is already in the log, but other events of this append are not: an append is all-or-nothing, so send either all of an earlier append or none of it`,
      { eventId: first?.event.id, position: first?.stored?.position },
    );
  }
  const stored = found.map(({ stored }) => stored as RecordedEvent);
  return {
    storyId,
    version: Math.max(...stored.map((event) => event.version)),
    positions: stored.map((event) => event.position),
    appended: false,
  };
}
