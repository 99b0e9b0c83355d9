/**
 * Interleaved rounds: baseline, Storyline, baseline, Storyline, … so that whatever else the
 * machine is doing (other processes, a noisy neighbour, the page cache warming) falls on both
 * sides alike, and the ratio of medians stays fair even when absolute numbers drift.
 */
import { timeLeft, type ScenarioContext } from './scenario.ts';

/** One run's figures, by metric name. */
export type Measurement = Readonly<Record<string, number>>;

export interface Variant {
  readonly name: string;
  run(round: number): Promise<Measurement>;
}

export type Samples = ReadonlyMap<string, readonly Measurement[]>;

/**
 * Runs every variant once per round, in the given order, for `context.options.rounds` rounds (or
 * until the deadline, after at least one). With `warmUp`, each variant first runs once unrecorded
 * to warm connections, JIT and caches.
 */
export async function interleave(
  context: ScenarioContext,
  variants: readonly Variant[],
  options: { readonly warmUp?: boolean } = {},
): Promise<Samples> {
  const samples = new Map<string, Measurement[]>(variants.map((variant) => [variant.name, []]));
  if (options.warmUp === true) {
    for (const variant of variants) {
      context.log(`  warm-up: ${variant.name}`);
      await variant.run(-1);
    }
  }
  let completed = 0;
  while (completed < context.options.rounds && timeLeft(context, completed)) {
    for (const variant of variants) {
      context.log(`  round ${completed + 1}/${context.options.rounds}: ${variant.name}`);
      samples.get(variant.name)?.push(await variant.run(completed));
    }
    completed++;
  }
  if (completed < context.options.rounds) {
    context.note(`stopped after ${completed} of ${context.options.rounds} rounds (time cap)`);
  }
  return samples;
}

/** One metric of one variant across the rounds. */
export function pluck(samples: Samples, variant: string, metric: string): number[] {
  return (samples.get(variant) ?? []).map((measurement) => measurement[metric] ?? Number.NaN);
}
