/**
 * Drafts and scheduled events: new events kept privately, outside the public log, until they are
 * published (now, or at their `publishAt` by the scheduler).
 *
 * Publishing is an append through the Appender with the ids the draft's events were given when
 * the draft was made, and without an expected version. The appender treats a repeated id with
 * the same content as a retry: it answers with the original positions and writes nothing. That
 * is what makes publishing exactly-once without a distributed transaction:
 *
 *   1. claim: the draft becomes `publishing` (in one statement), with a lease (`claimedUntil`);
 *   2. append its events (the same ids on every attempt);
 *   3. mark it `published` with the positions the append answered.
 *
 * A crash after 2 leaves it `publishing`; once the lease runs out the scheduler of any process
 * claims it again, and step 2 finds the events already in the log. Two publishers racing on the
 * same draft (a "publish now" while the scheduler is at it) both end with the same positions,
 * and only one of them appended. A draft never leaves `publishing` except to `published`, or to
 * `failed` when the log refused the events (a broken rule: nothing was appended, and appending
 * the same events again would be refused again), so an edit can never slip in between an append
 * whose outcome is unknown and its retry.
 */
import { randomUUID } from 'node:crypto';
import { StorylineError, isStorylineError, type ErrorCode } from '../domain/errors.ts';
import type { NewEvent } from '../domain/event-types.ts';
import type { AppendRequest, AppendResult, IdentifiedEvent } from './decide-appends.ts';

export const draftStatuses = [
  'draft',
  'scheduled',
  'publishing',
  'published',
  'cancelled',
  'failed',
] as const;
export type DraftStatus = (typeof draftStatuses)[number];

/** Statuses in which a draft may still be edited or cancelled. */
export const editableStatuses: readonly DraftStatus[] = ['draft', 'scheduled'];

export interface DraftError {
  readonly code: string;
  readonly message: string;
}

export interface Draft {
  readonly id: string;
  readonly storyId: string;
  readonly status: DraftStatus;
  /** The events as the append endpoint takes them, each with the id it will be published with. */
  readonly events: readonly IdentifiedEvent[];
  /** When the scheduler publishes it (UTC, ISO 8601); null for a draft. */
  readonly publishAt: string | null;
  /** The name of the token that made it; its events are published under this name. */
  readonly author: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** When it was published; null before. */
  readonly publishedAt: string | null;
  /** The story's version after the publishing append; null before. */
  readonly version: number | null;
  /** The log positions of its events once published; null before. */
  readonly positions: readonly number[] | null;
  /** Attempts to publish it so far. */
  readonly attempts: number;
  /** Why the last attempt to publish it failed; null when none did. */
  readonly lastError: DraftError | null;
}

/** The outcome of a claim on one draft for publishing. */
export type DraftClaim =
  | { readonly claimed: true; readonly draft: Draft }
  | { readonly claimed: false; readonly draft: Draft | null };

/** Where drafts are kept (PostgreSQL: `postgres-drafts.ts`). Every method is one statement. */
export interface DraftStore {
  create(draft: {
    readonly id: string;
    readonly storyId: string;
    readonly events: readonly IdentifiedEvent[];
    readonly publishAt: string | null;
    readonly author: string;
  }): Promise<Draft>;
  get(storyId: string, draftId: string): Promise<Draft | null>;
  /** A story's drafts in those statuses, by publishAt (nulls last), then createdAt. */
  list(storyId: string, statuses: readonly DraftStatus[]): Promise<readonly Draft[]>;
  /**
   * Changes a draft that is still `draft` or `scheduled` (`publishAt` null makes it a draft, a
   * time schedules it); null when it is in no such state (or does not exist).
   */
  update(
    storyId: string,
    draftId: string,
    changes: {
      readonly events?: readonly IdentifiedEvent[];
      readonly publishAt?: string | null;
    },
  ): Promise<Draft | null>;
  /** Cancels a draft in one of `from`; null when it is in none of them (or does not exist). */
  cancel(storyId: string, draftId: string, from: readonly DraftStatus[]): Promise<Draft | null>;
  /**
   * Makes the draft `publishing` until `leaseMs` from now, from `draft`, `scheduled`, `failed` or
   * `publishing` (another publisher's claim is taken over: appending is idempotent).
   */
  claim(storyId: string, draftId: string, leaseMs: number): Promise<DraftClaim>;
  /**
   * Claims up to `limit` drafts that are due: scheduled at or before now, or `publishing` with a
   * lapsed lease. Drafts another transaction is claiming are skipped, never waited for, so each
   * is claimed by one process at a time; a draft is not claimed while an earlier one of its
   * story is due or publishing elsewhere, so a story's drafts are published in publishAt order.
   */
  claimDue(limit: number, leaseMs: number): Promise<readonly Draft[]>;
  markPublished(
    draftId: string,
    result: { readonly version: number; readonly positions: readonly number[] },
  ): Promise<Draft>;
  /** `publishing` → `failed`; null if it is no longer publishing (another attempt won). */
  markFailed(draftId: string, error: DraftError): Promise<Draft | null>;
  /** Keeps it `publishing`, notes the error, and lets it be claimed again after `retryInMs`. */
  noteRetry(draftId: string, error: DraftError, retryInMs: number): Promise<void>;
}

