/**
 * The soak: a few minutes of mixed traffic against a real `storyline serve` on loopback, then an
 * audit. Not a benchmark (nothing is timed) and not in CI: run it by hand before a release, or
 * after a change to the live path, the appender or the caches.
 *
 *   npm run soak                 # 3 minutes
 *   npm run soak -- --minutes 10
 *
 * Traffic, all in bounded loops that stop when the time is up: writers appending with ids of
 * their own (retrying a 503 or a cut connection with the same ids), readers of the story, its
 * timeline, time travel and pages of the log, WebSocket subscribers and Server-Sent Events
 * streams that drop their connection every few seconds (cleanly or abruptly) and resume from
 * their last position.
 *
 * Every few seconds it prints the server's resident memory, open file descriptors (from /proc)
 * and Node's active handles (from /metrics). It exits non-zero if:
 * - a subscriber missed an event of its stories, got one twice, or out of order, or failed to
 *   resume (`recovered: false`) within one log;
 * - a request got an answer other than the expected one (a 5xx other than 503 included);
 * - resident memory at the end exceeds the sample taken after the warm-up by more than
 *   `--max-rss-growth-mb` (default 150);
 * - once every client has gone, the server holds more file descriptors than it did before the
 *   first client came, plus `--max-fd-growth` (default 24: the database pool's connections,
 *   opened on demand, and a few keep-alive sockets).
 *
 * PostgreSQL: DATABASE_URL names a server on which a scratch database is made (and dropped);
 * without it, an embedded server in a temporary folder.
 */
import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import WebSocket from 'ws';
import { openStoryline } from '../src/composition.ts';
import { projectRoot } from '../src/config.ts';
import { openBenchServer } from './lib/database.ts';
import { rssBytesOf, startStoryline } from './lib/processes.ts';
import { Scope, runScript } from './lib/scenario.ts';
import { sseFieldReader } from '../tests/support/sse-fields.ts';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    'max-rss-growth-mb': { type: 'string', default: '150' },
    'max-fd-growth': { type: 'string', default: '24' },
  },
});
const minutes = Number(args.minutes);
const maxRssGrowthMb = Number(args['max-rss-growth-mb']);
const maxFdGrowth = Number(args['max-fd-growth']);
if (!(minutes > 0 && minutes <= 120) || !(maxRssGrowthMb > 0) || !(maxFdGrowth >= 0)) {
  console.error(
    'usage: npm run soak -- [--minutes N (0-120)] [--max-rss-growth-mb N] [--max-fd-growth N]',
  );
  process.exit(2);
}

const stories = ['soak-a', 'soak-b', 'soak-c', 'soak-d', 'soak-e', 'soak-f'];
const writerCount = 6;
const readerCount = 4;
const webSocketCount = 24;
const sseCount = 8;
const sampleEveryMs = 10_000;

/** A small deterministic generator, so a failing run's choices can be replayed. */
function randomFrom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}
const random = randomFrom(20261130);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const problems: string[] = [];
const problem = (what: string) => {
  if (problems.length < 50) problems.push(what);
  else if (problems.length === 50) problems.push('… and more');
};

interface Sample {
  readonly atS: number;
  readonly rssMb: number;
  readonly fds: number;
  readonly handles: number | null;
}

const scope = new Scope();
await runScript(scope, soak);

