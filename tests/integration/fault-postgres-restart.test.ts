/**
 * PostgreSQL itself restarted mid-stream, on a cluster this test owns, under a running server:
 * eight writers append with ids of their own and retry every failure; a live subscriber stays
 * connected.
 *
 * What must hold: the server keeps running; an append while PostgreSQL is down is refused with
 * 503 `unavailable` and `/readyz` says 503; once it is back, appends resume (the retries land),
 * every acknowledged event is in the log exactly once, positions are gapless, and the subscriber
 * received every event of the log after its start once each, in order.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDatabase } from '../../src/adapters/postgres/embedded-postgres.ts';
import { type RunningServer, type Storyline } from '../../src/composition.ts';
import { expectError } from '../support/api-errors.ts';
import { LiveClient, until } from '../support/live-client.ts';
import { expectEveryAcknowledgedOnce } from '../support/log-audit.ts';
import { development, opened, serveOver } from '../support/live-server.ts';
import { startPrivateCluster, type PrivateCluster } from '../support/private-cluster.ts';
import { startRetryingWriters } from '../support/retrying-writers.ts';

const stories = ['restart-a', 'restart-b'];
const writers = 8;
const perWriter = 60;

describe('PostgreSQL restarted under a running server', () => {
  let cluster: PrivateCluster;
  let storyline: Storyline;
  let server: RunningServer;
  let token: string;

  beforeAll(async () => {
    cluster = await startPrivateCluster();
    await ensureDatabase(cluster.url('postgres'), 'storyline');
    ({ storyline, server } = await serveOver(cluster.url('storyline'), {
      poolSize: 6,
      live: { pollIntervalMs: 200 },
    }));
    token = await storyline.tokens.create('restart desk');
  });

  afterAll(async () => {
    await server.close();
    await storyline.close();
    await cluster.destroy();
  });

  const append = (storyId: string, events: unknown[]) =>
    fetch(`${server.url}/v1/stories/${storyId}/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ events }),
    });

  it(
    'answers 503 while it is down, then resumes: every acknowledged event once, delivered once, in order',
    { timeout: 90_000 },
    async () => {
      for (const storyId of stories) {
        expect((await append(storyId, [opened(storyId)])).status).toBe(201);
      }
      const { head: startHead, epoch } = await storyline.queries.logInfo();
      const subscriber = await LiveClient.open(
        server.url,
        `?stories=${stories.join(',')}&after=${startHead}&epoch=${epoch}`,
      );
      await until(() => subscriber.of('subscribed').length === 1, 'the subscription');

      const run = startRetryingWriters({
        writers,
        perWriter,
        stories,
        token,
        url: () => server.url,
      });
      const total = writers * perWriter;
      await until(() => run.acknowledged.length >= total / 3, 'appends before the restart');
      await cluster.stop();

      // While it is down: refused with 503, never a hang or a 500, and not ready.
      const during = { ...development('Sent while PostgreSQL is down'), id: randomUUID() };
      await expectError(append('restart-a', [during]), 503, 'unavailable');
      expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
      const acknowledgedWhileDown = run.acknowledged.length;

      await cluster.start();
      await until(async () => (await fetch(`${server.url}/readyz`)).status === 200, 'readiness');
      let retried = await append('restart-a', [during]);
      // The pool may hand out a connection the restart closed once more: a retry gets through.
      for (let attempt = 0; retried.status === 503 && attempt < 20; attempt += 1) {
        retried = await append('restart-a', [during]);
      }
      expect(retried.status).toBe(201);
      await run.done;
      expect(run.acknowledged.length).toBeGreaterThan(acknowledgedWhileDown);
      expect(run.failures.get('503') ?? 0).toBeGreaterThan(0);

      const positions = await expectEveryAcknowledgedOnce(
        storyline.connection.pool,
        startHead,
        run.acknowledged,
        total + 1,
      );

      await until(
        () => subscriber.of('event').length >= positions.length,
        'the subscriber to receive everything',
        30_000,
      );
      expect(subscriber.eventPositions()).toEqual(positions);
      expect(subscriber.closed).toBeNull();
      await subscriber.close();
    },
  );
});
