/**
 * growth: does a story get slower as it grows? One big story is built over HTTP with batched
 * appends: 10,000 developments (1,000 with --quick), every 20th a `claim`; then 1,000 corrections
 * (100) that replace bodies with ~19 kB of text, and 500 disputes (50) of the claims. Each round
 * then measures, on a fresh small story of 10 developments (the baseline) and on the big one:
 *  - an append of one development (with expectedVersion), median of sequential appends;
 *  - a story read, `GET /v1/stories/{id}`;
 *  - a snapshot: a WebSocket subscription without a cursor, until the `snapshot` frame arrives;
 *  - time travel, `GET /v1/stories/{id}/state?at=<the story's last position>`.
 * And once: the story's row in the `stories` view table, as text (`octet_length(row::text)`: the
 * JSON PostgreSQL stores, reads and rewrites; `pg_column_size`, after compression, in the notes) at
 * 10 developments, before the corrections and disputes, and at the end. That
 * one reads a table by name, so it is reported as not measured if the schema moves on.
 */
import pg from 'pg';
import { correction, development, dispute, storyOpened, type AppendEvent } from '../lib/events.ts';
import { HttpClient, StorylineWriter } from '../lib/http.ts';
import { LiveClients } from '../lib/live-clients.ts';
import { startStoryline } from '../lib/processes.ts';
import { makeRow, ratioAtMost } from '../lib/results.ts';
import { interleave, pluck, type Measurement } from '../lib/rounds.ts';
import { Scope, type Scenario, type ScenarioContext } from '../lib/scenario.ts';
import { summarize } from '../lib/stats.ts';
import { prepareDatabase } from '../lib/storyline.ts';

interface StoryState {
  readonly storyId: string;
  version: number;
  position: number;
}

interface RowSize {
  readonly stored: number;
  readonly text: number;
}

