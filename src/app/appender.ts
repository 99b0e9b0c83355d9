/**
 * Group commit. Appends that arrive while a transaction is running wait in a bounded queue and
 * go together into the next one: one lock, one round of inserts, one fsync and one notification
 * for many requests. Throughput comes from batching, not from parallel writers, because the
 * append lock makes writers take turns anyway (that is what keeps positions in commit order).
 *
 * Each batch is decided in memory and written in one round trip. The appender remembers the
 * log's head and the stories it appends to (StoryStateCache), decides the batch from that with
 * the pure `decideAppends`, and hands the log the result together with what it assumed; the log
 * writes it only if every assumption still holds under the append lock. When one does not
 * (another process appended, a cold story, a retried id), the batch is decided again inside a
 * locked transaction from freshly loaded state. Either way the decision rests on state that was
 * current when the lock was held, so the outcome is the same as if it had been loaded then.
 */
import { randomUUID } from 'node:crypto';
import { StorylineError, isStorylineError } from '../domain/errors.ts';
import type { RecordedEvent } from '../domain/event-types.ts';
import {
  decideAppends,
  needsOf,
  type AppendRequest,
  type AppendResult,
  type Decision,
  type IdentifiedRequest,
} from './decide-appends.ts';
import type { AppendExpectations, EventLog } from './ports.ts';
import { entryKey } from './ports.ts';
import { StoryStateCache } from './story-state-cache.ts';

export interface AppenderOptions {
  /** Events per transaction at most; a single larger request still goes alone. */
  readonly maxBatchEvents?: number;
  /** Requests waiting at most; past it an append is refused as `unavailable` (HTTP 503). */
  readonly maxQueuedRequests?: number;
  /** Called after each committed transaction with its size (for metrics). */
  readonly onBatch?: (batch: BatchSize) => void;
  /**
   * Called with the events of each committed transaction, in position order, right after the
   * commit and before any caller hears of it (the live feed takes them from here).
   */
  readonly onCommit?: (events: readonly RecordedEvent[]) => void;
  /** Stories whose state is kept in memory between batches. */
  readonly cachedStories?: number;
  /** The clock for recordedAt, in epoch milliseconds (tests pin it). */
  readonly now?: () => number;
}

/** One group commit: how many requests and events went into the transaction. */
export interface BatchSize {
  readonly requests: number;
  readonly events: number;
}

interface Waiting {
  readonly request: IdentifiedRequest;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

export class Appender {
  readonly #log: EventLog;
  readonly #maxBatchEvents: number;
  readonly #maxQueued: number;
  readonly #onBatch: ((batch: BatchSize) => void) | undefined;
  readonly #onCommit: ((events: readonly RecordedEvent[]) => void) | undefined;
  readonly #now: () => number;
  readonly #stories: StoryStateCache;
  /** The log's head as of this appender's last look; null: unknown, ask under the lock. */
  #head: number | null = null;
  /** The latest recordedAt in the log as of that look, in epoch milliseconds. */
  #lastRecordedAt = 0;
  #queue: Waiting[] = [];
  #running: Promise<void> | null = null;
  #closed = false;

  constructor(log: EventLog, options: AppenderOptions = {}) {
    this.#log = log;
    this.#maxBatchEvents = options.maxBatchEvents ?? 1000;
    this.#maxQueued = options.maxQueuedRequests ?? 10_000;
    this.#onBatch = options.onBatch;
    this.#onCommit = options.onCommit;
    this.#now = options.now ?? Date.now;
    this.#stories = new StoryStateCache(options.cachedStories);
  }

