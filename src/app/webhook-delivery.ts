/**
 * Delivers the log to webhook endpoints: at least once, in position order per endpoint, from a
 * durable cursor per endpoint.
 *
 * 1. **One process at a time.** The worker delivers only while it holds the delivery lease (a
 *    PostgreSQL session lock in production). The others try again every `syncIntervalMs`; when
 *    the holder dies, its session ends, the lock is freed and one of them takes over from the
 *    cursors in the database.
 * 2. **One lane per active endpoint.** A lane reads the log after the endpoint's cursor (its
 *    stories only, if it has some) and sends each event, in order, retrying it until a 2xx. Only
 *    then does the cursor move, with a compare-and-set on the old cursor: an event is never
 *    skipped, a crash mid-send means the event is sent again (at least once), and a lane that
 *    lost its lease or its endpoint cannot move a cursor that someone else has moved.
 * 3. **Retries** wait a random time up to `min(maxMs, baseMs * 2^(failures - 1))` ("full
 *    jitter"), so endpoints coming back from an outage are not hit by every retry at once. After
 *    `maxFailures` consecutive failures the endpoint is paused, its last error kept, until
 *    someone resumes it.
 * 4. **Waking.** A lane at the head sleeps until the live feed reports new events (`wake`), or
 *    `syncIntervalMs` passes (events committed by other processes reach the feed by NOTIFY or by
 *    its poll; the interval is the backstop).
 */
import type { LogReader } from './ports.ts';
import type { DeliveryLease, WebhookSender, WebhookStore, WebhookTarget } from './webhook-ports.ts';

export interface WebhookDeliveryOptions {
  readonly maxFailures: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** How often the endpoints are read again and the lease is tried or confirmed. */
  readonly syncIntervalMs?: number;
  /** Events read from the log at a time. */
  readonly pageSize?: number;
  /** [0, 1): the jitter's source. */
  readonly random?: () => number;
  readonly onDelivered?: (webhookId: string) => void;
  readonly onFailed?: (webhookId: string, error: string, paused: boolean) => void;
  readonly onError?: (error: unknown) => void;
}

/** The delay before retry number `failures` (1-based): full jitter over a capped exponential. */
export function retryDelayMs(
  failures: number,
  options: { readonly retryBaseMs: number; readonly retryMaxMs: number },
  random: () => number,
): number {
  const ceiling = Math.min(
    options.retryMaxMs,
    options.retryBaseMs * 2 ** Math.min(Math.max(failures - 1, 0), 30),
  );
  return Math.floor(random() * ceiling);
}

/** A sleep that `wake()` or `stop()` cuts short. */
class Alarm {
  #timer: NodeJS.Timeout | null = null;
  #resolve: (() => void) | null = null;
  #pending = false;

  sleep(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.#timer = setTimeout(() => this.ring(), ms);
    });
  }

  /** Ends the current sleep, or the next one if none is running. */
  ring(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const resolve = this.#resolve;
    this.#resolve = null;
    if (resolve === null) this.#pending = true;
    else resolve();
  }
}

class Lane {
  readonly target: WebhookTarget;
  readonly abort = new AbortController();
  /** Rung by new events. */
  readonly events = new Alarm();
  /** Rung only by stop: a retry's wait is not cut short by new events. */
  readonly backoff = new Alarm();
  done: Promise<void> = Promise.resolve();

  constructor(target: WebhookTarget) {
    this.target = target;
  }

  /** A method, not a getter: it changes across awaits. */
  stopped(): boolean {
    return this.abort.signal.aborted;
  }

  stop(): void {
    this.abort.abort();
    this.events.ring();
    this.backoff.ring();
  }
}

export class WebhookDelivery {
  readonly #store: WebhookStore;
  readonly #reader: Pick<LogReader, 'readEvents'>;
  readonly #sender: WebhookSender;
  readonly #lease: DeliveryLease;
  readonly #options: WebhookDeliveryOptions;
  readonly #syncIntervalMs: number;
  readonly #pageSize: number;
  readonly #random: () => number;
  readonly #onError: (error: unknown) => void;
  readonly #lanes = new Map<string, Lane>();
  readonly #sync = new Alarm();
  #leader = false;
  #closed = false;
  #running: Promise<void> | null = null;

