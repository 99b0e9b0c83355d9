/**
 * The benchmark's PostgreSQL, as the tests get theirs (tests/support/global-setup.ts): with
 * DATABASE_URL, a scratch database on that server, dropped at the end; without it, an embedded
 * server in a temporary folder, stopped and removed at the end. Baseline and Storyline share it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import {
  ensureDatabase,
  startEmbeddedPostgres,
} from '../src/adapters/postgres/embedded-postgres.ts';

export interface BenchDatabase {
  readonly url: string;
  readonly embedded: boolean;
  readonly version: string;
  close(): Promise<void>;
}

async function adminQuery(url: string, text: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<Record<string, string>>(text);
    return Object.values(result.rows[0] ?? {})[0] ?? '';
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function openBenchDatabase(): Promise<BenchDatabase> {
  const adminUrl = process.env['DATABASE_URL'];
  const name = `storyline_bench_${process.pid}`;
  if (adminUrl !== undefined && adminUrl !== '') {
    await adminQuery(adminUrl, `drop database if exists ${name}`);
    await adminQuery(adminUrl, `create database ${name}`);
    const url = withDatabase(adminUrl, name);
    return {
      url,
      embedded: false,
      version: await adminQuery(url, 'show server_version'),
      close: async () => {
        await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
      },
    };
  }
  // Under /tmp: as root the server runs as `postgres`, which must reach the folder.
  const dataDir = await mkdtemp(path.join(tmpdir(), 'storyline-bench-'));
  try {
    const server = await startEmbeddedPostgres({ dataDir, temporary: true });
    await ensureDatabase(server.url('postgres'), name);
    const url = server.url(name);
    return {
      url,
      embedded: true,
      version: await adminQuery(url, 'show server_version'),
      close: async () => {
        await server.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}
