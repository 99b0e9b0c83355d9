/**
 * HTTP read. Baseline: a bare hono app on @hono/node-server returning a small fixed JSON.
 * Storyline: `GET /v1/stories/kremlin-talks` on the real server (startHttpServer), a seeded
 * story read from PostgreSQL. The same load drives both: R requests from 32 concurrent
 * keep-alive clients (Node's fetch) on loopback, in this process. The ratio is what a story
 * read costs over the framework's floor: a database query, the projection and a larger body.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { startHttpServer, type Storyline } from '../src/composition.ts';
import { readConfig } from '../src/config.ts';
import { percentile, runWorkers, scaled, sectionCapMs, warmUpOf, type Section } from './common.ts';

const concurrency = 32;

interface Load {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly bytes: number;
}

async function load(url: string, total: number, notes: string[], label: string): Promise<Load> {
  const deadline = performance.now() + sectionCapMs;
  let failures = 0;
  let bytes = 0;
  const latencies: number[] = [];
  const request = async () => {
    const sent = performance.now();
    const response = await fetch(url);
    const body = await response.arrayBuffer();
    latencies.push(performance.now() - sent);
    bytes = body.byteLength;
    if (response.status !== 200) failures++;
  };
  await runWorkers(warmUpOf(total), concurrency, deadline, request);
  latencies.length = 0;
  const start = performance.now();
  const run = await runWorkers(total, concurrency, deadline, request);
  const perSecond = (run.done / (performance.now() - start)) * 1000;
  if (run.aborted) notes.push(`HTTP read ${label} aborted after ${run.done} of ${total}`);
  if (failures > 0) notes.push(`HTTP read ${label}: ${failures} responses were not 200`);
  latencies.sort((a, b) => a - b);
  return { perSecond, p50: percentile(latencies, 50), p99: percentile(latencies, 99), bytes };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function benchHttpRead(storyline: Storyline, logger: Logger): Promise<Section> {
  const total = scaled(5000);
  const notes: string[] = [];

  const app = new Hono().get('/ping', (c) =>
    c.json({ storyId: 'kremlin-talks', status: 'live', version: 1 }),
  );
  const bare = createAdaptorServer({ fetch: app.fetch }) as Server;
  let baseline: Load;
  try {
    baseline = await load(`${await listen(bare)}/ping`, total, notes, 'baseline');
  } finally {
    const closed = new Promise<void>((resolve) => bare.close(() => resolve()));
    bare.closeIdleConnections();
    await closed;
  }

  const running = await startHttpServer(
    storyline,
    { host: '127.0.0.1', port: 0, bodyLimit: 1024 * 1024, live: readConfig({}).live },
    logger,
  );
  let measured: Load;
  try {
    measured = await load(`${running.url}/v1/stories/kremlin-talks`, total, notes, 'Storyline');
  } finally {
    await running.close();
  }
  notes.push(
    `HTTP read: R = ${total} requests, ${concurrency} concurrent keep-alive clients; ` +
      `response bodies ${baseline.bytes} bytes (baseline) and ${measured.bytes} bytes (story)`,
  );
  const row = (metric: string, pick: (l: Load) => number, ratio: boolean) => ({
    benchmark: 'HTTP read',
    metric,
    baseline: pick(baseline),
    storyline: pick(measured),
    ratio,
  });
  return {
    rows: [
      row('requests/s', (l) => l.perSecond, true),
      row('p50 latency ms', (l) => l.p50, false),
      row('p99 latency ms', (l) => l.p99, false),
    ],
    notes,
  };
}
