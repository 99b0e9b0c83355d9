/**
 * reads: HTTP reads from 32 keep-alive connections (undici Pool, closed loop) in the bench
 * process, against a `storyline serve` child process and against a bare hono child process
 * (bench/children/bare-http-server.ts) serving the very bytes Storyline answered, captured once
 * before the rounds, with the same status and headers. Four requests, each against its copy:
 *  - `GET /v1/stories/kremlin-talks` (the seeded story, ~10 kB);
 *  - the same with `If-None-Match: <its ETag>`, answered 304 by both;
 *  - a timeline page, `GET /v1/stories/{id}/timeline?limit=50`, of a story with 120 developments;
 *  - a log page, `GET /v1/events?after=0&limit=100` (100 events).
 * The ratio is what Storyline's own work per request costs over the framework's floor.
 */
import { development, storyOpened } from '../lib/events.ts';
import { closedLoop, HttpClient, StorylineWriter, type LoadResult } from '../lib/http.ts';
import { startChild, startStoryline } from '../lib/processes.ts';
import { makeRow, ratioAtLeast, type Target } from '../lib/results.ts';
import { interleave, pluck, type Measurement, type Variant } from '../lib/rounds.ts';
import type { Scenario, ScenarioContext } from '../lib/scenario.ts';
import { latencies } from '../lib/stats.ts';
import { prepareDatabase } from '../lib/storyline.ts';

const connections = 32;
const notCopied = new Set([
  'date',
  'connection',
  'keep-alive',
  'content-length',
  'transfer-encoding',
]);

interface Read {
  readonly name: string;
  readonly path: string;
  /** Path without the query, for the bare app's route. */
  readonly route: string;
  readonly status: 200 | 304;
  readonly target: Target;
}

async function run(context: ScenarioContext): Promise<void> {
  const { scope } = context;
  const runMs = context.size(3000, 700);
  const database = await prepareDatabase(context, 'reads', { seed: true });
  const storyline = await startStoryline(scope, { name: 'reads', databaseUrl: database.url });
  const storylineHttp = new HttpClient(scope, storyline.url, connections);

  const timelineStory = 'reads-timeline';
  const writer = new StorylineWriter(storylineHttp, database.token);
  await writer.append(timelineStory, [storyOpened('Timeline for the read benchmark')], 0);
  await writer.append(
    timelineStory,
    Array.from({ length: 120 }, (_, index) => development(`timeline-${index}`, { bytes: 600 })),
  );

  const storyPath = '/v1/stories/kremlin-talks';
  const story = await storylineHttp.request('GET', storyPath);
  const etag = story.headers['etag'];
  if (story.status !== 200 || etag === undefined) {
    throw new Error(`GET ${storyPath}: ${story.status}, ETag ${etag ?? 'missing'}`);
  }
  const reads: Read[] = [
    { name: 'story', path: storyPath, route: storyPath, status: 200, target: ratioAtLeast(0.7) },
    { name: '304', path: storyPath, route: storyPath, status: 304, target: ratioAtLeast(0.8) },
    {
      name: 'timeline',
      path: `/v1/stories/${timelineStory}/timeline?limit=50`,
      route: `/v1/stories/${timelineStory}/timeline`,
      status: 200,
      target: ratioAtLeast(0.5),
    },
    {
      name: 'events',
      path: '/v1/events?after=0&limit=100',
      route: '/v1/events',
      status: 200,
      target: ratioAtLeast(0.5),
    },
  ];
  const routes = new Map<string, { path: string; headers: Record<string, string>; body: string }>();
  const sizes = new Map<string, number>();
  for (const read of reads) {
    if (routes.has(read.route)) continue;
    const response = await storylineHttp.request('GET', read.path);
    if (response.status !== 200) throw new Error(`GET ${read.path}: ${response.status}`);
    const headers = Object.fromEntries(
      Object.entries(response.headers).filter(([name]) => !notCopied.has(name)),
    );
    routes.set(read.route, { path: read.route, headers, body: response.body.toString() });
    sizes.set(read.name, response.body.length);
  }
  const bare = await startChild(scope, 'bare-http-server', { routes: [...routes.values()] });
  const bareHttp = new HttpClient(scope, bare.url, connections);

  const failures: string[] = [];
  const load = async (
    client: HttpClient,
    read: Read,
    label: string,
    round: number,
  ): Promise<Measurement> => {
    const result: LoadResult = await closedLoop({
      client,
      concurrency: connections,
      maxRequests: 500_000,
      // Warm-up runs (round -1) only warm connections, JIT and caches.
      maxMs: round < 0 ? 500 : runMs,
      expectStatus: read.status,
      path: read.path,
      ...(read.status === 304 ? { headers: { 'if-none-match': etag } } : {}),
    });
    if (result.failures > 0)
      failures.push(`${label} ${read.name}: ${result.failures} not ${read.status}`);
    const latency = latencies(result.latencies);
    return {
      perSecond: result.perSecond,
      p50: latency.p50,
      p99: latency.p99,
      requests: result.requests,
    };
  };
  const variants: Variant[] = reads.flatMap((read) => [
    { name: `bare-${read.name}`, run: (round) => load(bareHttp, read, 'bare', round) },
    {
      name: `storyline-${read.name}`,
      run: (round) => load(storylineHttp, read, 'Storyline', round),
    },
  ]);
  const samples = await interleave(context, variants, { warmUp: !context.options.quick });

  for (const read of reads) {
    const bytes = read.status === 304 ? 0 : (sizes.get(read.name) ?? 0);
    context.report(
      makeRow({
        scenario: 'reads',
        metric: `${read.name === '304' ? 'If-None-Match → 304' : `GET ${read.path}`} (${bytes} B)`,
        unit: 'requests/s',
        storyline: pluck(samples, `storyline-${read.name}`, 'perSecond'),
        baseline: {
          name: `bare hono serving the same bytes (${read.name}), ${connections} keep-alive connections`,
          values: pluck(samples, `bare-${read.name}`, 'perSecond'),
        },
        target: read.target,
      }),
    );
  }
  for (const percentile of ['p50', 'p99'] as const) {
    context.report(
      makeRow({
        scenario: 'reads',
        metric: `${percentile} latency, GET story, ${connections} connections`,
        unit: 'ms',
        storyline: pluck(samples, 'storyline-story', percentile),
        baseline: {
          name: 'bare hono serving the same bytes (story), 32 keep-alive connections',
          values: pluck(samples, 'bare-story', percentile),
        },
      }),
    );
  }
  context.note(
    `${runMs / 1000} s per run, ${connections} connections, load generator in the bench process`,
  );
  for (const failure of new Set(failures)) context.note(failure);
}

export const reads: Scenario = {
  name: 'reads',
  title: 'story, 304, timeline and log-page reads against bare hono serving the same bytes',
  capSeconds: { full: 120, quick: 30 },
  run,
};