  constructor(
    store: WebhookStore,
    reader: Pick<LogReader, 'readEvents'>,
    sender: WebhookSender,
    lease: DeliveryLease,
    options: WebhookDeliveryOptions,
  ) {
    this.#store = store;
    this.#reader = reader;
    this.#sender = sender;
    this.#lease = lease;
    this.#options = options;
    this.#syncIntervalMs = options.syncIntervalMs ?? 1000;
    this.#pageSize = options.pageSize ?? 100;
    this.#random = options.random ?? Math.random;
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Whether this process holds the lease (and so is the one delivering). */
  get leader(): boolean {
    return this.#leader;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  /** New events in the log: lanes waiting at the head read on. */
  wake(): void {
    for (const lane of this.#lanes.values()) lane.events.ring();
  }

  /** Endpoints changed (added, resumed): read them again now rather than at the next interval. */
  refresh(): void {
    this.#sync.ring();
  }

  /**
   * Stops every lane (aborting requests in flight: their events are sent again by whoever
   * delivers next) and gives up the lease.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#sync.ring();
    await this.#running;
  }

  /** A method, not a field read: `close()` changes it across awaits. */
  #isClosed(): boolean {
    return this.#closed;
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      try {
        await this.#syncOnce();
      } catch (error) {
        this.#onError(error);
      }
      if (this.#isClosed()) break;
      await this.#sync.sleep(this.#syncIntervalMs);
    }
    await this.#stopLanes();
    try {
      await this.#lease.release();
    } catch (error) {
      this.#onError(error);
    }
    this.#leader = false;
  }

  async #syncOnce(): Promise<void> {
    const held = await this.#lease.tryAcquire(() => {
      // The lease is gone (the lock's session ended): stop at once; the next sync tries again.
      this.#leader = false;
      void this.#stopLanes();
    });
    this.#leader = held;
    if (!held) {
      await this.#stopLanes();
      return;
    }
    const targets = await this.#store.active();
    if (this.#isClosed() || !this.#leader) return;
    const wanted = new Map(targets.map((target) => [target.id, target]));
    for (const [id, lane] of this.#lanes) {
      const target = wanted.get(id);
      // Removed, or paused by a lane that is still winding down.
      if (target === undefined || lane.stopped()) {
        lane.stop();
        this.#lanes.delete(id);
      }
    }
    for (const target of targets) {
      if (this.#lanes.has(target.id)) continue;
      const lane = new Lane(target);
      this.#lanes.set(target.id, lane);
      lane.done = this.#deliver(lane).catch((error: unknown) => this.#onError(error));
      void lane.done.finally(() => {
        if (this.#lanes.get(target.id) === lane) this.#lanes.delete(target.id);
      });
    }
  }

  async #stopLanes(): Promise<void> {
    const lanes = [...this.#lanes.values()];
    this.#lanes.clear();
    for (const lane of lanes) lane.stop();
    await Promise.all(lanes.map((lane) => lane.done));
  }

  /** One endpoint's lane: read after the cursor, send in order, move the cursor after a 2xx. */
  async #deliver(lane: Lane): Promise<void> {
    const { target } = lane;
    let cursor = target.cursor;
    let failures = target.failures;
    const storyIds = target.stories ?? undefined;
    while (!lane.stopped()) {
      let page;
      try {
        page = await this.#reader.readEvents({
          after: cursor,
          limit: this.#pageSize,
          ...(storyIds === undefined ? {} : { storyIds }),
        });
      } catch (error) {
        // The database is away: try again a little later.
        this.#onError(error);
        await lane.backoff.sleep(this.#syncIntervalMs);
        continue;
      }
      for (const event of page.events) {
        const body = JSON.stringify(event);
        for (;;) {
          if (lane.stopped()) return;
          const outcome = await this.#sender.send(
            { url: target.url, secret: target.secret, messageId: event.id, body },
            lane.abort.signal,
          );
          if (lane.stopped()) return;
          if (outcome.delivered) {
            if (!(await this.#store.advance(target.id, cursor, event.position))) return;
            cursor = event.position;
            failures = 0;
            this.#options.onDelivered?.(target.id);
            break;
          }
          failures += 1;
          const pause = failures >= this.#options.maxFailures;
          const recorded = await this.#store.recordFailure(target.id, cursor, {
            failures,
            error: outcome.error,
            pause,
          });
          this.#options.onFailed?.(target.id, outcome.error, pause);
          if (!recorded || pause) {
            lane.stop();
            return;
          }
          await lane.backoff.sleep(retryDelayMs(failures, this.#options, this.#random));
        }
      }
      // A short page holds every matching event up to the head: the cursor may pass over the
      // other stories' events up to there, so that lag counts what is still to be sent.
      if (page.events.length < this.#pageSize) {
        if (page.head > cursor) {
          if (!(await this.#store.advance(target.id, cursor, page.head))) return;
          cursor = page.head;
        }
        await lane.events.sleep(this.#syncIntervalMs);
      }
    }
  }
}
