/** A connection pool and the Kysely instance over it, closable as one. */
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import type { Database } from './database.ts';
import { isDatabaseUnavailable, rethrowUnavailable } from './database-errors.ts';

const int8 = 20;
/** int8 (positions, counts) as numbers: positions stay far below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === int8
      ? (value: string) => Number(value)
      : (pg.types.getTypeParser as (oid: number, format?: string) => unknown)(
          oid,
          format,
        )) as typeof pg.types.getTypeParser,
};

export interface PostgresConnection {
  readonly db: Kysely<Database>;
  readonly pool: pg.Pool;
  readonly connectionString: string;
  close(): Promise<void>;
}

/**
 * Bounds on every pool connection, in milliseconds; 0 turns one off. The server enforces all but
 * `connectMs`, so they hold however the client stalls.
 */
export interface ConnectionTimeouts {
  /** Establishing a connection, and waiting for a free one when the pool is full. */
  readonly connectMs: number;
  /** Any one statement (`statement_timeout`). */
  readonly statementMs: number;
  /** Waiting for any lock, the append lock included (`lock_timeout`). */
  readonly lockMs: number;
  /**
   * A transaction left idle (`idle_in_transaction_session_timeout`): the server ends the session
   * and so frees its locks. This is what stops a stalled process holding the append lock from
   * blocking every writer in every process.
   */
  readonly idleInTransactionMs: number;
}

export const defaultConnectionTimeouts: ConnectionTimeouts = {
  connectMs: 5000,
  statementMs: 30_000,
  lockMs: 5000,
  idleInTransactionMs: 10_000,
};

/**
 * A pool connection that always has an `'error'` listener. pg emits `'error'` on a client whose
 * server ends its session (a restart, `pg_terminate_backend`) even while a query is failing with
 * the same error, and the pool and `unavailableAware` hand their listeners over as the client moves
 * between them: a FATAL that landed in a gap crashed a test process once in CI, under the
 * connection-killing fault test. This listener only keeps the event from being unheard; the query
 * still fails, and the pool still drops the connection.
 */
class ConnectionClient extends pg.Client {
  constructor(config?: pg.ClientConfig) {
    super(config);
    this.on('error', () => undefined);
  }
}

export function connect(
  connectionString: string,
  options: {
    maxConnections?: number;
    applicationName?: string;
    timeouts?: Partial<ConnectionTimeouts>;
  } = {},
): PostgresConnection {
  const timeouts = { ...defaultConnectionTimeouts, ...options.timeouts };
  const pool = new pg.Pool({
    connectionString,
    max: options.maxConnections ?? 10,
    application_name: options.applicationName ?? 'storyline',
    types,
    // Sent with each connection's startup, so every session of the pool has them from its
    // first statement (pg leaves a 0 out: the server's default, off).
    connectionTimeoutMillis: timeouts.connectMs,
    statement_timeout: timeouts.statementMs,
    lock_timeout: timeouts.lockMs,
    idle_in_transaction_session_timeout: timeouts.idleInTransactionMs,
    // A server that vanished without a reset (a cut network) is noticed, not waited on forever.
    keepAlive: true,
    Client: ConnectionClient as unknown as new () => pg.ClientBase,
  });
  // An idle client losing its server (a database restart) must not crash the process; the
  // pool drops it and the next query gets a fresh connection.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: unavailableAware(pool) }),
  });
  return {
    db,
    pool,
    connectionString,
    close: () => db.destroy(),
  };
}

/**
 * The pool as Kysely sees it, with every connection and query failure that means "the database
 * is away" turned into `unavailable`, in this one place for every query the service makes.
 */
function unavailableAware(pool: pg.Pool): PostgresPool {
  return {
    connect: async () => {
      const client = await pool.connect().catch(rethrowUnavailable);
      // pg emits 'error' on a checked-out client whose connection drops (besides failing its
      // query); unheard, that event would crash the process on a database restart.
      const onError = (): void => {
        broken = true;
      };
      client.on('error', onError);
      let broken = false;
      return {
        query: ((text: string, parameters: readonly unknown[]) =>
          client.query(text, [...parameters]).catch((error: unknown) => {
            broken ||= isDatabaseUnavailable(error);
            return rethrowUnavailable(error);
          })) as unknown as PostgresPoolClient['query'],
        release: (destroy?: boolean) => {
          client.removeListener('error', onError);
          // A connection that failed goes, rather than back to the pool to fail again.
          client.release(destroy === true || broken);
        },
      };
    },
    end: () => pool.end(),
  };
}

export { types as pgTypes };
