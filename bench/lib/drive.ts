/** A closed-loop driver: N clients, each doing one operation after another, bounded in count and time. */
import { latencies, type Latencies } from './stats.ts';

export interface DriveResult {
  readonly operations: number;
  readonly failures: number;
  readonly firstFailure: string | null;
  readonly seconds: number;
  readonly perSecond: number;
  readonly latency: Latencies;
}

/**
 * Runs `clients` loops; loop `client` calls `operation(client, n)` for its n-th operation, after
 * the previous one has finished (and `pauseMs` later, for an idle system), until `maxOperations`
 * have started in all or `maxMs` have passed. Failed operations are counted, not timed.
 */
export async function drive(options: {
  readonly clients: number;
  readonly maxOperations: number;
  readonly maxMs: number;
  readonly pauseMs?: number;
  readonly operation: (client: number, n: number) => Promise<void>;
}): Promise<DriveResult> {
  const times: number[] = [];
  let started = 0;
  let failures = 0;
  let firstFailure: string | null = null;
  const start = performance.now();
  const stopAt = start + options.maxMs;
  const loop = async (client: number) => {
    for (let n = 0; started < options.maxOperations && performance.now() < stopAt; n++) {
      started++;
      const before = performance.now();
      try {
        await options.operation(client, n);
        times.push(performance.now() - before);
      } catch (error) {
        failures++;
        firstFailure ??= error instanceof Error ? error.message : String(error);
      }
      if (options.pauseMs !== undefined) {
        await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, (_, client) => loop(client)));
  const seconds = (performance.now() - start) / 1000;
  return {
    operations: times.length,
    failures,
    firstFailure,
    seconds,
    perSecond: times.length / seconds,
    latency: latencies(times),
  };
}
