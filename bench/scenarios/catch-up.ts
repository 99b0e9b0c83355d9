/**
 * catch-up: reading a whole log from position 0. The log (100,000 events; 10,000 with --quick,
 * ~250-byte developments over 10 stories) is built over HTTP with 500 events per request. Then
 * each round, against one `storyline serve` child process:
 *  - WebSocket: one client of `/v1/live?stories=*&after=0` until it holds every event;
 *  - HTTP: `GET /v1/events?after=…&limit=1000`, following `next`, parsing each page, to the end;
 * and the baseline, raw `pg` keyset paging (1,000 rows a query, jsonb parsed by the driver) over
 * a plain table of as many rows of about the same size. Targets are absolute (events/s).
 */
import pg from 'pg';
import { development, storyOpened } from '../lib/events.ts';
import { field, HttpClient, StorylineWriter } from '../lib/http.ts';
import { LiveClients } from '../lib/live-clients.ts';
import { startStoryline } from '../lib/processes.ts';
import { makeRow, valueAtLeast } from '../lib/results.ts';
import { interleave, pluck, type Measurement } from '../lib/rounds.ts';
import { Scope, type Scenario, type ScenarioContext } from '../lib/scenario.ts';
import { prepareDatabase } from '../lib/storyline.ts';

const stories = 10;
const perRequest = 500;
const pageSize = 1000;

async function run(context: ScenarioContext): Promise<void> {
  const { scope } = context;
  const total = context.size(100_000, 10_000);
  const database = await prepareDatabase(context, 'catchup');
  const server = await startStoryline(scope, { name: 'catch-up', databaseUrl: database.url });
  const http = new HttpClient(scope, server.url, stories);
  const writer = new StorylineWriter(http, database.token);

  context.log(`building a log of ${total} events`);
  const buildStart = performance.now();
  let head = 0;
  await Promise.all(
    Array.from({ length: stories }, async (_, story) => {
      const storyId = `catch-up-${story}`;
      let version = (await writer.append(storyId, [storyOpened(`Catch-up ${story}`)], 0)).version;
      const share = Math.ceil(total / stories) - 1;
      for (let done = 0; done < share && performance.now() < context.deadline; done += perRequest) {
        const events = Array.from({ length: Math.min(perRequest, share - done) }, (_, offset) =>
          development(`${storyId}-${done + offset}`, { bytes: 250 }),
        );
        const appended = await writer.append(storyId, events, version);
        version = appended.version;
        head = Math.max(head, appended.positions.at(-1) ?? 0);
      }
    }),
  );
  const buildSeconds = (performance.now() - buildStart) / 1000;

  // The baseline's rows: as many, about as large as Storyline's envelopes.
  const sample = await http.getJson('/v1/events?after=0&limit=100');
  const envelopes = field(sample, 'events');
  const envelopeBytes = Array.isArray(envelopes)
    ? JSON.stringify(envelopes).length / Math.max(1, envelopes.length)
    : 500;
  const raw = new pg.Client({ connectionString: database.url });
  await raw.connect();
  scope.defer(() => raw.end());
  await raw.query('create table bench_log (position bigint primary key, data jsonb not null)');
  await raw.query(
    `insert into bench_log
       select g, jsonb_build_object('position', g, 'storyId', 'catch-up-' || (g % 10),
         'type', 'development.reported', 'body', repeat(md5(g::text), $2::int))
       from generate_series(1, $1::int) g`,
    [head, Math.max(1, Math.round((envelopeBytes - 100) / 32))],
  );
  await raw.query('vacuum analyze bench_log');

  const rawPaging = async (): Promise<Measurement> => {
    const start = performance.now();
    let after = 0;
    let read = 0;
    while (performance.now() < context.deadline + 60_000) {
      const page = await raw.query<{ position: string; data: unknown }>(
        'select position, data from bench_log where position > $1 order by position limit $2',
        [after, pageSize],
      );
      const last = page.rows.at(-1);
      if (last === undefined) break;
      read += page.rows.length;
      after = Number(last.position);
    }
    return { perSecond: read / ((performance.now() - start) / 1000), events: read };
  };
  const httpPaging = async (): Promise<Measurement> => {
    const start = performance.now();
    let after: unknown = 0;
    let read = 0;
    while (typeof after === 'number' && performance.now() < context.deadline + 60_000) {
      const page = await http.getJson(`/v1/events?after=${after}&limit=${pageSize}`);
      const events = field(page, 'events');
      read += Array.isArray(events) ? events.length : 0;
      after = field(page, 'next');
    }
    return { perSecond: read / ((performance.now() - start) / 1000), events: read };
  };
  const wsCatchUp = async (): Promise<Measurement> => {
    const once = new Scope();
    try {
      const start = performance.now();
      const clients = await LiveClients.open(once, {
        count: 1,
        url: () => `${server.url.replace(/^http/, 'ws')}/v1/live?stories=*&after=0`,
        deadline: start + 30_000,
      });
      await clients.waitUntil(clients.allHave(head), start + 120_000);
      const client = clients.clients[0];
      const read = client?.events ?? 0;
      const seconds = ((client?.lastEventAt ?? performance.now()) - start) / 1000;
      return {
        perSecond: read === 0 ? 0 : read / seconds,
        events: read,
        closed: client?.closeCode ?? 0,
      };
    } finally {
      await once.close();
    }
  };

  const samples = await interleave(
    context,
    [
      { name: 'raw', run: rawPaging },
      { name: 'ws', run: wsCatchUp },
      { name: 'http', run: httpPaging },
    ],
    { warmUp: !context.options.quick },
  );
  const baseline = {
    name: `raw pg keyset paging, ${pageSize} rows a query, over ${head.toLocaleString('en-US')} rows of ~${Math.round(envelopeBytes)} B`,
    values: pluck(samples, 'raw', 'perSecond'),
  };
  context.report(
    makeRow({
      scenario: 'catch-up',
      metric: `WebSocket catch-up from 0 (stories=*), ${head.toLocaleString('en-US')} events`,
      unit: 'events/s',
      storyline: pluck(samples, 'ws', 'perSecond'),
      baseline,
      target: valueAtLeast(50_000),
    }),
  );
  context.report(
    makeRow({
      scenario: 'catch-up',
      metric: `HTTP paging /v1/events limit=${pageSize}, ${head.toLocaleString('en-US')} events`,
      unit: 'events/s',
      storyline: pluck(samples, 'http', 'perSecond'),
      baseline,
      target: valueAtLeast(50_000),
    }),
  );
  const incomplete = [
    ...pluck(samples, 'ws', 'events'),
    ...pluck(samples, 'http', 'events'),
  ].filter((events) => events !== head);
  context.note(
    `log built in ${buildSeconds.toFixed(1)} s (${Math.round(head / buildSeconds)} events/s in requests of ${perRequest}); ` +
      (incomplete.length > 0
        ? `INCOMPLETE reads: ${incomplete.join(', ')} of ${head} events`
        : `every read got all ${head} events`),
  );
}

export const catchUp: Scenario = {
  name: 'catch-up',
  title: 'reading a 100,000-event log from 0 over WebSocket and HTTP pages',
  capSeconds: { full: 150, quick: 40 },
  run,
};
