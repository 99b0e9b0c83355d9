/**
 * A connection that takes the append lock and then stalls (a process paused mid-transaction, a
 * network that stops answering) must not block every writer for ever. Appends give up waiting
 * for the lock after `lock_timeout` and answer 503 `unavailable`; the server ends the stalled
 * session after `idle_in_transaction_session_timeout`, which frees the lock, and appends resume.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type PostgresConnection } from '../../src/adapters/postgres/connect.ts';
import {
  openStoryline,
  startHttpServer,
  type RunningServer,
  type Storyline,
} from '../../src/composition.ts';
import { readConfig } from '../../src/config.ts';
import { isStorylineError } from '../../src/domain/errors.ts';
import { expectError } from '../support/api-errors.ts';
import { silentLogger } from '../support/harness.ts';
import { until } from '../support/live-client.ts';
import { development, opened } from '../support/live-server.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

/** The append lock's key (0x53544f52, "STOR"), as migrations/0003 takes it. */
const appendLockKey = 1398034258;

describe('a stalled holder of the append lock', () => {
  let database: TestDatabase;
  let storyline: Storyline;
  let server: RunningServer;
  let token: string;
  let stalled: PostgresConnection;

  beforeAll(async () => {
    database = await createTestDatabase();
    storyline = await openStoryline(
      {
        databaseUrl: database.url,
        dataDir: '/nonexistent',
        poolSize: 4,
        databaseTimeouts: {
          connectMs: 5000,
          statementMs: 30_000,
          lockMs: 300,
          idleInTransactionMs: 2000,
        },
      },
      silentLogger,
    );
    server = await startHttpServer(
      storyline,
      { host: '127.0.0.1', port: 0, bodyLimit: 1024 * 1024, live: readConfig({}).live },
      silentLogger,
    );
    token = await storyline.tokens.create('stall desk');
  });

  afterAll(async () => {
    await server.close();
    await storyline.close();
    await stalled.close().catch(() => undefined);
    await database.drop();
  });

  const append = (events: unknown[]) =>
    fetch(`${server.url}/v1/stories/stalled/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ events }),
    });

  it('sets the timeouts on every pool connection', async () => {
    const { rows } = await storyline.connection.pool.query<{
      lock: string;
      statement: string;
      idle: string;
    }>(
      `select current_setting('lock_timeout') as lock,
              current_setting('statement_timeout') as statement,
              current_setting('idle_in_transaction_session_timeout') as idle`,
    );
    expect(rows[0]).toEqual({ lock: '300ms', statement: '30s', idle: '2s' });
  });

  it(
    'answers 503 while the lock is held, and appends resume once the holder is ended',
    {
      timeout: 60_000,
    },
    async () => {
      expect((await append([{ ...opened('Stalled'), id: randomUUID() }])).status).toBe(201);

      // A Storyline connection (the same settings as the service's) takes the lock and stalls.
      stalled = connect(database.url, {
        maxConnections: 1,
        applicationName: 'storyline-stalled',
        timeouts: { idleInTransactionMs: 2000 },
      });
      const holder = await stalled.pool.connect();
      const holderErrors: unknown[] = [];
      holder.on('error', (error) => holderErrors.push(error));
      await holder.query('begin');
      await holder.query('select pg_advisory_xact_lock($1)', [appendLockKey]);

      // Meanwhile an append gives up waiting instead of hanging: the stored function's path...
      const retried = { ...development('Written once the lock is free'), id: randomUUID() };
      await expectError(append([retried]), 503, 'unavailable');
      // ...and the locked-transaction path that decides under the lock.
      const locked = await storyline.log
        .withAppendLock(() => Promise.resolve('got the lock'))
        .catch((error: unknown) => error);
      expect(isStorylineError(locked) && locked.code).toBe('unavailable');

      // The server ends the stalled session, which frees the lock; the retry then appends.
      await until(
        async () => (await append([retried])).status === 201,
        'an append once the stalled session is ended',
        30_000,
      );
      expect(holderErrors[0]).toBeInstanceOf(Error);
      holder.release(true);
      const again = await append([retried]);
      expect(again.status).toBe(200);
    },
  );
});
