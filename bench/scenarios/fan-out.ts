/**
 * fan-out: S WebSocket subscribers of one story (5,000; 500 with --quick) on one `storyline serve`
 * child process, against a bare `ws` server child process (bench/children/bare-ws-server.ts)
 * broadcasting frames of the same size as Storyline's event frames to the same number of clients.
 * The clients live in the bench process, so each server's RSS (read from /proc) is its own.
 *
 * Each round, for each side, on a freshly started server process: note its RSS, connect S clients and wait until each is
 * subscribed, let it settle and note the RSS again (RSS per connection = the growth ÷ S), then
 * send K events (Storyline: appended over HTTP, 10 per request, one request after another; bare:
 * broadcast 10 per turn of its event loop) and time from the first send until the last client has
 * all K. Deliveries/s = S × K ÷ that time; the server's CPU time over the same window (from
 * /proc) per 1,000 deliveries is the steadier figure where the clients, not the server, are the
 * bottleneck (on a small machine they often are: receiving costs about what sending does).
 * Then disconnect everyone. Storyline's time includes
 * committing the events and learning of them through PostgreSQL; the bare server's does not.
 */
import { development, storyOpened } from '../lib/events.ts';
import { HttpClient, StorylineWriter } from '../lib/http.ts';
import { frameType, LiveClients } from '../lib/live-clients.ts';
import { startChild, startStoryline, type ServerProcess } from '../lib/processes.ts';
import { makeRow, ratioAtLeast, ratioAtMost } from '../lib/results.ts';
import { interleave, pluck, type Measurement } from '../lib/rounds.ts';
import { Scope, type Scenario, type ScenarioContext } from '../lib/scenario.ts';
import { prepareDatabase } from '../lib/storyline.ts';

