/**
 * The composition root: the one place that knows every part, wires them, and closes them in
 * order. Entry points (cli.ts) read the configuration and call in here.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import pino, { type Logger } from 'pino';
import { Appender } from './app/appender.ts';
import { importEvents, type ImportReport } from './app/import-events.ts';
import { StoryQueries } from './app/story-queries.ts';
import { readStoryFiles } from './adapters/files/story-files.ts';
import { createHttpApp } from './adapters/http/http-app.ts';
import { connect, type PostgresConnection } from './adapters/postgres/connect.ts';
import {
  ensureDatabase,
  startEmbeddedPostgres,
  type EmbeddedServer,
} from './adapters/postgres/embedded-postgres.ts';
import { migrateToLatest } from './adapters/postgres/migrate.ts';
import { PostgresEventLog } from './adapters/postgres/postgres-event-log.ts';
import { PostgresReader } from './adapters/postgres/postgres-reader.ts';
import { PostgresTokens } from './adapters/postgres/postgres-tokens.ts';
import type { Config } from './config.ts';

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, base: { service: 'storyline' } });
}

export interface Storyline {
  readonly connection: PostgresConnection;
  readonly log: PostgresEventLog;
  readonly appender: Appender;
  readonly queries: StoryQueries;
  readonly tokens: PostgresTokens;
  /** Where the data lives, for people: "embedded PostgreSQL in …" or the server's host. */
  readonly databaseLabel: string;
  close(): Promise<void>;
}

/** Connects (starting the embedded server if no URL is configured), migrates, wires. */
export async function openStoryline(
  config: Pick<Config, 'databaseUrl' | 'dataDir' | 'poolSize'>,
  logger: Logger,
): Promise<Storyline> {
  let embedded: EmbeddedServer | null = null;
  let url = config.databaseUrl;
  let databaseLabel: string;
  if (url === undefined) {
    embedded = await startEmbeddedPostgres({
      dataDir: config.dataDir,
      onLog: (message) => logger.debug({ component: 'embedded-postgres' }, message),
    });
    await ensureDatabase(embedded.url('postgres'), 'storyline');
    url = embedded.url('storyline');
    databaseLabel = `embedded PostgreSQL in ${config.dataDir} (port ${embedded.port}${embedded.owned ? '' : ', already running'})`;
  } else {
    const parsed = new URL(url);
    databaseLabel = `PostgreSQL at ${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  }

  const connection = connect(url, { maxConnections: config.poolSize });
  try {
    const applied = await migrateToLatest(connection.db);
    if (applied.length > 0) logger.info({ migrations: applied }, 'migrated');
  } catch (error) {
    await connection.close();
    await embedded?.close();
    throw error;
  }

  const log = new PostgresEventLog(connection.db);
  const appender = new Appender(log);
  return {
    connection,
    log,
    appender,
    queries: new StoryQueries(new PostgresReader(connection.db)),
    tokens: new PostgresTokens(connection.db),
    databaseLabel,
    async close() {
      await appender.close();
      await connection.close();
      await embedded?.close();
    },
  };
}

/** Imports story files when the log is empty (a fresh database serves the seeded stories). */
export async function seedIfEmpty(
  storyline: Storyline,
  eventsDir: string,
  logger: Logger,
): Promise<ImportReport | null> {
  const { head } = await storyline.queries.logInfo();
  if (head > 0) return null;
  const files = await readStoryFiles(eventsDir);
  if (files.problems.length > 0) {
    throw new Error(`story files are invalid:\n${files.problems.join('\n')}`);
  }
  const report = await importEvents(storyline.appender, files.lines);
  logger.info({ files: files.files, ...report }, 'seeded the log from story files');
  return report;
}

export interface RunningServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

export async function startHttpServer(
  storyline: Storyline,
  config: Pick<Config, 'host' | 'port' | 'bodyLimit'>,
  logger: Logger,
): Promise<RunningServer> {
  const app = createHttpApp({
    appender: storyline.appender,
    queries: storyline.queries,
    tokens: storyline.tokens,
    logger,
    bodyLimit: config.bodyLimit,
  });
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    server,
    /** Stops accepting, lets in-flight requests finish, then drops idle keep-alive sockets. */
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeIdleConnections();
      }),
  };
}
