/**
 * The small interfaces the use cases need from storage. The Postgres adapter implements them;
 * nothing here knows about SQL, and the domain knows about none of it.
 */
import type { RecordedEvent } from '../domain/event-types.ts';
import type {
  StoryCounts,
  StoryProjection,
  StoryView,
  TimelineEntry,
} from '../domain/story-view.ts';

export interface LogChanges {
  readonly events: readonly RecordedEvent[];
  readonly stories: readonly StoryView[];
  readonly entries: readonly { readonly storyId: string; readonly entry: TimelineEntry }[];
}

export const entryKey = (storyId: string, developmentId: string): string =>
  `${storyId}\u0000${developmentId}`;

/**
 * What an append batch was decided from. The log writes the batch only if all of it still holds
 * when the append lock is held; otherwise the decision may rest on stale state and is redone.
 */
export interface AppendExpectations {
  /** The last position in the log; the batch's positions follow it. */
  readonly head: number;
  /** The recordedAt of every event written: never before the latest one in the log. */
  readonly recordedAt: string;
  /** Each story the batch read, at the version it read (0: not opened). */
  readonly storyVersions: ReadonlyMap<string, number>;
  /** Development entries the batch took as not reported. */
  readonly absentEntries: readonly { readonly storyId: string; readonly developmentId: string }[];
  /** Event ids the batch took as new to the log. */
  readonly eventIds: readonly string[];
}

export type AppendAttempt =
  | { readonly written: true }
  | {
      readonly written: false;
      /** The log's head and latest recorded time, for the next attempt. */
      readonly head: number;
      readonly lastRecordedAt: string | null;
    };

/**
 * One transaction that holds the log's append lock: nothing else appends until it ends, so the
 * positions it allocates after `head` become visible in order.
 */
export interface LogTransaction {
  /** The last position in the log when the lock was taken. */
  readonly head: number;
  /** The latest recordedAt in the log (never earlier than the stored one), null when empty. */
  readonly lastRecordedAt: string | null;
  findEvents(ids: readonly string[]): Promise<ReadonlyMap<string, RecordedEvent>>;
  loadStories(storyIds: readonly string[]): Promise<ReadonlyMap<string, StoryView>>;
  /** Keyed by `entryKey(storyId, developmentId)`. */
  loadEntries(
    keys: readonly { readonly storyId: string; readonly developmentId: string }[],
  ): Promise<ReadonlyMap<string, TimelineEntry>>;
  /** Inserts the events, upserts the views, and queues one change notification for the commit. */
  write(changes: LogChanges): Promise<void>;
  /** For rebuilds: every story in the log, and one story's events in log order. */
  storyIds(): Promise<readonly string[]>;
  storyEvents(storyId: string): Promise<readonly RecordedEvent[]>;
  clearViews(): Promise<void>;
}

export interface EventLog {
  /**
   * Writes `changes` in one round trip, under the append lock, if `expected` still holds; writes
   * nothing and says so otherwise.
   */
  appendIfCurrent(expected: AppendExpectations, changes: LogChanges): Promise<AppendAttempt>;
  /** Runs `work` in a transaction holding the append lock; commits if it resolves. */
  withAppendLock<T>(work: (tx: LogTransaction) => Promise<T>): Promise<T>;
}

export interface EventQuery {
  readonly after: number;
  readonly limit: number;
  readonly storyIds?: readonly string[];
}

export interface EventPage {
  readonly events: readonly RecordedEvent[];
  readonly head: number;
  /** The log's identity: a cursor is only meaningful within one epoch. */
  readonly epoch: string;
}

export interface StoryListItem {
  readonly storyId: string;
  readonly title: string;
  readonly status: string;
  readonly version: number;
  readonly position: number;
  /** recordedAt of the story's latest event: when it last changed. */
  readonly updatedAt: string;
  readonly timeZone: string;
  /** Updates (developments), corrections and the rest, as on the story view. */
  readonly counts: StoryCounts;
}

export interface TimelineQuery {
  readonly order: 'asc' | 'desc';
  readonly limit: number;
  /** Resume after this entry (the cursor a previous page returned). */
  readonly after?: { readonly occurredAt: string; readonly reportedPosition: number };
}

export interface LogReader {
  logInfo(): Promise<{ readonly epoch: string; readonly head: number }>;
  /**
   * Events with position > after, in position order, from one consistent snapshot; only those
   * of `storyIds` when given. With fewer than `limit` events, every matching event up to `head`
   * is in the page.
   */
  readEvents(query: EventQuery): Promise<EventPage>;
  /**
   * A story's view and whole timeline and the log's head, read in one snapshot (null: not
   * opened by then).
   */
  storySnapshot(
    storyId: string,
  ): Promise<{ readonly projection: StoryProjection | null; readonly head: number }>;
  /**
   * One story's events after a position (if given) up to a position or a recorded time, in log
   * order.
   */
  storyEvents(
    storyId: string,
    range: { readonly after?: number; readonly position?: number; readonly recordedAt?: string },
  ): Promise<readonly RecordedEvent[]>;
  getStory(storyId: string): Promise<StoryView | null>;
  listStories(): Promise<readonly StoryListItem[]>;
  timeline(storyId: string, query: TimelineQuery): Promise<readonly TimelineEntry[]>;
  /** The story's timeline entries that have been corrected at least once, in no set order. */
  correctedEntries(storyId: string): Promise<readonly TimelineEntry[]>;
  /** Whether the database answers and every migration has been applied. */
  ready(): Promise<boolean>;
}

/** What a token may do: `publish` appends; `admin` also manages tokens. */
export const tokenScopes = ['publish', 'admin'] as const;
export type TokenScope = (typeof tokenScopes)[number];

/** A token's name: 1-64 letters, digits, spaces, dots, dashes, underscores or @. */
export const tokenNamePattern = /^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$/;

export interface Publisher {
  readonly name: string;
  /** The stories this token may publish to; null for every story. */
  readonly stories: readonly string[] | null;
  readonly scope: TokenScope;
}

/** A token as listed: everything but the token itself, which is never stored. */
export interface TokenInfo {
  readonly name: string;
  readonly scope: TokenScope;
  readonly stories: readonly string[] | null;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

export interface TokenStore {
  /** Makes a token and returns it: the one time it is ever seen. */
  create(name: string, stories?: readonly string[], scope?: TokenScope): Promise<string>;
  /** Who holds the token, or null when it is unknown or revoked. */
  verify(token: string): Promise<Publisher | null>;
  /** Revokes every token of that name; how many were revoked. */
  revoke(name: string): Promise<number>;
  /** Every token ever made, oldest first, revoked ones included. */
  list(): Promise<readonly TokenInfo[]>;
}

/**
 * Sessions of the newsroom desk: a signed-in browser holds a random session id (never the
 * token); each session has the token's publisher and a CSRF token of its own.
 */
export interface DeskSession {
  readonly publisher: Publisher;
  readonly csrfToken: string;
  /** Identifies the token the session was opened with, for per-token limits (not the token). */
  readonly tokenKey: string;
  readonly expiresAt: Date;
}

export interface DeskSessionStore {
  /** Opens a session for a valid token: its id (the one time it is seen) and the session. */
  open(token: string): Promise<{ readonly id: string; readonly session: DeskSession } | null>;
  /** The live session with that id: not expired, its token not revoked; else null. */
  find(id: string): Promise<DeskSession | null>;
  /** Ends a session (signing out); unknown ids are ignored. */
  end(id: string): Promise<void>;
}
