/**
 * A batch of appends that fails because the database is unavailable (here: the append lock is
 * held by a stalled session, so the batch gives up after `lock_timeout`) fails as a whole, each
 * caller answered `unavailable` (503) at once. Retrying its requests one by one would make each
 * of them wait out the same timeout again, multiplying the wait by the batch's size, with the
 * same outcome.
 *
 * Counted, not timed: the attempts the appender makes on the log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type PostgresConnection } from '../../src/adapters/postgres/connect.ts';
import { PostgresEventLog } from '../../src/adapters/postgres/postgres-event-log.ts';
import { Appender } from '../../src/app/appender.ts';
import type { EventLog } from '../../src/app/ports.ts';
import { isStorylineError } from '../../src/domain/errors.ts';
import { development } from '../support/live-server.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

/** The append lock's key (0x53544f52, "STOR"), as migrations/0003 takes it. */
const appendLockKey = 1398034258;

describe('a batch that fails because the database is unavailable', () => {
  let database: TestDatabase;
  let connection: PostgresConnection;
  let holder: PostgresConnection;

  beforeAll(async () => {
    database = await createTestDatabase();
    connection = connect(database.url, {
      maxConnections: 4,
      timeouts: { connectMs: 5000, statementMs: 30_000, lockMs: 200, idleInTransactionMs: 0 },
    });
    holder = connect(database.url, { maxConnections: 1, applicationName: 'storyline-holder' });
  });

  afterAll(async () => {
    await holder.close();
    await connection.close();
    await database.drop();
  });

  it('fails every request in it at once, with one attempt', async () => {
    const log = new PostgresEventLog(connection.db, connection.pool);
    let attempts = 0;
    const counted: EventLog = {
      appendIfCurrent: (expected, changes) => {
        attempts += 1;
        return log.appendIfCurrent(expected, changes);
      },
      withAppendLock: (work) => {
        attempts += 1;
        return log.withAppendLock(work);
      },
    };
    const appender = new Appender(counted);
    await appender.append({
      storyId: 'held',
      author: 'desk',
      events: [{ type: 'story.opened', data: { title: 'Held', timeZone: 'UTC' } }],
    });

    const client = await holder.pool.connect();
    await client.query('begin');
    await client.query('select pg_advisory_xact_lock($1)', [appendLockKey]);
    try {
      attempts = 0;
      // Queued in one turn of the event loop: one batch.
      const outcomes = await Promise.allSettled(
        Array.from({ length: 5 }, () =>
          appender.append({ storyId: 'held', author: 'desk', events: [development()] }),
        ),
      );
      for (const outcome of outcomes) {
        expect(outcome.status).toBe('rejected');
        const reason = outcome.status === 'rejected' ? (outcome.reason as unknown) : null;
        expect(isStorylineError(reason) && reason.code).toBe('unavailable');
      }
      // The fast path (one round trip under the lock) and nothing after it: no retry alone.
      expect(attempts).toBe(1);
    } finally {
      await client.query('rollback');
      client.release();
    }

    // The lock free again, the same appender appends.
    const after = await appender.append({
      storyId: 'held',
      author: 'desk',
      events: [development()],
    });
    expect(after.positions).toEqual([2]);
    await appender.close();
  });
});
