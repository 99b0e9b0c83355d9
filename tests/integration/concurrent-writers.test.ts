/**
 * The log's central promise: a reader tailing `position > cursor` sees every committed event
 * exactly once and never goes backwards, while writers in several processes append at once.
 */
import { spawn } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgTypes } from '../../src/adapters/postgres/connect.ts';
import { createHarness, type Harness } from '../support/harness.ts';

const stories = ['alpha', 'bravo', 'charlie'];
const processes = 2;
const writersPerProcess = 4;
const perWriter = 250; // 2 processes x 4 writers x 250 = 2,000 events

function runWriterProcess(url: string, tag: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'tests/support/writer-process.ts',
        url,
        String(writersPerProcess),
        String(perWriter),
        stories.join(','),
        tag,
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`writer ${tag} exited ${code}`)),
    );
  });
}

describe('concurrent writers in two processes and a tailing reader', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
    for (const storyId of stories) {
      const response = await h.append(storyId, {
        events: [{ type: 'story.opened', data: { title: storyId, timeZone: 'UTC' } }],
      });
      expect(response.status).toBe(201);
    }
  });
  afterAll(() => h.close());

  it('delivers every committed event exactly once, in increasing position order', async () => {
    const reader = new pg.Client({ connectionString: h.database.url, types: pgTypes });
    await reader.connect();
    const seen: { position: number; id: string }[] = [];
    let cursor = 0;
    let writersDone = false;
    const expected = stories.length + processes * writersPerProcess * perWriter;

    const tail = async () => {
      // Bounded: stops when everything is read after the writers finished, or after the cap.
      for (let round = 0; round < 100_000; round += 1) {
        const finished = writersDone;
        const { rows } = await reader.query<{ position: number; id: string }>(
          'select position, id from events where position > $1 order by position limit 200',
          [cursor],
        );
        for (const row of rows) {
          expect(row.position).toBeGreaterThan(cursor);
          cursor = row.position;
          seen.push(row);
        }
        if (finished && rows.length === 0) return;
        if (rows.length === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      throw new Error('the reader did not catch up');
    };

    const tailing = tail();
    await Promise.all(
      Array.from({ length: processes }, (_, index) =>
        runWriterProcess(h.database.url, `p${index}`),
      ),
    );
    writersDone = true;
    await tailing;

    const { rows: all } = await reader.query<{ position: number; id: string }>(
      'select position, id from events order by position',
    );
    await reader.end();

    expect(all).toHaveLength(expected);
    expect(seen).toEqual(all);
    expect(new Set(seen.map((row) => row.id)).size).toBe(expected);
    // Positions are gapless too: no append burned one.
    expect(all.map((row) => row.position)).toEqual(
      Array.from({ length: expected }, (_, index) => index + 1),
    );

    // The views agree with the log: every story's version counts its events.
    for (const storyId of stories) {
      const { rows } = await h.storyline.connection.pool.query<{ count: number }>(
        'select count(*)::int8 as count from events where story_id = $1',
        [storyId],
      );
      const story = await h.getJson(`/v1/stories/${storyId}`);
      expect(story.body.version).toBe(rows[0]?.count);
      expect(story.body.counts.developments).toBe((rows[0]?.count ?? 0) - 1);
    }
  });
});
