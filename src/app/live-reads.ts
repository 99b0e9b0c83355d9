/**
 * The live path's share of the database: catch-up pages, snapshots, story lists and replays all
 * go through one gate that lets at most `permits` of them run at once, so however many live
 * clients ask (or however hard one asks), appends and the HTTP reads keep the rest of the pool.
 * The feed's own reads (one at a time per process) do not go through it: delivery to every
 * subscriber waits on them.
 *
 * A read queued for work that has meanwhile been abandoned (a replay replaced, a session ended)
 * is dropped when its turn comes instead of run: `wanted` is asked then.
 */
export class ReadCancelled extends Error {
  override readonly name = 'ReadCancelled';

  constructor() {
    super('the read was no longer wanted when its turn came');
  }
}

export class ReadGate {
  readonly permits: number;
  #free: number;
  /** Waiters in arrival order; `#next` is the first one not yet let in. */
  #waiting: (() => void)[] = [];
  #next = 0;

  constructor(permits: number) {
    if (!Number.isInteger(permits) || permits < 1) {
      throw new RangeError(`a read gate needs at least one permit, not ${permits}`);
    }
    this.permits = permits;
    this.#free = permits;
  }

  /** Reads running now. */
  get running(): number {
    return this.permits - this.#free;
  }

  /** Reads waiting for their turn. */
  get queued(): number {
    return this.#waiting.length - this.#next;
  }

  /** Runs `read` once a permit is free, unless it is no longer `wanted` by then. */
  async run<T>(read: () => Promise<T>, wanted: () => boolean = always): Promise<T> {
    if (this.#free > 0) this.#free -= 1;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      if (!wanted()) throw new ReadCancelled();
      return await read();
    } finally {
      this.#release();
    }
  }

  /** Hands the permit to the first waiter, or frees it. */
  #release(): void {
    const resolve = this.#waiting[this.#next];
    if (resolve === undefined) {
      this.#free += 1;
      return;
    }
    this.#waiting[this.#next] = noop;
    this.#next += 1;
    if (this.#next === this.#waiting.length) {
      this.#waiting = [];
      this.#next = 0;
    } else if (this.#next > 1024 && this.#next * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#next);
      this.#next = 0;
    }
    resolve();
  }
}

const always = () => true;
const noop = () => undefined;