export interface PublishOutcome {
  readonly draft: Draft;
  readonly version: number;
  readonly positions: readonly number[];
  /** False when the draft was published before (or its events were already in the log). */
  readonly appended: boolean;
}

export interface DraftsOptions {
  /** How long a claim keeps other processes from taking a draft over. */
  readonly leaseMs?: number;
  /** Longest wait before retrying a draft whose append failed for a passing reason. */
  readonly maxRetryMs?: number;
  readonly newId?: () => string;
}

/**
 * Failures that pass: the append may have committed or not (the database went away mid-commit),
 * or may succeed later. The draft stays `publishing` and is retried with the same ids. Any other
 * code is the log refusing the events (a broken rule, an id taken by other content): nothing was
 * appended and the same events would be refused again, so the draft fails.
 */
const passingFailures: ReadonlySet<ErrorCode> = new Set([
  'unavailable',
  'rate_limited',
  'internal',
  'unsupported_schema_version',
]);

export class Drafts {
  readonly #store: DraftStore;
  readonly #appender: { append(request: AppendRequest): Promise<AppendResult> };
  readonly #leaseMs: number;
  readonly #maxRetryMs: number;
  readonly #newId: () => string;

  constructor(
    store: DraftStore,
    appender: { append(request: AppendRequest): Promise<AppendResult> },
    options: DraftsOptions = {},
  ) {
    this.#store = store;
    this.#appender = appender;
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#maxRetryMs = options.maxRetryMs ?? 60_000;
    this.#newId = options.newId ?? randomUUID;
  }

