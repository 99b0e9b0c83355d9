/** Shared helpers: the scale knob, bounded worker pools, percentiles and the result rows. */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { NewEvent } from '../src/domain/event-types.ts';

/** `BENCH_SCALE` multiplies the counts (N, K, R) for longer runs; 1 by default. */
export const scale = (() => {
  const raw = Number(process.env['BENCH_SCALE'] ?? '1');
  return Number.isFinite(raw) && raw > 0 ? raw : 1;
})();

/** Every section stops after this long and reports what it measured so far. */
export const sectionCapMs = 120_000;

export const scaled = (count: number): number => Math.max(1, Math.round(count * scale));

/** A small fraction of a measurement, run first to warm connections, JIT and caches. */
export const warmUpOf = (count: number): number => Math.max(1, Math.round(count / 20));

export interface Row {
  readonly benchmark: string;
  readonly metric: string;
  readonly baseline: number;
  readonly storyline: number;
  /** Storyline / baseline for this metric; null where a ratio means nothing. */
  readonly ratio: boolean;
}

export interface Section {
  readonly rows: readonly Row[];
  readonly notes: readonly string[];
}

/**
 * Runs `total` tasks on `concurrency` workers, each task after the previous one of its worker.
 * Stops taking new tasks at `deadline` (a `performance.now()` value); returns how many finished.
 */
export async function runWorkers(
  total: number,
  concurrency: number,
  deadline: number,
  task: (index: number) => Promise<void>,
): Promise<{ done: number; aborted: boolean }> {
  let next = 0;
  let done = 0;
  let aborted = false;
  const worker = async () => {
    while (next < total) {
      if (performance.now() > deadline) {
        aborted = true;
        return;
      }
      const index = next++;
      await task(index);
      done++;
      // A new task starts on a later turn of the event loop, as a new request would.
      await yieldToLoop();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { done, aborted };
}

/** Waits until `condition` holds or `deadline` passes; true if it held. */
export async function waitFor(condition: () => boolean, deadline: number): Promise<boolean> {
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return true;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

let developments = 0;

/** A `development.reported` event whose JSON is about `bytes` long. */
export function development(bytes = 300): NewEvent {
  developments++;
  return {
    type: 'development.reported',
    data: {
      developmentId: `bench-${developments}-${Math.random().toString(36).slice(2, 8)}`,
      kind: 'statement',
      headline: `Benchmark update ${developments}`,
      body: 'x'.repeat(Math.max(0, bytes - 120)),
    },
  };
}
