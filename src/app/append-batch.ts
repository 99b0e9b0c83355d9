/**
 * Decides and writes one batch of append requests inside a transaction holding the append lock.
 * Each request is all-or-nothing: a broken rule, version conflict or duplicate rejects that
 * request alone, and the others in the batch still commit.
 */
import { randomUUID } from 'node:crypto';
import { StorylineError } from '../domain/errors.ts';
import { currentSchemaVersion, type NewEvent, type RecordedEvent } from '../domain/event-types.ts';
import { developmentIdOf, evolve } from '../domain/story-fold.ts';
import { checkRules } from '../domain/story-rules.ts';
import type { StoryView, TimelineEntry } from '../domain/story-view.ts';
import { entryKey, type LogTransaction } from './ports.ts';
import { sameJson } from './same-json.ts';

export interface AppendRequest {
  readonly storyId: string;
  /** 0: the story must not exist yet; n: it must be at version n; absent: any. */
  readonly expectedVersion?: number;
  readonly events: readonly NewEvent[];
  /** Recorded in each event's metadata; the client cannot override them. */
  readonly author: string;
  readonly requestId?: string;
}

export interface AppendResult {
  readonly storyId: string;
  readonly version: number;
  readonly positions: readonly number[];
  /** False when every event was already in the log (an idempotent retry): nothing was written. */
  readonly appended: boolean;
}

export type AppendOutcome = AppendResult | StorylineError;

type WithId = NewEvent & { readonly id: string };

export async function appendBatch(
  tx: LogTransaction,
  requests: readonly AppendRequest[],
): Promise<AppendOutcome[]> {
  const withIds = requests.map((request) => ({
    ...request,
    events: request.events.map((event): WithId => ({ ...event, id: event.id ?? randomUUID() })),
  }));

  // Everything the batch can touch, loaded in three queries up front.
  const [known, storedStories, storedEntries] = await Promise.all([
    tx.findEvents(withIds.flatMap((request) => request.events.map((event) => event.id))),
    tx.loadStories([...new Set(withIds.map((request) => request.storyId))]),
    tx.loadEntries(
      withIds.flatMap((request) =>
        request.events.flatMap((event) => {
          const developmentId = developmentIdOf(event);
          return developmentId === null ? [] : [{ storyId: request.storyId, developmentId }];
        }),
      ),
    ),
  ]);

  const stories = new Map<string, StoryView>(storedStories);
  const entries = new Map<string, TimelineEntry>(storedEntries);
  const written = new Map<string, RecordedEvent>();
  const events: RecordedEvent[] = [];
  const touchedStories = new Set<string>();
  const touchedEntries = new Map<string, { storyId: string; entry: TimelineEntry }>();
  let head = tx.head;

  const outcomes = withIds.map((request): AppendOutcome => {
    const { storyId } = request;
    const lookup = (id: string) => written.get(id) ?? known.get(id);

    const duplicate = replayOf(request.storyId, request.events, lookup);
    if (duplicate !== null) return duplicate;

    const before = stories.get(storyId) ?? null;
    const currentVersion = before?.version ?? 0;
    if (request.expectedVersion !== undefined && request.expectedVersion !== currentVersion) {
      return new StorylineError(
        'version_conflict',
        `story ${storyId} is at version ${currentVersion}, not ${request.expectedVersion}`,
        { expectedVersion: request.expectedVersion, actualVersion: currentVersion },
      );
    }

    // Fold onto scratch state; it replaces the batch's state only if every event passes.
    let story = before;
    const scratch = new Map<string, TimelineEntry>();
    const recorded: RecordedEvent[] = [];
    for (const [index, event] of request.events.entries()) {
      const developmentId = developmentIdOf(event);
      const key = developmentId === null ? null : entryKey(storyId, developmentId);
      const entry = key === null ? null : (scratch.get(key) ?? entries.get(key) ?? null);
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
        occurredAt: event.occurredAt ?? tx.recordedAt,
        recordedAt: tx.recordedAt,
      } as RecordedEvent;
      const step = evolve(story, entry, next);
      story = step.story;
      if (key !== null && step.entry !== null) scratch.set(key, step.entry);
      recorded.push(next);
    }

    if (story === null) throw new Error('unreachable: a non-empty append leaves a story');
    stories.set(storyId, story);
    touchedStories.add(storyId);
    for (const [key, entry] of scratch) {
      entries.set(key, entry);
      touchedEntries.set(key, { storyId, entry });
    }
    for (const event of recorded) written.set(event.id, event);
    events.push(...recorded);
    head += recorded.length;
    return {
      storyId,
      version: story.version,
      positions: recorded.map((event) => event.position),
      appended: true,
    };
  });

  if (events.length > 0) {
    await tx.write({
      events,
      stories: [...touchedStories].map((storyId) => stories.get(storyId) as StoryView),
      entries: [...touchedEntries.values()],
    });
  }
  return outcomes;
}

/**
 * An idempotent retry: every event's id is already in the log with the same content, so the
 * original positions are returned and nothing is written. The same id with other content, or an
 * append only some of whose events are known, is a conflict: appends are all-or-nothing, so no
 * earlier request can have written part of this one.
 */
function replayOf(
  storyId: string,
  events: readonly WithId[],
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
