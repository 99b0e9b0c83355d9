/**
 * Publishes scheduled drafts when they are due. Every server process runs one; they share the
 * work through the database (`DraftStore.claimDue` skips drafts another process is claiming, and
 * a claim holds a draft for a lease), so each due draft is published once, by whichever process
 * claims it first, and a draft whose process died mid-way is taken over when its lease lapses.
 * Nothing is kept in memory between ticks: a restart loses nothing.
 */
import type { Drafts } from './drafts.ts';

export interface DraftSchedulerOptions {
  /** How often it looks for due drafts. */
  readonly intervalMs: number;
  /** Drafts claimed at once; a full batch is followed at once by the next. */
  readonly batchSize?: number;
  /** A tick that failed as a whole (the database is away); it tries again next tick. */
  readonly onError?: (error: unknown) => void;
}

export class DraftScheduler {
  readonly #drafts: Drafts;
  readonly #intervalMs: number;
  readonly #batchSize: number;
  readonly #onError: (error: unknown) => void;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #closed = false;

  constructor(drafts: Drafts, options: DraftSchedulerOptions) {
    if (!Number.isInteger(options.intervalMs) || options.intervalMs < 1) {
      throw new Error(`intervalMs must be a positive whole number, not ${options.intervalMs}`);
    }
    this.#drafts = drafts;
    this.#intervalMs = options.intervalMs;
    this.#batchSize = options.batchSize ?? 100;
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Ticks now, then every interval after the previous tick ends (ticks never overlap). */
  start(): void {
    if (this.#closed || this.#timer !== null || this.#running !== null) return;
    this.#schedule(0);
  }

  /** Stops ticking and waits for a tick in progress (its appends commit or fail). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#running = this.#tick().finally(() => {
        this.#running = null;
        if (!this.#closed) this.#schedule(this.#intervalMs);
      });
    }, delayMs);
    // The server keeps the process alive; a scheduler alone should not.
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    try {
      while (!this.#closed && (await this.#drafts.publishDue(this.#batchSize)) === this.#batchSize);
    } catch (error) {
      this.#onError(error);
    }
  }
}
