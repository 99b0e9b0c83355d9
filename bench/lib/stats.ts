/** Order statistics over samples: percentiles of one run, and median/min/max over rounds. */

/** The p-th percentile (nearest rank) of ascending `sorted` values; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

export const ascending = (values: readonly number[]): number[] => [...values].sort((a, b) => a - b);

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** How many values (rounds) the summary is over; non-finite values are left out. */
  readonly rounds: number;
}

/** Median (mean of the middle two for an even count), min and max of the finite values. */
export function summarize(values: readonly number[]): Summary {
  const sorted = ascending(values.filter((value) => Number.isFinite(value)));
  const count = sorted.length;
  if (count === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, rounds: 0 };
  const middle = Math.floor(count / 2);
  const median =
    count % 2 === 1
      ? (sorted[middle] ?? Number.NaN)
      : ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2;
  return {
    median,
    min: sorted[0] ?? Number.NaN,
    max: sorted[count - 1] ?? Number.NaN,
    rounds: count,
  };
}

/** A latency distribution of one run, in milliseconds. */
export interface Latencies {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export function latencies(values: readonly number[]): Latencies {
  const sorted = ascending(values);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}