  async create(input: {
    readonly storyId: string;
    readonly events: readonly NewEvent[];
    readonly publishAt?: string | undefined;
    readonly author: string;
  }): Promise<Draft> {
    return await this.#store.create({
      id: this.#newId(),
      storyId: input.storyId,
      events: this.#identified(input.events),
      publishAt: input.publishAt === undefined ? null : normalInstant(input.publishAt),
      author: input.author,
    });
  }

  async list(storyId: string, statuses: readonly DraftStatus[] = editableStatuses) {
    return await this.#store.list(storyId, statuses);
  }

  async get(storyId: string, draftId: string): Promise<Draft> {
    return (await this.#store.get(storyId, draftId)) ?? notFound(storyId, draftId);
  }

  async update(
    storyId: string,
    draftId: string,
    changes: { readonly events?: readonly NewEvent[]; readonly publishAt?: string | null },
  ): Promise<Draft> {
    const updated = await this.#store.update(storyId, draftId, {
      ...(changes.events === undefined ? {} : { events: this.#identified(changes.events) }),
      ...(changes.publishAt === undefined
        ? {}
        : { publishAt: changes.publishAt === null ? null : normalInstant(changes.publishAt) }),
    });
    return updated ?? (await this.#notEditable(storyId, draftId, 'edited'));
  }

  /** Cancels a draft, a scheduled one or a failed one; cancelling again changes nothing. */
  async cancel(storyId: string, draftId: string): Promise<Draft> {
    const cancelled = await this.#store.cancel(storyId, draftId, [...editableStatuses, 'failed']);
    if (cancelled !== null) return cancelled;
    const draft = await this.get(storyId, draftId);
    if (draft.status === 'cancelled') return draft;
    return await this.#notEditable(storyId, draftId, 'cancelled');
  }

  /**
   * Publishes a draft now. A draft published before answers with its positions and appends
   * nothing; a cancelled one is refused. One whose events the log refuses becomes `failed`, and
   * the refusal is thrown.
   */
  async publish(storyId: string, draftId: string, requestId?: string): Promise<PublishOutcome> {
    const claim = await this.#store.claim(storyId, draftId, this.#leaseMs);
    if (!claim.claimed) {
      const { draft } = claim;
      if (draft === null) return notFound(storyId, draftId);
      if (draft.status === 'published' && draft.version !== null && draft.positions !== null) {
        return { draft, version: draft.version, positions: draft.positions, appended: false };
      }
      return await this.#notEditable(storyId, draftId, 'published');
    }
    return await this.#publishClaimed(claim.draft, requestId);
  }

  /**
   * Claims and publishes up to `limit` due drafts; how many it claimed. Their appends are made
   * at once, in publishAt order, so the appender commits them together.
   */
  async publishDue(limit: number): Promise<number> {
    const due = await this.#store.claimDue(limit, this.#leaseMs);
    await Promise.all(
      due.map((draft) =>
        this.#publishClaimed(draft).catch(() => {
          // Recorded on the draft (failed, or retried later); nobody else to tell.
        }),
      ),
    );
    return due.length;
  }

  async #publishClaimed(draft: Draft, requestId?: string): Promise<PublishOutcome> {
    let result: AppendResult;
    try {
      result = await this.#appender.append({
        storyId: draft.storyId,
        events: draft.events,
        author: draft.author,
        ...(requestId === undefined ? {} : { requestId }),
      });
    } catch (error) {
      const reason: DraftError = isStorylineError(error)
        ? { code: error.code, message: error.message }
        : { code: 'internal', message: 'the append failed on the server' };
      if (isStorylineError(error) && !passingFailures.has(error.code)) {
        await this.#store.markFailed(draft.id, reason);
        throw new StorylineError(error.code, error.message, {
          ...error.details,
          draftId: draft.id,
        });
      }
      // The append may or may not have committed: stay `publishing`, retry later with the same
      // ids. Failing to note it is harmless: the claim's lease runs out just the same.
      const retryInMs = Math.min(this.#maxRetryMs, 1000 * 2 ** Math.min(draft.attempts, 6));
      await this.#store.noteRetry(draft.id, reason, retryInMs).catch(() => undefined);
      throw error;
    }
    const published = await this.#store.markPublished(draft.id, result);
    return {
      draft: published,
      version: result.version,
      positions: result.positions,
      appended: result.appended,
    };
  }

  #identified(events: readonly NewEvent[]): IdentifiedEvent[] {
    const identified = events.map((event) =>
      event.id === undefined ? { ...event, id: this.#newId() } : { ...event, id: event.id },
    );
    const ids = identified.map((event) => event.id);
    const repeated = ids.find((id, index) => ids.indexOf(id) !== index);
    if (repeated !== undefined) {
      throw new StorylineError('duplicate_id_in_request', `event id ${repeated} appears twice`, {
        eventId: repeated,
      });
    }
    return identified;
  }

  async #notEditable(storyId: string, draftId: string, doing: string): Promise<never> {
    const draft = await this.get(storyId, draftId);
    throw new StorylineError(
      'draft_not_editable',
      `draft ${draftId} is ${draft.status}: it can no longer be ${doing}`,
      { draftId, status: draft.status },
    );
  }
}

function notFound(storyId: string, draftId: string): never {
  throw new StorylineError('draft_not_found', `story ${storyId} has no draft ${draftId}`, {
    draftId,
  });
}

/** `2025-12-03T11:15:00+03:00` → `2025-12-03T08:15:00.000Z`. */
function normalInstant(instant: string): string {
  return new Date(instant).toISOString();
}
