/**
 * Group commit. Appends that arrive while a transaction is running wait in a bounded queue and
 * go together into the next one: one lock, one round of inserts, one fsync and one notification
 * for many requests. Throughput comes from batching, not from parallel writers, because the
 * append lock makes writers take turns anyway (that is what keeps positions in commit order).
 */
import { StorylineError, isStorylineError } from '../domain/errors.ts';
import { appendBatch, type AppendRequest, type AppendResult } from './append-batch.ts';
import type { EventLog } from './ports.ts';

export interface AppenderOptions {
  /** Events per transaction at most; a single larger request still goes alone. */
  readonly maxBatchEvents?: number;
  /** Requests waiting at most; past it an append is refused as `unavailable` (HTTP 503). */
  readonly maxQueuedRequests?: number;
  /** Called after each committed transaction with its size (for metrics). */
  readonly onBatch?: (batch: BatchSize) => void;
}

/** One group commit: how many requests and events went into the transaction. */
export interface BatchSize {
  readonly requests: number;
  readonly events: number;
}

interface Waiting {
  readonly request: AppendRequest;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

export class Appender {
  readonly #log: EventLog;
  readonly #maxBatchEvents: number;
  readonly #maxQueued: number;
  readonly #onBatch: ((batch: BatchSize) => void) | undefined;
  #queue: Waiting[] = [];
  #running: Promise<void> | null = null;
  #closed = false;

  constructor(log: EventLog, options: AppenderOptions = {}) {
    this.#log = log;
    this.#maxBatchEvents = options.maxBatchEvents ?? 1000;
    this.#maxQueued = options.maxQueuedRequests ?? 10_000;
    this.#onBatch = options.onBatch;
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
    return new Promise<AppendResult>((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      this.#running ??= this.#drain();
    });
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
          if (batch.length === 1) {
            batch[0]?.reject(error);
            continue;
          }
          // Something other than a rule failed the shared transaction (a lost connection, a
          // serialization surprise). Retry each request alone so one cannot sink the others.
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
    const outcomes = await this.#log.withAppendLock((tx) =>
      appendBatch(
        tx,
        batch.map((waiting) => waiting.request),
      ),
    );
    outcomes.forEach((outcome, index) => {
      const waiting = batch[index] as Waiting;
      if (isStorylineError(outcome)) waiting.reject(outcome);
      else waiting.resolve(outcome);
    });
    try {
      this.#onBatch?.({
        requests: batch.length,
        events: batch.reduce((sum, waiting) => sum + waiting.request.events.length, 0),
      });
    } catch {
      // The transaction committed: an observer's failure must not make #drain retry it.
    }
  }
}
