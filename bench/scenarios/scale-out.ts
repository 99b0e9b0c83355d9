/**
 * scale-out: three `storyline serve` child processes on one database (README, "Scaling out"),
 * against one of them alone. Each round:
 *  - single: S subscribers of one story (1,500; 150 with --quick) on process 1, K events
 *    appended to process 1, 10 per request;
 *  - three: S/3 subscribers on each process, the K events appended round-robin to all three.
 * Every subscriber must get every event exactly once (counted: lost and duplicates). Reported:
 * deliveries/s in all and per process, and each process's CPU time (from /proc) over the
 * delivery window, per 1,000 deliveries. All three processes run in both variants (an idle
 * process still follows the log, as it would in production). On a 2-core machine three
 * processes share two cores, so total throughput cannot triple here: the per-process CPU cost is
 * the figure to extrapolate from (docs/scaling.md).
 */
import { development, storyOpened } from '../lib/events.ts';
import { HttpClient, StorylineWriter } from '../lib/http.ts';
import { LiveClients } from '../lib/live-clients.ts';
import { startStoryline, type ServerProcess } from '../lib/processes.ts';
import { makeRow, valueAtMost } from '../lib/results.ts';
import { interleave, pluck, type Measurement } from '../lib/rounds.ts';
import { Scope, type Scenario, type ScenarioContext } from '../lib/scenario.ts';
import { prepareDatabase } from '../lib/storyline.ts';

const processes = 3;
const perRequest = 10;

async function run(context: ScenarioContext): Promise<void> {
  const { scope } = context;
  const subscribers = context.size(1500, 150);
  const eventsPerRound = context.size(100, 20);
  const database = await prepareDatabase(context, 'scaleout');
  const servers: ServerProcess[] = [];
  for (let index = 1; index <= processes; index++) {
    servers.push(
      await startStoryline(scope, {
        name: `scale-out-${index}`,
        databaseUrl: database.url,
        env: { STORYLINE_WS_MAX_CONNECTIONS: String(subscribers + 1000) },
      }),
    );
  }
  const writers = servers.map(
    (server) => new StorylineWriter(new HttpClient(scope, server.url, 2), database.token),
  );
  const storyId = 'scale-out';
  const first = writers[0];
  if (first === undefined) throw new Error('no server');
  let head = (await first.append(storyId, [storyOpened('Scale-out')], 0)).positions.at(-1) ?? 0;
  let sequence = 0;

  const round = async (used: readonly number[]): Promise<Measurement> => {
    const roundScope = new Scope();
    try {
      const after = head;
      const groups = await Promise.all(
        used.map((index) =>
          LiveClients.open(roundScope, {
            count: Math.round(subscribers / used.length),
            url: () =>
              `${servers[index]?.url.replace(/^http/, 'ws') ?? ''}/v1/live?stories=${storyId}&after=${after}`,
            concurrency: 50,
            deadline: performance.now() + 60_000,
          }),
        ),
      );
      const total = groups.reduce((sum, group) => sum + group.clients.length, 0);
      const subscribed = () => groups.reduce((sum, group) => sum + group.subscribed, 0);
      await groups[0]?.waitUntil(() => subscribed() === total, performance.now() + 60_000);
      const cpuBefore = await Promise.all(servers.map((server) => server.cpuMs()));
      const start = performance.now();
      for (let sent = 0, request = 0; sent < eventsPerRound; sent += perRequest, request++) {
        const writer = writers[used[request % used.length] ?? 0];
        const events = Array.from({ length: Math.min(perRequest, eventsPerRound - sent) }, () =>
          development(`scale-${++sequence}`, { bytes: 600 }),
        );
        head = (await writer?.append(storyId, events))?.positions.at(-1) ?? head;
      }
      await Promise.all(
        groups.map((group) => group.waitUntil(group.allHave(eventsPerRound), start + 120_000)),
      );
      const cpuAfter = await Promise.all(servers.map((server) => server.cpuMs()));
      const measurement: Record<string, number> = {};
      let delivered = 0;
      let lost = 0;
      let duplicates = 0;
      let last = start;
      groups.forEach((group, position) => {
        const index = used[position] ?? 0;
        const groupLast = Math.max(...group.clients.map((client) => client.lastEventAt));
        last = Math.max(last, groupLast);
        for (const client of group.clients) {
          lost += Math.max(0, eventsPerRound - client.events);
          duplicates += Math.max(0, client.events - eventsPerRound);
        }
        delivered += group.events;
        measurement[`deliveriesPerSecond${index}`] = group.events / ((groupLast - start) / 1000);
      });
      let cpu = 0;
      servers.forEach((_, index) => {
        const used = (cpuAfter[index] ?? 0) - (cpuBefore[index] ?? 0);
        measurement[`cpuMs${index}`] = used;
        cpu += used;
      });
      const seconds = (last - start) / 1000;
      return {
        ...measurement,
        deliveriesPerSecond: delivered / seconds,
        perProcess: delivered / seconds / used.length,
        cpuPerThousand: (cpu / delivered) * 1000,
        lost,
        duplicates,
      };
    } finally {
      await roundScope.close();
    }
  };

  const all = servers.map((_, index) => index);
  const samples = await interleave(context, [
    { name: 'single', run: () => round([0]) },
    { name: 'three', run: () => round(all) },
  ]);
  const baseline = (metric: string) => ({
    name: `one process with all ${subscribers} subscribers and all appends`,
    values: pluck(samples, 'single', metric),
  });
  const row = (
    metric: string,
    unit: string,
    pick: string,
    target?: ReturnType<typeof valueAtMost>,
  ) =>
    context.report(
      makeRow({
        scenario: 'scale-out',
        metric,
        unit,
        storyline: pluck(samples, 'three', pick),
        baseline: baseline(pick),
        ...(target === undefined ? {} : { target }),
      }),
    );
  row(
    `deliveries/s, all ${processes} processes (${subscribers} subscribers × ${eventsPerRound} events)`,
    'deliveries/s',
    'deliveriesPerSecond',
  );
  row('deliveries/s per process', 'deliveries/s', 'perProcess');
  row('CPU time of all processes per 1,000 deliveries', 'ms', 'cpuPerThousand');
  row(
    'lost deliveries (every subscriber gets every event)',
    'deliveries',
    'lost',
    valueAtMost(0, '0'),
  );
  const describe = (variant: string) =>
    servers
      .map((_, index) => {
        const rate = pluck(samples, variant, `deliveriesPerSecond${index}`)[0];
        const cpu = pluck(samples, variant, `cpuMs${index}`)[0] ?? Number.NaN;
        return `process ${index + 1}: ${rate === undefined || !Number.isFinite(rate) ? '—' : Math.round(rate)} deliveries/s, CPU ${Math.round(cpu)} ms`;
      })
      .join('; ');
  context.note(`first round, single: ${describe('single')}`);
  context.note(`first round, three: ${describe('three')}`);
  const duplicates = [
    ...pluck(samples, 'three', 'duplicates'),
    ...pluck(samples, 'single', 'duplicates'),
  ];
  context.note(`duplicate deliveries: ${duplicates.reduce((a, b) => a + b, 0)}`);
}

export const scaleOut: Scenario = {
  name: 'scale-out',
  title: 'three serve processes on one database against one: deliveries, CPU per process, losses',
  capSeconds: { full: 120, quick: 40 },
  run,
};
