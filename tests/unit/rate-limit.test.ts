/** Token buckets, on a clock the test moves: a burst, then a steady rate, per key, bounded. */
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/adapters/http/rate-limit.ts';

function limiterAt(options: { perSecond: number; burst: number; maxKeys?: number }) {
  const clock = { now: 0 };
  const limiter = new RateLimiter({ ...options, now: () => clock.now });
  return { limiter, clock };
}

describe('RateLimiter', () => {
  it('given a full bucket, when a burst is taken, then the next waits for one to refill', () => {
    const { limiter } = limiterAt({ perSecond: 2, burst: 3 });
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBeCloseTo(0.5);
  });

  it('given an empty bucket, when time passes, then it refills at the rate, up to the burst', () => {
    const { limiter, clock } = limiterAt({ perSecond: 2, burst: 3 });
    for (let index = 0; index < 3; index += 1) limiter.take('a');
    clock.now += 500;
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBeGreaterThan(0);
    clock.now += 60_000;
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBeGreaterThan(0);
  });

  it('given refused requests, then they do not push the wait further out', () => {
    const { limiter } = limiterAt({ perSecond: 1, burst: 1 });
    limiter.take('a');
    const first = limiter.take('a');
    expect(limiter.take('a')).toBeCloseTo(first);
  });

  it('keeps a bucket per key', () => {
    const { limiter } = limiterAt({ perSecond: 1, burst: 1 });
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBeGreaterThan(0);
    expect(limiter.take('b')).toBe(0);
  });

  it('forgets the least recently used keys past its bound', () => {
    const { limiter } = limiterAt({ perSecond: 1, burst: 1, maxKeys: 2 });
    limiter.take('a');
    limiter.take('b');
    limiter.take('a');
    limiter.take('c'); // b goes: a was used more recently
    expect(limiter.take('b')).toBe(0);
    expect(limiter.take('c')).toBeGreaterThan(0);
  });

  it('refuses a rate or burst that limits nothing', () => {
    expect(() => new RateLimiter({ perSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new RateLimiter({ perSecond: 1, burst: 0 })).toThrow(RangeError);
  });
});
