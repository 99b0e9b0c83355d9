/**
 * Token buckets by key (a token, a client address): each key may take `burst` at once and then
 * `perSecond` a second. Kept in memory, per process: behind a load balancer each process limits
 * on its own.
 *
 * The map of buckets is bounded: past `maxKeys`, the least recently used buckets go first. A key
 * whose bucket went starts again with a full burst, which is also what it would have had once
 * idle long enough, so only a client that keeps more than `maxKeys` others busy gains from it.
 */
export interface RateLimitOptions {
  readonly perSecond: number;
  readonly burst: number;
  readonly maxKeys?: number;
  /** Milliseconds; injectable for tests. */
  readonly now?: () => number;
}

interface Bucket {
  readonly tokens: number;
  readonly at: number;
}

export class RateLimiter {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: RateLimitOptions) {
    if (!(options.perSecond > 0) || !(options.burst >= 1)) {
      throw new RangeError('a rate limit needs perSecond > 0 and burst >= 1');
    }
    this.#perMs = options.perSecond / 1000;
    this.#burst = options.burst;
    this.#maxKeys = options.maxKeys ?? 100_000;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Takes one from `key`'s bucket: 0 if it had one, else the seconds until it will. */
  take(key: string): number {
    const now = this.#now();
    const bucket = this.#buckets.get(key);
    const tokens =
      bucket === undefined
        ? this.#burst
        : Math.min(this.#burst, bucket.tokens + (now - bucket.at) * this.#perMs);
    // Re-inserted, so the map's order is least recently used first.
    this.#buckets.delete(key);
    if (tokens >= 1) {
      this.#buckets.set(key, { tokens: tokens - 1, at: now });
      this.#evict();
      return 0;
    }
    this.#buckets.set(key, { tokens, at: now });
    return (1 - tokens) / this.#perMs / 1000;
  }

  #evict(): void {
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size <= this.#maxKeys) return;
      this.#buckets.delete(key);
    }
  }
}
