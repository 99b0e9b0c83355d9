/**
 * The benchmark's PostgreSQL, as the tests get theirs (tests/support/global-setup.ts): with
 * DATABASE_URL, scratch databases on that server, dropped at the end; without it, an embedded
 * server in a temporary folder, stopped and removed at the end. Each scenario gets a database of
 * its own, so one scenario's log (100,000 events for catch-up) does not change another's
 * numbers; baseline and Storyline of one scenario share it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadEmbeddedPostgres } from '../../src/adapters/postgres/load-embedded-postgres.ts';

export interface BenchServer {
  readonly embedded: boolean;
  readonly version: string;
  /** Creates an empty database for one scenario; returns its URL. */
  createDatabase(label: string): Promise<string>;
  dropDatabase(url: string): Promise<void>;
  close(): Promise<void>;
}

/** The first column of the first row, as text (or null). */
export async function queryValue(
  url: string,
  text: string,
  values: readonly unknown[] = [],
): Promise<string | null> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<Record<string, unknown>>(text, [...values]);
    const value = Object.values(result.rows[0] ?? {})[0];
    if (value === null || value === undefined) return null;
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'bigint') return value.toString();
    return JSON.stringify(value);
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

function serverOn(adminUrl: string, embedded: boolean, version: string): BenchServer {
  const created = new Set<string>();
  const drop = async (name: string) => {
    await queryValue(adminUrl, `drop database if exists ${name} with (force)`);
    created.delete(name);
  };
  return {
    embedded,
    version,
    async createDatabase(label) {
      const name = `storyline_bench_${process.pid}_${label.replace(/[^a-z0-9]/g, '_')}`;
      await queryValue(adminUrl, `drop database if exists ${name} with (force)`);
      await queryValue(adminUrl, `create database ${name}`);
      created.add(name);
      return withDatabase(adminUrl, name);
    },
    async dropDatabase(url) {
      await drop(new URL(url).pathname.slice(1));
    },
    async close() {
      for (const name of [...created]) await drop(name);
    },
  };
}

export async function openBenchServer(): Promise<BenchServer> {
  const adminUrl = process.env['DATABASE_URL'];
  if (adminUrl !== undefined && adminUrl !== '') {
    const version = (await queryValue(adminUrl, 'show server_version')) ?? 'unknown';
    return serverOn(adminUrl, false, version);
  }
  // Under /tmp: as root the server runs as `postgres`, which must reach the folder.
  const dataDir = await mkdtemp(path.join(tmpdir(), 'storyline-bench-'));
  try {
    const { startEmbeddedPostgres } = await loadEmbeddedPostgres();
    const embedded = await startEmbeddedPostgres({ dataDir, temporary: true });
    const admin = embedded.url('postgres');
    const version = (await queryValue(admin, 'show server_version')) ?? 'unknown';
    const server = serverOn(admin, true, version);
    return {
      ...server,
      close: async () => {
        await server.close();
        await embedded.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}
