/**
 * The read models a story is folded into. Absent values are `null`, never missing, so a view
 * serializes the same way however it was produced (live, rebuilt or time-travelled).
 */
import type { Actor, DevelopmentChanges, Quote, Source, StoryStatus } from './event-types.ts';

export interface DevelopmentRef {
  readonly developmentId: string;
  readonly headline: string;
  readonly occurredAt: string;
}

export interface StatementRef extends DevelopmentRef {
  readonly quote: string | null;
  /** Always false since retracted statements stopped counting; kept so readers need not change. */
  readonly retracted: boolean;
  /** Where the log first reported it: breaks ties between statements made at the same instant. */
  readonly reportedPosition: number;
}

export interface ActorView {
  readonly name: string;
  readonly role: string | null;
  /** How many developments name this actor. */
  readonly developments: number;
  /**
   * The last of `statements`: of the developments naming this actor that are statements (by
   * kind or by quote) and not retracted, the one that happened last.
   */
  readonly latestStatement: StatementRef | null;
  /**
   * The latest of those statements (at most `statementsKept`, 16), by when they happened (then by
   * position). Kept so that when the latest one is retracted or corrected away, the fold knows
   * the one before it without reading the log.
   */
  readonly statements: readonly StatementRef[];
}

export interface DisputeView {
  readonly by: string;
  readonly statement: string;
  readonly sources: readonly Source[];
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly position: number;
}

export interface ClaimView extends DevelopmentRef {
  readonly claimedBy: readonly string[];
  readonly retracted: boolean;
  /** How many disputes it has; they are on its timeline entry. */
  readonly disputeCount: number;
}

export interface CorrectionView {
  readonly developmentId: string;
  readonly severity: 'typo' | 'clarification' | 'correction';
  readonly note: string;
  /** The new values. */
  readonly changes: DevelopmentChanges;
  /** What was wrong: the values the changed fields had before, `null` where one was unset. */
  readonly previous: Readonly<Record<string, unknown>>;
  readonly correctedAt: string;
  readonly position: number;
}

export interface StoryCounts {
  readonly developments: number;
  readonly retracted: number;
  readonly corrections: number;
  readonly disputes: number;
  readonly keyEvents: number;
}

/**
 * The story as it stands: everything but the timeline, which is stored row by row. Its size does
 * not grow with corrections or disputes: those live on the timeline entries they change (the
 * corrections log is derived from them, see corrections-log.ts), so appending to a long story
 * rewrites a small view.
 */
export interface StoryView {
  readonly storyId: string;
  readonly version: number;
  readonly position: number;
  readonly title: string;
  readonly summary: string | null;
  readonly timeZone: string;
  readonly tags: readonly string[];
  readonly status: StoryStatus;
  readonly openedAt: string;
  /** recordedAt of the first and the latest event. */
  readonly firstUpdateAt: string;
  readonly lastUpdateAt: string;
  readonly keyPoints: readonly string[];
  readonly keyPointsRevisedAt: string | null;
  readonly counts: StoryCounts;
  readonly pinned: DevelopmentRef | null;
  /** Ordered by when they happened. */
  readonly keyEvents: readonly DevelopmentRef[];
  /** Ordered by first appearance. */
  readonly actors: readonly ActorView[];
  /** Claims and anything disputed, in the order they were reported. */
  readonly claims: readonly ClaimView[];
}

export interface EntryCorrection {
  readonly severity: CorrectionView['severity'];
  readonly note: string;
  readonly changes: DevelopmentChanges;
  readonly previous: Readonly<Record<string, unknown>>;
  readonly correctedAt: string;
  readonly position: number;
}

/** One development on the timeline, with corrections applied and retraction marked. */
export interface TimelineEntry {
  readonly developmentId: string;
  readonly kind: string;
  readonly headline: string;
  readonly body: string | null;
  readonly actors: readonly Actor[];
  readonly location: string | null;
  readonly sources: readonly Source[];
  readonly quote: Quote | null;
  readonly keyEvent: boolean;
  readonly occurredAt: string;
  /** When the log first accepted it, and at which position. */
  readonly reportedAt: string;
  readonly reportedPosition: number;
  /** When it last changed (a correction, retraction or dispute), and at which position. */
  readonly updatedAt: string;
  readonly updatedPosition: number;
  readonly retracted: {
    readonly reason: string;
    readonly at: string;
    readonly position: number;
  } | null;
  readonly corrections: readonly EntryCorrection[];
  readonly disputes: readonly DisputeView[];
}

/** A whole story folded from its events: the view plus its timeline in timeline order. */
export interface StoryProjection {
  readonly story: StoryView;
  readonly timeline: readonly TimelineEntry[];
}