const perRequest = 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function run(context: ScenarioContext): Promise<void> {
  const subscribers = context.size(5000, 500);
  const eventsPerRound = context.size(50, 20);
  const database = await prepareDatabase(context, 'fanout');
  const storylineEnv = { STORYLINE_WS_MAX_CONNECTIONS: String(subscribers + 1000) };
  const storyId = 'fan-out';
  let head = 0;
  let sequence = 0;
  const nextEvent = () => development(`fan-${++sequence}`, { bytes: 600 });
  const liveUrl = (server: ServerProcess) => () =>
    `${server.url.replace(/^http/, 'ws')}/v1/live?stories=${storyId}&after=${head}`;

  // The size of Storyline's event frame, for the bare server's frames.
  const probeScope = new Scope();
  let frameBytes = 0;
  try {
    const server = await startStoryline(probeScope, {
      name: 'fan-out',
      databaseUrl: database.url,
      env: storylineEnv,
    });
    const writer = new StorylineWriter(new HttpClient(probeScope, server.url, 1), database.token);
    head = (await writer.append(storyId, [storyOpened('Fan-out')], 0)).positions.at(-1) ?? 0;
    const probe = await LiveClients.open(probeScope, {
      count: 1,
      url: liveUrl(server),
      deadline: context.deadline,
      onFrame: (_client, type, data) => {
        if (type === 'event') frameBytes = data.length;
      },
    });
    await probe.waitUntil(() => probe.subscribed === 1, context.deadline);
    head = (await writer.append(storyId, [nextEvent()])).positions.at(-1) ?? head;
    await probe.waitUntil(() => frameBytes > 0, performance.now() + 10_000);
  } finally {
    await probeScope.close();
  }
  if (frameBytes === 0) throw new Error('the probe subscriber got no event frame');
  const prefix = '{"type":"event","event":{"n":"#","pad":"';
  const frame = `${prefix}${'x'.repeat(Math.max(0, frameBytes - prefix.length - 4))}"}}`;
  if (frameType(Buffer.from(frame)) !== 'event') throw new Error('bad baseline frame');

  /**
   * One round on a fresh server process: a process that served the previous round's clients
   * still holds (or is returning) their memory, which made RSS growth meaningless.
   */
  const round = async (
    start: (roundScope: Scope) => Promise<{
      server: ServerProcess;
      url: () => string;
      send: () => Promise<void>;
    }>,
  ): Promise<Measurement> => {
    const roundScope = new Scope();
    try {
      const { server, url, send } = await start(roundScope);
      await sleep(500);
      const rssBefore = await server.rssBytes();
      const connectStart = performance.now();
      const clients = await LiveClients.open(roundScope, {
        count: subscribers,
        url,
        concurrency: 200,
        deadline: context.deadline + 60_000,
      });
      const allSubscribed = () => clients.subscribed + clients.failed >= subscribers;
      await clients.waitUntil(allSubscribed, performance.now() + 60_000);
      const connectSeconds = (performance.now() - connectStart) / 1000;
      if (clients.failed > 0) {
        context.note(
          `${server.name}: ${clients.failed} clients failed to connect, e.g. ${
            clients.clients.find((client) => client.failed !== null)?.failed ?? ''
          }`,
        );
      }
      await sleep(500);
      const rssAfter = await server.rssBytes();
      const cpuBefore = await server.cpuMs();
      const sendStart = performance.now();
      await send();
      await clients.waitUntil(clients.allHave(eventsPerRound), sendStart + 120_000);
      const cpu = (await server.cpuMs()) - cpuBefore;
      const last = Math.max(...clients.clients.map((client) => client.lastEventAt));
      const delivered = clients.events;
      const connected = subscribers - clients.failed;
      return {
        deliveriesPerSecond: delivered / ((last - sendStart) / 1000),
        rssPerConnection: (rssAfter - rssBefore) / connected,
        cpuPerThousand: (cpu / delivered) * 1000,
        rssBefore,
        rssAfter,
        lost: subscribers * eventsPerRound - delivered,
        closedEarly: clients.closedEarly,
        connectSeconds,
      };
    } finally {
      await roundScope.close();
    }
  };

  const samples = await interleave(context, [
    {
      name: 'bare',
      run: () =>
        round(async (roundScope) => {
          const bare = await startChild(roundScope, 'bare-ws-server', {});
          return {
            server: bare,
            url: () => bare.url,
            send: async () => {
              await bare.call({
                type: 'broadcast',
                frame,
                count: eventsPerRound,
                batch: perRequest,
              });
            },
          };
        }),
    },
    {
      name: 'storyline',
      run: () =>
        round(async (roundScope) => {
          const server = await startStoryline(roundScope, {
            name: 'fan-out',
            databaseUrl: database.url,
            env: storylineEnv,
          });
          const writer = new StorylineWriter(
            new HttpClient(roundScope, server.url, 1),
            database.token,
          );
          return {
            server,
            url: liveUrl(server),
            send: async () => {
              for (let sent = 0; sent < eventsPerRound; sent += perRequest) {
                const count = Math.min(perRequest, eventsPerRound - sent);
                const events = Array.from({ length: count }, nextEvent);
                head = (await writer.append(storyId, events)).positions.at(-1) ?? head;
              }
            },
          };
        }),
    },
  ]);

  const baseline = (metric: string) => ({
    name: `bare ws broadcast of ${frameBytes}-byte frames to ${subscribers} clients (${metric})`,
    values: pluck(samples, 'bare', metric),
  });
  context.report(
    makeRow({
      scenario: 'fan-out',
      metric: `deliveries/s, ${subscribers} subscribers × ${eventsPerRound} events`,
      unit: 'deliveries/s',
      storyline: pluck(samples, 'storyline', 'deliveriesPerSecond'),
      baseline: baseline('deliveriesPerSecond'),
      target: ratioAtLeast(0.8),
    }),
  );
  context.report(
    makeRow({
      scenario: 'fan-out',
      metric: 'server RSS per subscribed connection',
      unit: 'bytes',
      storyline: pluck(samples, 'storyline', 'rssPerConnection'),
      baseline: baseline('rssPerConnection'),
      target: ratioAtMost(2),
    }),
  );
  context.report(
    makeRow({
      scenario: 'fan-out',
      metric: 'server CPU time per 1,000 deliveries',
      unit: 'ms',
      storyline: pluck(samples, 'storyline', 'cpuPerThousand'),
      baseline: baseline('cpuPerThousand'),
    }),
  );
  context.report(
    makeRow({
      scenario: 'fan-out',
      metric: 'lost deliveries',
      unit: 'deliveries',
      storyline: pluck(samples, 'storyline', 'lost'),
      baseline: baseline('lost'),
    }),
  );
  const fastest = (variant: string, metric: string) =>
    pluck(samples, variant, metric).sort((a, b) => a - b)[0] ?? Number.NaN;
  context.note(
    `frames of ${frameBytes} B; ${perRequest} events per append request / broadcast turn; ` +
      `connecting ${subscribers} took ${fastest('storyline', 'connectSeconds').toFixed(1)} s (Storyline), ` +
      `${fastest('bare', 'connectSeconds').toFixed(1)} s (bare) at best; ` +
      `closed early by the server: ${pluck(samples, 'storyline', 'closedEarly').join(', ')}`,
  );
}

export const fanOut: Scenario = {
  name: 'fan-out',
  title: '5,000 subscribers of one story: deliveries/s and RSS per connection against bare ws',
  capSeconds: { full: 200, quick: 40 },
  run,
};
