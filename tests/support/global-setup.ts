/**
 * One PostgreSQL for the whole run: the server named by DATABASE_URL, or else an embedded one in
 * a temporary folder. A migrated template database is made once; each test file clones it into
 * a database of its own (tests/support/test-database.ts), so files never see each other's data.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { connect } from '../../src/adapters/postgres/connect.ts';
import type { EmbeddedServer } from '../../src/adapters/postgres/embedded-postgres.ts';
import { loadEmbeddedPostgres } from '../../src/adapters/postgres/load-embedded-postgres.ts';
import { migrateToLatest } from '../../src/adapters/postgres/migrate.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    templateDatabase: string;
  }
}

export async function setup(project: TestProject) {
  let embedded: EmbeddedServer | null = null;
  let dataDir: string | null = null;
  let adminUrl = process.env['DATABASE_URL'];
  if (adminUrl === undefined || adminUrl === '') {
    // Under /tmp: as root the server runs as `postgres`, which must reach the folder.
    const folder = await mkdtemp(path.join(tmpdir(), 'storyline-test-'));
    dataDir = folder;
    const { startEmbeddedPostgres } = await loadEmbeddedPostgres();
    embedded = await startEmbeddedPostgres({ dataDir: folder, temporary: true }).catch(
      async (error: unknown) => {
        await rm(folder, { recursive: true, force: true });
        throw error;
      },
    );
    adminUrl = embedded.url('postgres');
  }
  const templateDatabase = `storyline_template_${process.pid}`;
  await adminQuery(adminUrl, `drop database if exists ${templateDatabase}`);
  await adminQuery(adminUrl, `create database ${templateDatabase}`);
  const template = connect(withDatabase(adminUrl, templateDatabase));
  await migrateToLatest(template.db);
  await template.close();

  project.provide('adminUrl', adminUrl);
  project.provide('templateDatabase', templateDatabase);

  return async () => {
    await adminQuery(adminUrl, `drop database if exists ${templateDatabase} with (force)`);
    await embedded?.close();
    if (dataDir !== null) await rm(dataDir, { recursive: true, force: true });
  };
}

export async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
