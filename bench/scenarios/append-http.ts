/**
 * append-http: appends over HTTP, one `development.reported` (~600 bytes of JSON) per request.
 *
 * Storyline runs as a `storyline serve` child process; its load generator is in the bench
 * process: C clients on keep-alive connections, each owning 6 stories, taking them in turn and
 * sending `expectedVersion` (the version the previous append to that story returned), so every
 * append is a checked, optimistic-concurrency append as a newsroom tool would make it.
 *
 * Baselines, in the same database and the same rounds, with their clients also in the bench
 * process (so the client side costs are alike; Storyline's also pay HTTP):
 *  - raw `pg`: C clients, each on its own connection, inserting one ~600-byte jsonb row per
 *    statement (autocommit: one transaction each) into a plain table: the database's floor;
 *  - Emmett (@event-driven-io/emmett-postgresql): C writers, each owning 6 streams, appending one
 *    event with `expectedStreamVersion`: an event store library doing the same job in-process.
 *
 * Measured: events/s and p50/p99 latency with 8 clients; 1 client against 1 raw client; the
 * acknowledgement p50 of an idle system (1 client, one append at a time with a pause) against a
 * raw insert-and-commit; and 32 clients against Storyline's own 8-client figure.
 */
import {
  getPostgreSQLEventStore,
  type PostgresEventStore,
} from '@event-driven-io/emmett-postgresql';
import pg from 'pg';
import { drive, type DriveResult } from '../lib/drive.ts';
import { development, developmentJson, storyOpened } from '../lib/events.ts';
import { HttpClient, StorylineWriter } from '../lib/http.ts';
import { startStoryline } from '../lib/processes.ts';
import { makeRow, ratioAtLeast, ratioAtMost } from '../lib/results.ts';
import { interleave, pluck, type Measurement } from '../lib/rounds.ts';
import type { Scenario, ScenarioContext } from '../lib/scenario.ts';
import { prepareDatabase } from '../lib/storyline.ts';

const storiesPerClient = 6;
const maxClients = 32;
const idlePauseMs = 20;

const measured = (result: DriveResult): Measurement => ({
  perSecond: result.perSecond,
  p50: result.latency.p50,
  p99: result.latency.p99,
  operations: result.operations,
  failures: result.failures,
});

