/**
 * Every connection of a running server's pool, and its LISTEN connection, ended by PostgreSQL
 * (`pg_terminate_backend`, as an administrator or a failover does) again and again while eight
 * writers append with ids of their own and retry every failure, and while another process
 * appends too (whose events reach this server only through LISTEN or its poll).
 *
 * What must hold: the server keeps answering (503 at worst, never a 500); every acknowledged
 * event is in the log exactly once; a live subscriber receives every event once, in order.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenerApplicationName } from '../../src/adapters/postgres/postgres-listener.ts';
import { openStoryline, type Storyline } from '../../src/composition.ts';
import { isStorylineError } from '../../src/domain/errors.ts';
import { silentLogger } from '../support/harness.ts';
import { LiveClient, until } from '../support/live-client.ts';
import { expectEveryAcknowledgedOnce } from '../support/log-audit.ts';
import { development, opened, startLiveServer, type LiveServer } from '../support/live-server.ts';
import { startRetryingWriters } from '../support/retrying-writers.ts';

const stories = ['cut-a', 'cut-b'];

describe('pool and LISTEN connections killed under load', () => {
  let live: LiveServer;
  let other: Storyline;
  let admin: pg.Client;

  beforeAll(async () => {
    live = await startLiveServer({ pollIntervalMs: 200 });
    for (const storyId of stories) await live.post(storyId, [opened(storyId)]);
    other = await openStoryline(
      { databaseUrl: live.h.database.url, dataDir: '/nonexistent', poolSize: 2 },
      silentLogger,
    );
    admin = new pg.Client({ connectionString: live.h.database.url });
    await admin.connect();
  });

  afterAll(async () => {
    await admin.end();
    await other.close();
    await live.close();
  });

  /** Ends the connections with this application name (the test's admin client excepted). */
  const terminate = async (applicationName: string) =>
    (
      await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity
         where application_name = $1 and datname = current_database() and pid <> pg_backend_pid()`,
        [applicationName],
      )
    ).rowCount ?? 0;

  it('loses and repeats nothing, and keeps answering', { timeout: 90_000 }, async () => {
    const { head: startHead, epoch } = await live.h.storyline.queries.logInfo();
    const subscriber = await LiveClient.open(
      live.url,
      `?stories=${stories.join(',')}&after=${startHead}&epoch=${epoch}`,
    );
    await until(() => subscriber.of('subscribed').length === 1, 'the subscription');

    const run = startRetryingWriters({
      writers: 8,
      perWriter: 60,
      stories,
      token: live.h.token,
      url: () => live.url,
    });
    let killed = 0;
    let elsewhere = 0;
    const rounds = 5;
    for (let round = 1; round <= rounds; round += 1) {
      await until(
        () => run.acknowledged.length >= (480 * round) / (rounds + 1),
        `appends before round ${round}`,
        60_000,
      );
      killed += await terminate('storyline');
      killed += await terminate(listenerApplicationName);
      // Another process's append, while this server's LISTEN may be down (its own connections
      // have the same name and may have been ended too: it retries with the same id).
      const event = { ...development(), id: randomUUID() };
      for (let attempt = 0; ; attempt += 1) {
        const appended = await other.appender
          .append({ storyId: stories[round % 2] as string, author: 'elsewhere', events: [event] })
          .then(
            () => true,
            (error: unknown) => {
              if (attempt >= 10 || !isStorylineError(error) || error.code !== 'unavailable') {
                throw error;
              }
              return false;
            },
          );
        if (appended) break;
      }
      elsewhere += 1;
    }
    await run.done;
    expect(killed).toBeGreaterThan(rounds);
    // Nothing but a retryable refusal was ever answered (startRetryingWriters throws otherwise).
    expect([...run.failures.keys()].every((what) => what === '503' || what === 'network')).toBe(
      true,
    );

    const positions = await expectEveryAcknowledgedOnce(
      live.h.storyline.connection.pool,
      startHead,
      run.acknowledged,
      480 + elsewhere,
    );

    await until(
      () => subscriber.of('event').length >= positions.length,
      'the subscriber to receive everything',
    );
    expect(subscriber.eventPositions()).toEqual(positions);
    await subscriber.close();
  });
});