  append(request: AppendRequest): Promise<AppendResult> {
    if (this.#closed) {
      return Promise.reject(new StorylineError('unavailable', 'the service is shutting down'));
    }
    const ids = request.events.flatMap((event) => (event.id === undefined ? [] : [event.id]));
    const repeated = ids.find((id, index) => ids.indexOf(id) !== index);
    if (repeated !== undefined) {
      return Promise.reject(
        new StorylineError('duplicate_id_in_request', `event id ${repeated} appears twice`, {
          eventId: repeated,
        }),
      );
    }
    if (this.#queue.length >= this.#maxQueued) {
      return Promise.reject(
        new StorylineError('unavailable', 'too many appends waiting; retry with the same ids'),
      );
    }
    // Ids are fixed before the request waits: a batch retried after an unknown outcome then
    // finds its own events instead of appending them again under new ids.
    const identified: IdentifiedRequest = {
      ...request,
      events: request.events.map((event) =>
        event.id === undefined ? { ...event, id: randomUUID() } : { ...event, id: event.id },
      ),
    };
    return new Promise<AppendResult>((resolve, reject) => {
      this.#queue.push({ request: identified, resolve, reject });
      this.#running ??= this.#drain();
    });
  }

  /**
   * The log was replaced under the running process (a database restored or recreated): what
   * this appender remembers of the old one (the head, stories and their entries) must not be
   * assumed of the new one, even where the head and versions happen to match. The next batch
   * loads what it needs under the append lock.
   */
  forgetLog(): void {
    this.#head = null;
    this.#lastRecordedAt = 0;
    this.#stories.clear();
  }

  /** Refuses new appends and waits for the queued ones to commit or fail. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#running;
  }

  /**
   * Commits batches until the queue is empty. It marks itself done in the same synchronous step
   * that finds the queue empty: an append arriving any later starts a new drain, so none can
   * wait in the queue with no drain to take it.
   */
  async #drain(): Promise<void> {
    // Never finish synchronously, so `#running` is assigned before it can be cleared.
    await Promise.resolve();
    try {
      while (this.#queue.length > 0) {
        const batch = this.#takeBatch();
        try {
          await this.#commit(batch);
        } catch (error) {
          // The database is away or the lock was not granted in time: alone, each request would
          // wait out the same timeout again, one after another, to the same end. All of them
          // are refused now (503: retry with the same ids), and the queue moves on.
          if (batch.length === 1 || (isStorylineError(error) && error.code === 'unavailable')) {
            for (const waiting of batch) waiting.reject(error);
            continue;
          }
          // Something else failed the shared transaction (a serialization surprise, a bug one
          // request's data triggers). Retry each request alone so one cannot sink the others.
          for (const waiting of batch) {
            await this.#commit([waiting]).catch(waiting.reject);
          }
        }
      }
    } finally {
      // The same synchronous step as the loop's last look at the queue.
      this.#running = null;
    }
  }

  #takeBatch(): Waiting[] {
    const batch: Waiting[] = [];
    let events = 0;
    while (this.#queue.length > 0) {
      const next = this.#queue[0] as Waiting;
      if (batch.length > 0 && events + next.request.events.length > this.#maxBatchEvents) break;
      batch.push(next);
      events += next.request.events.length;
      this.#queue.shift();
    }
    return batch;
  }