async function run(context: ScenarioContext): Promise<void> {
  const { scope } = context;
  const developments = context.size(10_000, 1000);
  const corrections = context.size(1000, 100);
  const disputes = context.size(500, 50);
  const samplesPerOperation = { append: context.size(7, 5), read: context.size(5, 3), slow: 3 };
  const database = await prepareDatabase(context, 'growth');
  const server = await startStoryline(scope, { name: 'growth', databaseUrl: database.url });
  const http = new HttpClient(scope, server.url, 4);
  const writer = new StorylineWriter(http, database.token);
  const wsUrl = server.url.replace(/^http/, 'ws');

  const append = async (story: StoryState, events: readonly AppendEvent[]) => {
    const appended = await writer.append(story.storyId, events, story.version);
    story.version = appended.version;
    story.position = appended.positions.at(-1) ?? story.position;
  };
  const openStory = async (storyId: string, count: number): Promise<StoryState> => {
    const story = { storyId, version: 0, position: 0 };
    await append(story, [storyOpened(`Growth ${storyId}`)]);
    const batch = 200;
    for (let done = 0; done < count; done += batch) {
      await append(
        story,
        Array.from({ length: Math.min(batch, count - done) }, (_, offset) => {
          const index = done + offset;
          return development(`${storyId}-${index}`, {
            bytes: 600,
            kind: index % 20 === 0 ? 'claim' : 'statement',
          });
        }),
      );
    }
    return story;
  };

  const rowClient = new pg.Client({ connectionString: database.url });
  await rowClient.connect();
  scope.defer(() => rowClient.end());
  const rowSizeProblems = new Set<string>();
  const rowSize = async (storyId: string): Promise<RowSize> => {
    try {
      const result = await rowClient.query<{ stored: string; text: string }>(
        'select pg_column_size(s.*) as stored, octet_length(s::text) as text from stories s where story_id = $1',
        [storyId],
      );
      const row = result.rows[0];
      if (row === undefined) throw new Error(`no row for ${storyId}`);
      return { stored: Number(row.stored), text: Number(row.text) };
    } catch (error) {
      rowSizeProblems.add(error instanceof Error ? error.message : String(error));
      return { stored: Number.NaN, text: Number.NaN };
    }
  };

  context.log(`building a story of ${developments} developments`);
  const buildStart = performance.now();
  const big = await openStory('growth-big', developments);
  const small = await openStory('growth-small', 10);
  const smallRow = await rowSize(small.storyId);
  const beforeRow = await rowSize(big.storyId);
  context.log(`${corrections} corrections of ~19 kB bodies, ${disputes} disputes`);
  for (let done = 0; done < corrections; done += 40) {
    await append(
      big,
      Array.from({ length: Math.min(40, corrections - done) }, (_, offset) => {
        const index = done + offset;
        // Spread over the story, claims included.
        const target = Math.floor((index * developments) / corrections);
        return correction(`growth-big-${target}`, 19_000, index + 1);
      }),
    );
  }
  for (let done = 0; done < disputes; done += 200) {
    await append(
      big,
      Array.from({ length: Math.min(200, disputes - done) }, (_, offset) => {
        const claim = ((done + offset) * 20) % developments;
        return dispute(`growth-big-${claim}`, done + offset);
      }),
    );
  }
  const afterRow = await rowSize(big.storyId);
  const buildSeconds = (performance.now() - buildStart) / 1000;

  const timed = async (count: number, operation: () => Promise<void>): Promise<number> => {
    const times: number[] = [];
    for (let index = 0; index < count && performance.now() < context.deadline + 30_000; index++) {
      const start = performance.now();
      await operation();
      times.push(performance.now() - start);
    }
    return summarize(times).median;
  };
  const bytes = new Map<string, number>();
  let sequence = 0;
  const measure = async (story: StoryState, label: string): Promise<Measurement> => {
    const read = await timed(samplesPerOperation.read, async () => {
      const response = await http.request('GET', `/v1/stories/${story.storyId}`);
      if (response.status !== 200) throw new Error(`story read: ${response.status}`);
      bytes.set(`${label} story`, response.body.length);
    });
    const snapshot = await timed(samplesPerOperation.slow, async () => {
      const once = new Scope();
      try {
        let size = 0;
        const clients = await LiveClients.open(once, {
          count: 1,
          url: () => `${wsUrl}/v1/live?stories=${story.storyId}`,
          deadline: performance.now() + 60_000,
          onFrame: (_client, type, data) => {
            if (type === 'snapshot') size = data.length;
          },
        });
        if (!(await clients.waitUntil(() => size > 0, performance.now() + 60_000))) {
          throw new Error('no snapshot within 60 s');
        }
        bytes.set(`${label} snapshot`, size);
      } finally {
        await once.close();
      }
    });
    const travel = await timed(samplesPerOperation.slow, async () => {
      const response = await http.request(
        'GET',
        `/v1/stories/${story.storyId}/state?at=${story.position}`,
      );
      if (response.status !== 200) throw new Error(`time travel: ${response.status}`);
      bytes.set(`${label} state`, response.body.length);
    });
    const appendMs = await timed(samplesPerOperation.append, () =>
      append(story, [development(`${story.storyId}-extra-${++sequence}`, { bytes: 600 })]),
    );
    return { append: appendMs, read, snapshot, travel };
  };

  const samples = await interleave(
    context,
    [
      {
        name: 'small',
        // A fresh small story each round, so "small" stays at about 10 developments.
        run: async (round) => measure(await openStory(`growth-small-r${round + 1}`, 10), 'small'),
      },
      { name: 'big', run: () => measure(big, 'big') },
    ],
    // No warm-up: the big story's operations take seconds each, and building it warmed up.
  );

  const scenario = 'growth';
  const size = `${developments.toLocaleString('en-US')} developments + ${corrections} corrections + ${disputes} disputes`;
  const compare = (metric: string, pick: string) =>
    context.report(
      makeRow({
        scenario,
        metric: `${metric}, big story vs 10 developments`,
        unit: 'ms',
        storyline: pluck(samples, 'big', pick),
        baseline: {
          name: `the same on a story of 10 developments (${metric})`,
          values: pluck(samples, 'small', pick),
        },
        target: ratioAtMost(pick === 'append' ? 1.2 : 1.5),
      }),
    );
  compare('append latency', 'append');
  compare('story read (GET)', 'read');
  compare('snapshot (WS subscribe, no cursor)', 'snapshot');
  compare('time travel (state?at=)', 'travel');
  context.report(
    makeRow({
      scenario,
      metric: 'story row size as text, big story vs 10 developments',
      unit: 'bytes',
      storyline: [afterRow.text],
      baseline: { name: 'the story row at 10 developments', values: [smallRow.text] },
    }),
  );
  context.report(
    makeRow({
      scenario,
      metric: 'story row size as text, after corrections and disputes vs before',
      unit: 'bytes',
      storyline: [afterRow.text],
      baseline: {
        name: `the story row at ${developments.toLocaleString('en-US')} developments, before corrections and disputes`,
        values: [beforeRow.text],
      },
      target: ratioAtMost(1.2, '≈ 1 (≤ 1.2×)'),
    }),
  );
  for (const problem of rowSizeProblems) context.note(`row size not measured: ${problem}`);
  context.note(
    `big story: ${size}, built in ${buildSeconds.toFixed(1)} s; row as stored (pg_column_size, compressed): ` +
      `${smallRow.stored} B (10 developments), ${beforeRow.stored} B (before corrections), ` +
      `${afterRow.stored} B (end); ` +
      `response bytes: ${[...bytes].map(([what, size]) => `${what} ${size.toLocaleString('en-US')}`).join(', ')}`,
  );
}

export const growth: Scenario = {
  name: 'growth',
  title: 'a story of 10,000 developments, corrections and disputes against one of 10',
  capSeconds: { full: 200, quick: 40 },
  run,
};