async function run(context: ScenarioContext): Promise<void> {
  const { scope } = context;
  const runMs = context.size(4000, 1000);
  const idleSamples = context.size(100, 30);
  const maxOperations = 200_000;
  const database = await prepareDatabase(context, 'append');
  const server = await startStoryline(scope, { name: 'append', databaseUrl: database.url });
  const http = new HttpClient(scope, server.url, maxClients);
  const writer = new StorylineWriter(http, database.token);
  const failures: string[] = [];
  const remember = (name: string, result: DriveResult) => {
    if (result.firstFailure !== null) {
      failures.push(`${name}: ${result.failures} failed, first: ${result.firstFailure}`);
    }
    return measured(result);
  };

  // Storyline: the stories, opened once; versions tracked across runs.
  const storyOf = (client: number, n: number) => `append-c${client}-s${n % storiesPerClient}`;
  const versions = new Map<string, number>();
  context.log(`opening ${maxClients * storiesPerClient} stories`);
  await drive({
    clients: 8,
    maxOperations: maxClients * storiesPerClient,
    maxMs: 60_000,
    operation: async (_client, _n) => {
      const index = versions.size;
      const storyId = storyOf(Math.floor(index / storiesPerClient), index);
      versions.set(storyId, 0);
      const appended = await writer.append(storyId, [storyOpened(`Append ${storyId}`)], 0);
      versions.set(storyId, appended.version);
    },
  });
  let sequence = 0;
  const storylineAppend = async (client: number, n: number) => {
    const storyId = storyOf(client, n);
    const appended = await writer.append(
      storyId,
      [development(`d${++sequence}`, { bytes: 600 })],
      versions.get(storyId) ?? 0,
    );
    versions.set(storyId, appended.version);
  };

  // Raw pg: one connection per client, one autocommitted insert per event.
  const rawClients = Array.from(
    { length: 8 },
    () => new pg.Client({ connectionString: database.url }),
  );
  for (const client of rawClients) {
    await client.connect();
    scope.defer(() => client.end());
  }
  await rawClients[0]?.query(
    `create table bench_raw_events (
       position bigserial primary key,
       stream_id text not null,
       type text not null,
       data jsonb not null,
       recorded_at timestamptz not null default now())`,
  );
  const rawInsert = async (client: number, n: number) => {
    const connection = rawClients[client];
    if (connection === undefined) throw new Error(`no raw client ${client}`);
    await connection.query(
      'insert into bench_raw_events (stream_id, type, data) values ($1, $2, $3)',
      [storyOf(client, n), 'development.reported', developmentJson(`r${++sequence}`)],
    );
  };

  // Emmett: its own tables in the same database, its own pool.
  const emmett: PostgresEventStore = getPostgreSQLEventStore(database.url);
  scope.defer(() => emmett.close());
  const streamVersions = new Map<string, bigint>();
  const emmettAppend = async (client: number, n: number) => {
    const stream = `emmett-${storyOf(client, n)}`;
    const expected = streamVersions.get(stream);
    const event = development(`e${++sequence}`, { bytes: 600 });
    const result = await emmett.appendToStream(
      stream,
      [{ type: 'development.reported', data: event.data }],
      expected === undefined ? {} : { expectedStreamVersion: expected },
    );
    streamVersions.set(stream, result.nextExpectedStreamVersion);
  };

  // Warm-up runs (round -1) are short: they only warm connections, JIT and caches.
  type Operation = (client: number, n: number) => Promise<void>;
  const load = (clients: number, operation: Operation, round: number) =>
    drive({ clients, maxOperations, maxMs: round < 0 ? 1000 : runMs, operation });
  const idle = (operation: Operation, round: number) =>
    drive({
      clients: 1,
      maxOperations: round < 0 ? 10 : idleSamples,
      maxMs: runMs * 2,
      pauseMs: idlePauseMs,
      operation,
    });
  const variant = (name: string, run: (round: number) => Promise<DriveResult>) => ({
    name,
    run: async (round: number) => remember(name, await run(round)),
  });

  const samples = await interleave(
    context,
    [
      variant('raw-8', (round) => load(8, rawInsert, round)),
      variant('storyline-8', (round) => load(8, storylineAppend, round)),
      variant('emmett-8', (round) => load(8, emmettAppend, round)),
      variant('raw-1', (round) => load(1, rawInsert, round)),
      variant('storyline-1', (round) => load(1, storylineAppend, round)),
      variant('raw-idle', (round) => idle(rawInsert, round)),
      variant('storyline-idle', (round) => idle(storylineAppend, round)),
      variant('storyline-32', (round) => load(32, storylineAppend, round)),
    ],
    { warmUp: !context.options.quick },
  );

  const scenario = 'append-http';
  const rows = (
    metric: string,
    unit: string,
    storyline: string,
    baseline: string,
    name: string,
    pick: string,
    target?: ReturnType<typeof ratioAtLeast>,
  ) =>
    context.report(
      makeRow({
        scenario,
        metric,
        unit,
        storyline: pluck(samples, storyline, pick),
        baseline: { name, values: pluck(samples, baseline, pick) },
        ...(target === undefined ? {} : { target }),
      }),
    );
  const raw8 = 'raw pg insert, 8 connections, one row per transaction';
  rows(
    'events/s, 8 clients, vs raw insert',
    'events/s',
    'storyline-8',
    'raw-8',
    raw8,
    'perSecond',
    ratioAtLeast(0.5),
  );
  rows(
    'events/s, 8 clients, vs Emmett',
    'events/s',
    'storyline-8',
    'emmett-8',
    'Emmett appendToStream, 8 writers, expectedStreamVersion',
    'perSecond',
    ratioAtLeast(3),
  );
  rows('p50 latency, 8 clients', 'ms', 'storyline-8', 'raw-8', raw8, 'p50');
  rows('p99 latency, 8 clients', 'ms', 'storyline-8', 'raw-8', raw8, 'p99');
  rows(
    'events/s, 1 client',
    'events/s',
    'storyline-1',
    'raw-1',
    'raw pg insert, 1 connection',
    'perSecond',
    ratioAtLeast(0.5),
  );
  rows(
    'idle append ack p50',
    'ms',
    'storyline-idle',
    'raw-idle',
    `raw pg insert-and-commit p50, 1 connection, ${idlePauseMs} ms between`,
    'p50',
    ratioAtMost(2),
  );
  rows(
    'events/s, 32 clients, vs Storyline 8 clients',
    'events/s',
    'storyline-32',
    'storyline-8',
    'Storyline itself with 8 clients',
    'perSecond',
    ratioAtLeast(1),
  );
  rows(
    'p99 latency, 32 clients',
    'ms',
    'storyline-32',
    'storyline-8',
    'Storyline itself with 8 clients',
    'p99',
  );
  const total = (variant: string) =>
    pluck(samples, variant, 'operations').reduce((a, b) => a + b, 0);
  context.note(
    `${runMs / 1000} s per run; appended ${total('storyline-8')} (8 clients), ` +
      `${total('storyline-32')} (32), ${total('storyline-1')} (1) events; raw ${total('raw-8')} rows (8), ` +
      `Emmett ${total('emmett-8')} events (8)`,
  );
  for (const failure of failures) context.note(failure);
}

export const appendHttp: Scenario = {
  name: 'append-http',
  title: 'HTTP appends (1 event, ~600 B, expectedVersion) against raw pg inserts and Emmett',
  capSeconds: { full: 170, quick: 40 },
  run,
};