  async #commit(batch: readonly Waiting[]): Promise<void> {
    const requests = batch.map((waiting) => waiting.request);
    let decision: Decision;
    try {
      decision =
        (await this.#decideAndWriteFast(requests)) ?? (await this.#decideAndWriteLocked(requests));
    } catch (error) {
      // The outcome is unknown (the connection may have died at commit): forget what this batch
      // could have changed, so the next one reads the log again.
      this.#head = null;
      this.#stories.forget(requests.map((request) => request.storyId));
      throw error;
    }
    const { events } = decision.changes;
    this.#stories.apply(decision.changes);
    const last = events.at(-1);
    if (last !== undefined) {
      this.#head = last.position;
      this.#lastRecordedAt = Date.parse(last.recordedAt);
    }
    this.#notify(() => this.#onCommit?.(events));
    decision.outcomes.forEach((outcome, index) => {
      const waiting = batch[index] as Waiting;
      if (isStorylineError(outcome)) waiting.reject(outcome);
      else waiting.resolve(outcome);
    });
    this.#notify(() =>
      this.#onBatch?.({
        requests: batch.length,
        events: batch.reduce((sum, waiting) => sum + waiting.request.events.length, 0),
      }),
    );
  }

  /**
   * One round trip: decide from memory and write if the log still matches it. Null when the
   * head is unknown or an assumption failed (then the head is known again).
   */
  async #decideAndWriteFast(requests: readonly IdentifiedRequest[]): Promise<Decision | null> {
    const head = this.#head;
    if (head === null) return null;
    const needs = needsOf(requests);
    const storyVersions = new Map<string, number>();
    for (const storyId of needs.storyIds) {
      storyVersions.set(storyId, this.#stories.view(storyId)?.version ?? 0);
    }
    const absentEntries = needs.entries.filter(
      ({ storyId, developmentId }) => this.#stories.entry(storyId, developmentId) === undefined,
    );
    const recordedAt = new Date(Math.max(this.#now(), this.#lastRecordedAt)).toISOString();
    const decision = decideAppends(
      {
        story: (storyId) => this.#stories.view(storyId),
        entry: (storyId, developmentId) => this.#stories.entry(storyId, developmentId) ?? null,
        knownEvent: () => undefined,
      },
      requests,
      { head, recordedAt, lastRecordedAt: isoOrNull(this.#lastRecordedAt) },
    );
    const expected: AppendExpectations = {
      head,
      recordedAt,
      storyVersions,
      absentEntries,
      eventIds: needs.eventIds,
    };
    const attempt = await this.#log.appendIfCurrent(expected, decision.changes);
    if (attempt.written) return decision;
    this.#head = attempt.head;
    this.#lastRecordedAt = attempt.lastRecordedAt === null ? 0 : Date.parse(attempt.lastRecordedAt);
    return null;
  }

  /** Loads what the batch needs under the append lock, then decides and writes. */
  #decideAndWriteLocked(requests: readonly IdentifiedRequest[]): Promise<Decision> {
    const needs = needsOf(requests);
    return this.#log.withAppendLock(async (tx) => {
      const known = await tx.findEvents(needs.eventIds);
      const views = await tx.loadStories(needs.storyIds);
      const entries = await tx.loadEntries(needs.entries);
      for (const storyId of needs.storyIds) {
        const view = views.get(storyId);
        if (view === undefined) {
          this.#stories.forget([storyId]);
          continue;
        }
        const loaded = needs.entries.flatMap((key) => {
          if (key.storyId !== storyId) return [];
          const entry = entries.get(entryKey(storyId, key.developmentId));
          return entry === undefined ? [] : [entry];
        });
        this.#stories.load(view, loaded);
      }
      const last = tx.lastRecordedAt === null ? 0 : Date.parse(tx.lastRecordedAt);
      const recordedAt = new Date(Math.max(this.#now(), last)).toISOString();
      const decision = decideAppends(
        {
          story: (storyId) => views.get(storyId) ?? null,
          entry: (storyId, developmentId) => entries.get(entryKey(storyId, developmentId)) ?? null,
          knownEvent: (id) => known.get(id),
        },
        requests,
        { head: tx.head, recordedAt, lastRecordedAt: tx.lastRecordedAt },
      );
      if (decision.changes.events.length > 0) await tx.write(decision.changes);
      this.#head = tx.head;
      this.#lastRecordedAt = last;
      return decision;
    });
  }

  /** Observers run after the commit: their failure must not make #drain retry it. */
  #notify(observe: () => void): void {
    try {
      observe();
    } catch {
      // Deliberately ignored: see above.
    }
  }
}

/** The log's latest recorded time for the decision; 0 (nothing recorded yet) is null. */
const isoOrNull = (epochMs: number): string | null =>
  epochMs === 0 ? null : new Date(epochMs).toISOString();
