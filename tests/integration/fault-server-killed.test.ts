/**
 * A server process SIGKILLed mid-append, three times, while eight clients append with ids of
 * their own choosing and retry every failure, unchanged, against the restarted server; a live
 * subscriber reconnects each time with its last position.
 *
 * What must hold afterwards: every acknowledged event is in the log exactly once, at the
 * position it was acknowledged with; positions are gapless; the subscriber, resuming across the
 * kills, received every event of the log after its start once each, in order, always resumed
 * (`recovered: true`).
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../support/harness.ts';
import { until } from '../support/live-client.ts';
import { opened } from '../support/live-server.ts';
import { startResumingSubscriber } from '../support/resuming-subscriber.ts';
import { startRetryingWriters } from '../support/retrying-writers.ts';
import { exitOf, startServe } from '../support/run-cli.ts';

const stories = ['killed-a', 'killed-b'];
const writers = 8;
const perWriter = 60;
const kills = 3;

describe('a server SIGKILLed mid-append, with eight retrying writers', () => {
  let h: Harness;
  let server: { child: ChildProcess; url: string };

  const serve = () =>
    startServe({ DATABASE_URL: h.database.url, PORT: '0', STORYLINE_SEED: 'off' });

  beforeAll(async () => {
    h = await createHarness();
    for (const storyId of stories) {
      expect((await h.append(storyId, { events: [opened(storyId)] })).status).toBe(201);
    }
    server = await serve();
  });

  afterAll(async () => {
    server.child.kill('SIGTERM');
    await exitOf(server.child);
    await h.close();
  });

  it(
    'loses nothing acknowledged, duplicates nothing, and the subscriber resumes in order',
    { timeout: 90_000 },
    async () => {
      const { body: start } = await h.getJson('/v1/events?limit=1');
      const startHead = start.head as number;
      const subscriber = await startResumingSubscriber({
        url: () => server.url,
        stories,
        after: startHead,
        epoch: start.epoch as string,
      });
      const run = startRetryingWriters({
        writers,
        perWriter,
        stories,
        token: h.token,
        url: () => server.url,
      });
      const total = writers * perWriter;
      for (let kill = 1; kill <= kills; kill += 1) {
        // Mid-stream: after a share of the appends is acknowledged, with the writers still going.
        await until(
          () => run.acknowledged.length >= (total * kill) / (kills + 1),
          `acknowledgements before kill ${kill}`,
          60_000,
        );
        const killed = server.child;
        killed.kill('SIGKILL');
        expect(await exitOf(killed)).toBeNull();
        server = await serve();
      }
      await run.done;
      expect(run.acknowledged).toHaveLength(total);
      // The kills really cut appends off mid-flight.
      expect(run.failures.get('network') ?? 0).toBeGreaterThan(0);

      const { rows } = await h.storyline.connection.pool.query<{
        id: string;
        position: number;
        story_id: string;
      }>('select id, position, story_id from events where position > $1 order by position', [
        startHead,
      ]);
      // Exactly the acknowledged events (nothing else was sent), each once, where acknowledged.
      expect(rows).toHaveLength(total);
      const stored = new Map(rows.map((row) => [row.id, row.position]));
      for (const { id, position } of run.acknowledged) expect(stored.get(id)).toBe(position);
      const { rows: gaps } = await h.storyline.connection.pool.query<{
        count: number;
        max: number;
      }>('select count(*)::int8 as count, max(position)::int8 as max from events');
      expect(Number(gaps[0]?.count)).toBe(Number(gaps[0]?.max));

      const expected = rows.map((row) => row.position);
      await subscriber.waitFor(expected.length, 'the subscriber to catch up', 30_000);
      await subscriber.stop();
      expect(subscriber.received).toEqual(expected);
      expect(subscriber.connections()).toBeGreaterThan(kills);
      expect(subscriber.recovered.every(Boolean)).toBe(true);
    },
  );
});