async function soak(): Promise<number> {
  const database = await openBenchServer();
  scope.defer(() => database.close());
  const databaseUrl = await database.createDatabase('soak');
  const logger = pino({ level: 'silent' });
  const prepared = await openStoryline(
    { databaseUrl, dataDir: path.join(projectRoot, '.data-unused'), poolSize: 2 },
    logger,
  );
  const token = await prepared.tokens.create('soak desk');
  for (const storyId of stories) {
    await prepared.appender.append({
      storyId,
      author: 'soak',
      events: [{ type: 'story.opened', data: { title: storyId, timeZone: 'UTC' } }],
    });
  }
  await prepared.close();

  const server = await startStoryline(scope, { name: 'soak', databaseUrl });
  const { url, pid } = server;
  const start = (await getJson(`${url}/v1/events?limit=1`)) as { head: number; epoch: string };
  console.log(
    `soak: ${minutes} min against ${url} (pid ${pid}), ${writerCount} writers, ${readerCount} readers, ` +
      `${webSocketCount} WebSocket and ${sseCount} SSE subscribers; PostgreSQL ${database.version}` +
      (database.embedded ? ' (embedded)' : ''),
  );

  const began = Date.now();
  const sample = async (): Promise<Sample> => ({
    atS: Math.round((Date.now() - began) / 1000),
    rssMb: Math.round((await rssBytesOf(pid)) / 1024 / 1024),
    fds: (await readdir(`/proc/${pid}/fd`)).length,
    handles: await activeHandles(url),
  });
  const idle = await sample();
  console.log(`idle: rss ${idle.rssMb} MB, fds ${idle.fds}, handles ${idle.handles ?? '?'}`);

  const endAt = began + minutes * 60_000;
  const running = () => Date.now() < endAt;
  const counts = { appended: 0, retried: 0, reads: 0, wsConnections: 0, sseConnections: 0 };

  const writers = Array.from({ length: writerCount }, () => writer(url, token, running, counts));
  const readers = Array.from({ length: readerCount }, () => reader(url, running, counts));
  const subscribers: Subscriber[] = [
    ...Array.from({ length: webSocketCount }, (_, index) =>
      startWebSocketSubscriber(
        url,
        index % 4 === 0 ? stories : stories.filter(() => random() < 0.5),
        start,
        counts,
      ),
    ),
    ...Array.from({ length: sseCount }, () =>
      startSseSubscriber(url, pick(stories), start, counts),
    ),
  ];

  const samples: Sample[] = [];
  const warmupMs = Math.min(60_000, (minutes * 60_000) / 4);
  let warm: Sample | null = null;
  while (running()) {
    await sleep(Math.min(sampleEveryMs, Math.max(endAt - Date.now(), 0)));
    const now = await sample();
    samples.push(now);
    if (warm === null && Date.now() - began >= warmupMs) warm = now;
    console.log(
      `${String(now.atS).padStart(4)} s  rss ${now.rssMb} MB  fds ${now.fds}  handles ${now.handles ?? '?'}  ` +
        `appended ${counts.appended} (retries ${counts.retried})  reads ${counts.reads}  ` +
        `connections ws ${counts.wsConnections} sse ${counts.sseConnections}`,
    );
  }
  await Promise.all([...writers, ...readers]);

  // The audit: every subscriber has exactly its stories' events after the start, in order.
  const expected = await allEventsAfter(url, start.head);
  for (const subscriber of subscribers) subscriber.finish(expected);
  const deadline = Date.now() + 60_000;
  while (subscribers.some((subscriber) => !subscriber.complete()) && Date.now() < deadline) {
    await sleep(100);
  }
  await Promise.all(subscribers.map((subscriber) => subscriber.stop()));
  let audited = 0;
  for (const subscriber of subscribers) {
    const wanted = expected
      .filter((event) => subscriber.stories.includes(event.storyId))
      .map((event) => event.position);
    const got = subscriber.received;
    if (got.length !== wanted.length || got.some((position, index) => position !== wanted[index])) {
      const seen = new Set<number>();
      const duplicates = got.filter((position) => seen.has(position) || !seen.add(position));
      const missing = wanted.filter((position) => !seen.has(position));
      problem(
        `${subscriber.name} (${subscriber.stories.join(',')}): received ${got.length} of ` +
          `${wanted.length}; missing ${missing.slice(0, 5).join(',') || 'none'}; ` +
          `twice ${duplicates.slice(0, 5).join(',') || 'none'}`,
      );
    }
    if (subscriber.notRecovered > 0) {
      problem(`${subscriber.name}: ${subscriber.notRecovered} resumes were not recovered`);
    }
    audited += got.length;
  }

  // Every client gone: what the server still holds once idle keep-alive connections have timed
  // out (seconds) is what it would hold for ever.
  let after = await sample();
  for (let wait = 0; wait < 20 && after.fds - idle.fds > maxFdGrowth / 2; wait += 1) {
    await sleep(1000);
    after = await sample();
  }
  const last = samples.at(-1) ?? after;
  const reference = warm ?? samples[0] ?? idle;
  console.log(
    `\naudit: ${expected.length} events appended during the soak; ${subscribers.length} subscribers ` +
      `received ${audited} deliveries over ${counts.wsConnections} WebSocket and ` +
      `${counts.sseConnections} SSE connections; ${counts.reads} reads`,
  );
  console.log(
    `memory: idle ${idle.rssMb} MB, after warm-up (${reference.atS} s) ${reference.rssMb} MB, ` +
      `at the end ${last.rssMb} MB (bound: +${maxRssGrowthMb} MB over the warm-up)`,
  );
  console.log(
    `handles: idle ${idle.fds} fds / ${idle.handles ?? '?'} active handles, with every client gone ` +
      `${after.fds} fds / ${after.handles ?? '?'} (bound: +${maxFdGrowth} fds over idle)`,
  );
  if (last.rssMb - reference.rssMb > maxRssGrowthMb) {
    problem(`resident memory grew by ${last.rssMb - reference.rssMb} MB after the warm-up`);
  }
  if (after.fds - idle.fds > maxFdGrowth) {
    problem(`file descriptors grew from ${idle.fds} to ${after.fds} with no client left`);
  }
  if (expected.length === 0) problem('nothing was appended');

  if (problems.length > 0) {
    console.log(`\nFAILED:\n- ${problems.join('\n- ')}`);
    return 1;
  }
  console.log('\nOK: every subscriber saw every event of its stories exactly once, in order');
  return 0;
}

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status}`);
  return await response.json();
}

async function activeHandles(url: string): Promise<number | null> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const match = /^nodejs_active_handles_total(?:\{[^}]*\})? (\d+)/m.exec(text);
    return match?.[1] === undefined ? null : Number(match[1]);
  } catch {
    return null;
  }
}

async function allEventsAfter(
  url: string,
  after: number,
): Promise<{ position: number; storyId: string }[]> {
  const events: { position: number; storyId: string }[] = [];
  for (let cursor: number | null = after; cursor !== null;) {
    const page = (await getJson(`${url}/v1/events?after=${cursor}&limit=1000`)) as {
      events: { position: number; storyId: string }[];
      next: number | null;
    };
    for (const { position, storyId } of page.events) events.push({ position, storyId });
    cursor = page.next;
  }
  return events;
}

interface Counts {
  appended: number;
  retried: number;
  reads: number;
  wsConnections: number;
  sseConnections: number;
}

async function writer(
  url: string,
  token: string,
  running: () => boolean,
  counts: Counts,
): Promise<void> {
  for (let index = 0; running() && index < 1_000_000; index += 1) {
    const storyId = pick(stories);
    const events = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({
      id: randomUUID(),
      type: 'development.reported',
      data: {
        developmentId: randomUUID(),
        kind: 'statement',
        headline: `soak update ${index}`,
        body: 'x'.repeat(1 + Math.floor(random() * 400)),
      },
    }));
    const body = JSON.stringify({ events });
    for (let attempt = 0; attempt < 50; attempt += 1) {
      let status = 0;
      try {
        const response = await fetch(`${url}/v1/stories/${storyId}/events`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
          body,
        });
        status = response.status;
        const answer = await response.text();
        if (status >= 400 && status !== 503) problem(`append answered ${status}: ${answer}`);
      } catch {
        status = 0;
      }
      if (status === 201 || status === 200) {
        counts.appended += events.length;
        break;
      }
      if (status !== 503 && status !== 0) break;
      counts.retried += 1;
      await sleep(50 * (attempt + 1));
    }
    await sleep(Math.floor(random() * 20));
  }
}

async function reader(url: string, running: () => boolean, counts: Counts): Promise<void> {
  for (let index = 0; running() && index < 10_000_000; index += 1) {
    const storyId = pick(stories);
    const paths = [
      `/v1/stories/${storyId}`,
      `/v1/stories/${storyId}/timeline?limit=20`,
      `/v1/stories/${storyId}/state?at=1`,
      `/v1/events?after=${Math.floor(random() * 1000)}&limit=100`,
      `/v1/stories/${storyId}/feed.atom`,
    ];
    const target = pick(paths);
    try {
      const response = await fetch(`${url}${target}`);
      await response.arrayBuffer();
      counts.reads += 1;
      // state?at=1 of a story opened later than position 1 is a 404: the only 4xx expected.
      if (response.status !== 200 && !(response.status === 404 && target.includes('state'))) {
        problem(`GET ${target} answered ${response.status}`);
      }
    } catch (error) {
      problem(`GET ${target} failed: ${String(error)}`);
    }
    await sleep(5 + Math.floor(random() * 10));
  }
}

interface Subscriber {
  readonly name: string;
  readonly stories: readonly string[];
  readonly received: number[];
  notRecovered: number;
  /** The writers are done: the subscriber stays until it has everything of `expected`. */
  finish(expected: readonly { position: number; storyId: string }[]): void;
  complete(): boolean;
  stop(): Promise<void>;
}

function subscriberBase(name: string, subscribed: readonly string[]) {
  const state = {
    target: null as number | null,
    stopped: false,
  };
  const subscriber: Subscriber = {
    name,
    stories: subscribed,
    received: [],
    notRecovered: 0,
    finish(expected) {
      state.target = expected.filter((event) => subscribed.includes(event.storyId)).length;
    },
    complete: () => state.target !== null && subscriber.received.length >= state.target,
    stop: () => Promise.resolve(),
  };
  return { subscriber, state };
}

/** Connects, reads for a few seconds (or until complete), drops the connection, resumes. */
function startWebSocketSubscriber(
  url: string,
  subscribed: readonly string[],
  start: { head: number; epoch: string },
  counts: Counts,
): Subscriber {
  const name = `ws-${Math.floor(random() * 1e6)}`;
  const { subscriber, state } = subscriberBase(name, subscribed);
  let current: WebSocket | null = null;
  const loop = (async () => {
    for (let connection = 0; !state.stopped && connection < 100_000; connection += 1) {
      const after = subscriber.received.at(-1) ?? start.head;
      const stayMs = 1000 + Math.floor(random() * 9000);
      const abrupt = random() < 0.3;
      await new Promise<void>((resolve) => {
        const socket = new WebSocket(
          `${url.replace(/^http/, 'ws')}/v1/live?stories=${subscribed.join(',')}&after=${after}&epoch=${start.epoch}`,
        );
        current = socket;
        const timer = setTimeout(() => (abrupt ? socket.terminate() : socket.close()), stayMs);
        socket.on('open', () => (counts.wsConnections += 1));
        socket.on('message', (data: Buffer) => {
          const frame = JSON.parse(data.toString()) as {
            type: string;
            recovered?: boolean;
            event?: { position: number };
          };
          if (frame.type === 'subscribed' && frame.recovered !== true) subscriber.notRecovered += 1;
          if (frame.type === 'event' && frame.event !== undefined) {
            subscriber.received.push(frame.event.position);
          }
        });
        socket.on('error', () => undefined);
        socket.on('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      current = null;
      if (subscriber.complete()) break;
      await sleep(Math.floor(random() * 200));
    }
  })();
  subscriber.stop = async () => {
    state.stopped = true;
    current?.close();
    await loop;
  };
  return subscriber;
}

/** One story over Server-Sent Events, resumed with `after` each time. */
function startSseSubscriber(
  url: string,
  storyId: string,
  start: { head: number; epoch: string },
  counts: Counts,
): Subscriber {
  const name = `sse-${Math.floor(random() * 1e6)}`;
  const { subscriber, state } = subscriberBase(name, [storyId]);
  let controller: AbortController | null = null;
  const loop = (async () => {
    for (let connection = 0; !state.stopped && connection < 100_000; connection += 1) {
      const after = subscriber.received.at(-1) ?? start.head;
      controller = new AbortController();
      const timer = setTimeout(() => controller?.abort(), 1000 + Math.floor(random() * 9000));
      try {
        const response = await fetch(
          `${url}/v1/stories/${storyId}/live?after=${after}&epoch=${start.epoch}`,
          { signal: controller.signal },
        );
        if (response.status !== 200 || response.body === null) {
          problem(`SSE answered ${response.status}`);
          await sleep(500);
          continue;
        }
        counts.sseConnections += 1;
        const read = sseFieldReader();
        for await (const chunk of response.body) {
          for (const fields of read(chunk as Uint8Array)) {
            const event = fields.get('event');
            if (event === 'subscribed') {
              const data = JSON.parse(fields.get('data') ?? '{}') as { recovered?: boolean };
              if (data.recovered !== true) subscriber.notRecovered += 1;
            } else if (event === 'event') {
              subscriber.received.push(Number(fields.get('id')));
            }
          }
          if (subscriber.complete()) controller.abort();
        }
      } catch {
        // Aborted by us (the planned drop) or cut: resume from the last position.
      } finally {
        clearTimeout(timer);
      }
      if (subscriber.complete()) break;
      await sleep(Math.floor(random() * 200));
    }
  })();
  subscriber.stop = async () => {
    state.stopped = true;
    controller?.abort();
    await loop;
  };
  return subscriber;
}
