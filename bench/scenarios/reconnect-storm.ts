/**
 * reconnect-storm: after a deploy or a network blip every subscriber comes back at once with its
 * cursor. Each round, for 500 subscribers (the baseline) and then 5,000 (100 and 500 with
 * --quick), on one `storyline serve` child process: append 100 events to the story, then connect
 * every subscriber with `after=<the position before them>` (README: resuming), spread evenly over
 * one second, and time from the first connection until the last subscriber holds all 100 missed
 * events. Lost = missed events that never arrived; duplicates are counted too.
 *
 * Database work during the storm is counted exactly: the server's DATABASE_URL goes through a
 * loopback proxy that counts the statements it sends (lib/query-counter.ts), from the storm's
 * first connection until 0.5 s after the last subscriber caught up. Target: the count does not
 * grow with the number of subscribers.
 */
import { development, storyOpened } from '../lib/events.ts';
import { HttpClient, StorylineWriter } from '../lib/http.ts';
import { LiveClients } from '../lib/live-clients.ts';
import { startStoryline } from '../lib/processes.ts';
import { startQueryCounter } from '../lib/query-counter.ts';
import { makeRow, ratioAtMost, valueAtMost } from '../lib/results.ts';
import { interleave, pluck, type Measurement } from '../lib/rounds.ts';
import { Scope, type Scenario, type ScenarioContext } from '../lib/scenario.ts';
import { prepareDatabase } from '../lib/storyline.ts';

const missed = 100;
const spreadMs = 1000;
const settleMs = 500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function run(context: ScenarioContext): Promise<void> {
  const { scope } = context;
  const few = context.size(500, 100);
  const many = context.size(5000, 500);
  const database = await prepareDatabase(context, 'storm');
  const counter = await startQueryCounter(scope, database.url);
  const server = await startStoryline(scope, {
    name: 'storm',
    databaseUrl: counter.url,
    env: { STORYLINE_WS_MAX_CONNECTIONS: String(many + 1000) },
  });
  const http = new HttpClient(scope, server.url, 2);
  const writer = new StorylineWriter(http, database.token);
  const storyId = 'storm';
  let head =
    (await writer.append(storyId, [storyOpened('Reconnect storm')], 0)).positions.at(-1) ?? 0;
  let sequence = 0;

  const failures = new Set<string>();
  const storm = async (subscribers: number): Promise<Measurement> => {
    const after = head;
    const events = Array.from({ length: missed }, () =>
      development(`storm-${++sequence}`, { bytes: 600 }),
    );
    head = (await writer.append(storyId, events)).positions.at(-1) ?? head;
    await sleep(settleMs);
    const before = counter.statements;
    const roundScope = new Scope();
    try {
      const start = performance.now();
      const clients = await LiveClients.open(roundScope, {
        count: subscribers,
        url: () => `${server.url.replace(/^http/, 'ws')}/v1/live?stories=${storyId}&after=${after}`,
        spreadMs,
        deadline: start + 60_000,
      });
      await clients.waitUntil(clients.allHave(missed), start + 60_000);
      const last = Math.max(...clients.clients.map((client) => client.lastEventAt));
      await sleep(settleMs);
      const queries = counter.statements - before;
      let lost = 0;
      let duplicates = 0;
      for (const client of clients.clients) {
        lost += Math.max(0, missed - client.events);
        duplicates += Math.max(0, client.events - missed);
      }
      const failure = clients.clients.find((client) => client.failed !== null)?.failed;
      if (failure !== undefined) failures.add(`${subscribers} subscribers: ${failure}`);
      return {
        seconds: (last - start) / 1000,
        lost,
        duplicates,
        queries,
        failed: clients.failed,
      };
    } finally {
      await roundScope.close();
    }
  };

  const samples = await interleave(context, [
    { name: 'few', run: () => storm(few) },
    { name: 'many', run: () => storm(many) },
  ]);
  const baseline = (metric: string, what: string) => ({
    name: `the same storm with ${few} subscribers (${what})`,
    values: pluck(samples, 'few', metric),
  });
  context.report(
    makeRow({
      scenario: 'reconnect-storm',
      metric: `time until all ${many} are live again (${missed} missed each, ${spreadMs / 1000} s spread)`,
      unit: 's',
      storyline: pluck(samples, 'many', 'seconds'),
      baseline: baseline('seconds', 'time'),
      target: valueAtMost(5),
    }),
  );
  context.report(
    makeRow({
      scenario: 'reconnect-storm',
      metric: `lost events, ${many} subscribers`,
      unit: 'events',
      storyline: pluck(samples, 'many', 'lost'),
      baseline: baseline('lost', 'lost'),
      target: valueAtMost(0, '0'),
    }),
  );
  context.report(
    makeRow({
      scenario: 'reconnect-storm',
      metric: `database queries during the storm, ${many} vs ${few} subscribers`,
      unit: 'statements',
      storyline: pluck(samples, 'many', 'queries'),
      baseline: baseline('queries', 'queries'),
      target: ratioAtMost(1.2, '≈ 1 (≤ 1.2×)'),
    }),
  );
  const sum = (variant: string, metric: string) =>
    pluck(samples, variant, metric).reduce((a, b) => a + b, 0);
  context.note(
    `duplicates: ${sum('many', 'duplicates')} (${many}), ${sum('few', 'duplicates')} (${few}); ` +
      `failed connections: ${sum('many', 'failed')} (${many}), ${sum('few', 'failed')} (${few}); ` +
      `failed connections count as lost events (a real client would retry); ` +
      `statements counted include the server's periodic feed poll (STORYLINE_LIVE_POLL_MS) during the storm`,
  );
  for (const failure of failures) context.note(`a failed connection: ${failure}`);
}

export const reconnectStorm: Scenario = {
  name: 'reconnect-storm',
  title: '5,000 subscribers resume 100 events behind within one second: time, losses, queries',
  capSeconds: { full: 150, quick: 40 },
  run,
};
