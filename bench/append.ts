/**
 * Append throughput. Baseline: raw `pg` inserts of one jsonb row per transaction (autocommit)
 * into a plain table, by C concurrent clients each on its own connection. Storyline: one
 * `development.reported` event per `Appender.append()` call by the same C concurrent callers,
 * with the same payload, on the same database. Both commit durably (synchronous_commit as the
 * server has it), so the ratio shows what the append path costs (lock, rule checks, projection
 * writes, notification) and what group commit wins back by sharing one transaction.
 */
import pg from 'pg';
import { Appender, type BatchSize } from '../src/app/appender.ts';
import type { Storyline } from '../src/composition.ts';
import { development, runWorkers, scaled, sectionCapMs, warmUpOf, type Section } from './common.ts';

const concurrency = 8;

export async function benchAppend(url: string, storyline: Storyline): Promise<Section> {
  const total = scaled(4000);
  const deadline = performance.now() + sectionCapMs;
  const notes: string[] = [];

  // Baseline: a plain table, one insert per transaction.
  const pool = new pg.Pool({ connectionString: url, max: concurrency });
  let baseline: number;
  try {
    await pool.query(
      `create table if not exists bench_events (
         position bigserial primary key,
         story_id text not null,
         type text not null,
         data jsonb not null,
         recorded_at timestamptz not null default now())`,
    );
    const insert = async () => {
      const event = development();
      await pool.query('insert into bench_events (story_id, type, data) values ($1, $2, $3)', [
        'bench-append',
        event.type,
        JSON.stringify(event.data),
      ]);
    };
    await runWorkers(warmUpOf(total), concurrency, deadline, insert);
    const start = performance.now();
    const run = await runWorkers(total, concurrency, deadline, insert);
    baseline = (run.done / (performance.now() - start)) * 1000;
    if (run.aborted) notes.push(`append baseline aborted after ${run.done} of ${total} inserts`);
  } finally {
    await pool.end();
  }

  // Storyline: the appender, with group commit observed through onBatch.
  const batches: BatchSize[] = [];
  const appender = new Appender(storyline.log, { onBatch: (batch) => batches.push(batch) });
  let measured: number;
  try {
    const storyId = 'bench-append';
    await appender.append({
      storyId,
      expectedVersion: 0,
      events: [{ type: 'story.opened', data: { title: 'Append benchmark', timeZone: 'UTC' } }],
      author: 'bench',
    });
    const append = async () => {
      await appender.append({ storyId, events: [development()], author: 'bench' });
    };
    await runWorkers(warmUpOf(total), concurrency, deadline, append);
    batches.length = 0;
    const start = performance.now();
    const run = await runWorkers(total, concurrency, deadline, append);
    measured = (run.done / (performance.now() - start)) * 1000;
    if (run.aborted) notes.push(`append Storyline aborted after ${run.done} of ${total} appends`);
  } finally {
    await appender.close();
  }
  const events = batches.reduce((sum, batch) => sum + batch.events, 0);
  const meanBatch = batches.length === 0 ? Number.NaN : events / batches.length;
  notes.push(
    `append: N = ${total} events, C = ${concurrency} concurrent callers; ` +
      `Storyline committed them in ${batches.length} transactions ` +
      `(mean group-commit batch ${meanBatch.toFixed(2)} events)`,
  );
  return {
    rows: [
      { benchmark: 'append', metric: 'events/s', baseline, storyline: measured, ratio: true },
      {
        benchmark: 'append',
        metric: 'events per transaction',
        baseline: 1,
        storyline: meanBatch,
        ratio: false,
      },
    ],
    notes,
  };
}
