/** A connection pool and the Kysely instance over it, closable as one. */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './database.ts';

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

export function connect(
  connectionString: string,
  options: { maxConnections?: number; applicationName?: string } = {},
): PostgresConnection {
  const pool = new pg.Pool({
    connectionString,
    max: options.maxConnections ?? 10,
    application_name: options.applicationName ?? 'storyline',
    types,
  });
  // An idle client losing its server (a database restart) must not crash the process; the
  // pool drops it and the next query gets a fresh connection.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    pool,
    connectionString,
    close: () => db.destroy(),
  };
}

export { types as pgTypes };
