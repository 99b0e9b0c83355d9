/**
 * live-latency: 100 WebSocket subscribers of one story (`/v1/live?stories=<id>&after=<head>`)
 * on a `storyline serve` child process, and appends of one event each over HTTP at a steady
 * 100 per second (open loop: sent on schedule, not after the previous answer) for a bounded
 * number of seconds. For every delivery: the time from sending the append to that subscriber
 * receiving the event (one clock: senders and subscribers are both in the bench process). Lost =
 * deliveries that never came (every subscriber should get every acknowledged event once);
 * duplicates are counted too. Absolute targets; the baseline column shows the append's own HTTP
 * acknowledgement, the floor under any delivery that waits for the commit.
 */
import { development, storyOpened } from '../lib/events.ts';
import { HttpClient, StorylineWriter } from '../lib/http.ts';
import { LiveClients } from '../lib/live-clients.ts';
import { startStoryline } from '../lib/processes.ts';
import { makeRow, valueAtMost } from '../lib/results.ts';
import { interleave, pluck, type Measurement } from '../lib/rounds.ts';
import type { Scenario, ScenarioContext } from '../lib/scenario.ts';
import { prepareDatabase } from '../lib/storyline.ts';
import { latencies } from '../lib/stats.ts';

const subscribers = 100;
const appendsPerSecond = 100;
const maxInFlight = 64;
const marker = Buffer.from('"developmentId":"lat-');

async function run(context: ScenarioContext): Promise<void> {
  const { scope } = context;
  const seconds = context.size(10, 2);
  const database = await prepareDatabase(context, 'live');
  const server = await startStoryline(scope, { name: 'live', databaseUrl: database.url });
  const http = new HttpClient(scope, server.url, maxInFlight);
  const writer = new StorylineWriter(http, database.token);
  const storyId = 'live-latency';
  const opened = await writer.append(storyId, [storyOpened('Live latency')], 0);
  const head = opened.positions.at(-1) ?? 0;

  // Per round: when each append was sent, and every delivery's latency.
  let sentAt = new Map<string, number>();
  let received: Set<string>[] = [];
  let deliveryTimes: number[] = [];
  const clients = await LiveClients.open(scope, {
    count: subscribers,
    url: () => `${server.url.replace(/^http/, 'ws')}/v1/live?stories=${storyId}&after=${head}`,
    concurrency: 20,
    deadline: context.deadline,
    onFrame: (client, type, data, now) => {
      if (type !== 'event') return;
      const at = data.indexOf(marker);
      if (at < 0) return;
      const start = at + marker.length - 'lat-'.length;
      const id = data.toString('latin1', start, data.indexOf(34, start));
      const sent = sentAt.get(id);
      if (sent === undefined) return;
      deliveryTimes.push(now - sent);
      (received[client.index] ??= new Set()).add(id);
    },
  });
  if (!(await clients.waitUntil(() => clients.subscribed === subscribers, context.deadline))) {
    throw new Error(
      `only ${clients.subscribed} of ${subscribers} subscribers were subscribed in time`,
    );
  }

  const round = async (number: number): Promise<Measurement> => {
    sentAt = new Map();
    received = [];
    deliveryTimes = [];
    const total = seconds * appendsPerSecond;
    const acks: number[] = [];
    const acknowledged: string[] = [];
    let failures = 0;
    const inFlight = new Set<Promise<void>>();
    const start = performance.now();
    for (let index = 0; index < total && performance.now() < context.deadline + 60_000; index++) {
      const due = start + (index * 1000) / appendsPerSecond;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
      const id = `lat-r${number}-${index}`;
      const sent = performance.now();
      sentAt.set(id, sent);
      const request = writer.append(storyId, [development(id, { bytes: 600 })]).then(
        () => {
          acks.push(performance.now() - sent);
          acknowledged.push(id);
        },
        () => {
          failures++;
        },
      );
      const tracked = request.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
    }
    await Promise.all(inFlight);
    const expected = acknowledged.length * subscribers;
    const grace = performance.now() + 3000;
    await clients.waitUntil(() => deliveryTimes.length >= expected, grace);
    let unique = 0;
    for (let index = 0; index < subscribers; index++) {
      const got = received[index];
      if (got !== undefined) for (const id of acknowledged) if (got.has(id)) unique++;
    }
    const duplicates = deliveryTimes.length - received.reduce((sum, got) => sum + got.size, 0);
    const delivery = latencies(deliveryTimes);
    const ack = latencies(acks);
    return {
      p50: delivery.p50,
      p99: delivery.p99,
      max: delivery.max,
      lost: expected - unique,
      duplicates,
      ackP50: ack.p50,
      ackP99: ack.p99,
      appended: acknowledged.length,
      failures,
      closedEarly: clients.closedEarly,
    };
  };
  const samples = await interleave(context, [{ name: 'storyline', run: round }]);

  const row = (
    metric: string,
    pick: string,
    baselinePick: string | null,
    limit: number,
    unit = 'ms',
  ) =>
    context.report(
      makeRow({
        scenario: 'live-latency',
        metric,
        unit,
        storyline: pluck(samples, 'storyline', pick),
        ...(baselinePick === null
          ? {}
          : {
              baseline: {
                name: `the append's own HTTP acknowledgement (${baselinePick === 'ackP50' ? 'p50' : 'p99'})`,
                values: pluck(samples, 'storyline', baselinePick),
              },
            }),
        target: valueAtMost(limit, unit === 'ms' ? undefined : '0'),
      }),
    );
  row('append → delivery p50', 'p50', 'ackP50', 4);
  row('append → delivery p99', 'p99', 'ackP99', 20);
  row('lost deliveries', 'lost', null, 0, 'deliveries');
  const sum = (metric: string) => pluck(samples, 'storyline', metric).reduce((a, b) => a + b, 0);
  context.note(
    `${subscribers} subscribers, ${appendsPerSecond} appends/s for ${seconds} s per round: ` +
      `${sum('appended')} appended, ${sum('failures')} failed, ${sum('duplicates')} duplicate deliveries, ` +
      `${clients.closedEarly} subscribers closed by the server`,
  );
}

export const liveLatency: Scenario = {
  name: 'live-latency',
  title: '100 subscribers, 100 appends/s over HTTP: append-to-delivery latency and losses',
  capSeconds: { full: 90, quick: 25 },
  run,
};
