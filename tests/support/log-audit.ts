/**
 * What a fault test checks of the log once the fault is over: every acknowledged event is in
 * it exactly once, at the position it was acknowledged with, and the positions after the
 * test's start are gapless.
 */
import type pg from 'pg';
import { expect } from 'vitest';
import type { Acknowledged } from './retrying-writers.ts';

/** Asserts the above of the `expected` events after `startHead`; returns their positions. */
export async function expectEveryAcknowledgedOnce(
  pool: pg.Pool,
  startHead: number,
  acknowledged: readonly Acknowledged[],
  expected: number,
): Promise<number[]> {
  const { rows } = await pool.query<{ id: string; position: string }>(
    'select id, position from events where position > $1 order by position',
    [startHead],
  );
  expect(rows).toHaveLength(expected);
  const stored = new Map(rows.map((row) => [row.id, Number(row.position)]));
  for (const { id, position } of acknowledged) expect(stored.get(id)).toBe(position);
  const positions = rows.map((row) => Number(row.position));
  expect(positions).toEqual(positions.map((_, index) => startHead + 1 + index));
  return positions;
}
