/**
 * The composition root: the one place that knows every part, wires them, and closes them in
 * order. Entry points (cli.ts) read the configuration and call in here.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import pino, { type Logger } from 'pino';
import { Appender } from './app/appender.ts';
import { DraftScheduler } from './app/draft-scheduler.ts';
import { Drafts } from './app/drafts.ts';
import { LiveFeed } from './app/live-feed.ts';
import { rebuildViews } from './app/rebuild-views.ts';
import type { LiveCloseReason } from './app/live-session.ts';
import { LiveSessions } from './app/live-sessions.ts';
import { importEvents, type ImportReport } from './app/import-events.ts';
import { StoryQueries } from './app/story-queries.ts';
import { readStoryFiles } from './adapters/files/story-files.ts';
import { GuardedServer } from './adapters/http/guarded-server.ts';
import { createHttpApp } from './adapters/http/http-app.ts';
import { SseStreams } from './adapters/http/sse-live.ts';
import {
  connect,
  defaultConnectionTimeouts,
  type PostgresConnection,
} from './adapters/postgres/connect.ts';
import {
  ensureDatabase,
  startEmbeddedPostgres,
  type EmbeddedServer,
} from './adapters/postgres/embedded-postgres.ts';
import { migrateToLatest, viewsRebuiltBy } from './adapters/postgres/migrate.ts';
import { PostgresDrafts } from './adapters/postgres/postgres-drafts.ts';
import { viewsOutOfShape } from './adapters/postgres/view-shape.ts';
import { PostgresEventLog } from './adapters/postgres/postgres-event-log.ts';
import { PostgresReader } from './adapters/postgres/postgres-reader.ts';
import { PostgresListener } from './adapters/postgres/postgres-listener.ts';
import { PostgresTokens, tokensChannel } from './adapters/postgres/postgres-tokens.ts';
import { PostgresDeskSessions } from './adapters/postgres/postgres-desk-sessions.ts';
import { StorylineMetrics } from './adapters/metrics/storyline-metrics.ts';
import { LiveHub } from './adapters/ws/live-hub.ts';
import {
  createWebhooks,
  defaultWebhookConfig,
  type RunningWebhooks,
} from './adapters/webhooks/webhook-service.ts';
import type { AppendRequest } from './app/decide-appends.ts';
import { readConfig, type Config } from './config.ts';
import type { RecordedEvent } from './domain/event-types.ts';

/**
 * Paths a log line never shows, should a header or a connection string be logged: a token or a
 * password in a log is a token or a password leaked to whoever reads the logs.
 */
export const redactedLogPaths = [
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.cookie',
  'password',
  '*.password',
  'connectionString',
  '*.connectionString',
  'token',
  '*.token',
];

export function createLogger(
  config: Pick<Config, 'logLevel'>,
  destination?: pino.DestinationStream,
): Logger {
  const options = {
    level: config.logLevel,
    base: { service: 'storyline' },
    redact: { paths: redactedLogPaths, censor: '[redacted]' },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

export interface Storyline {
  readonly connection: PostgresConnection;
  readonly log: PostgresEventLog;
  readonly appender: Appender;
  readonly queries: StoryQueries;
  readonly tokens: PostgresTokens;
  readonly deskSessions: PostgresDeskSessions;
  readonly reader: PostgresReader;
  /** Drafts and scheduled events, kept outside the log until published. */
  readonly draftStore: PostgresDrafts;
  /** This instance's Prometheus registry (served at `/metrics` by startHttpServer). */
  readonly metrics: StorylineMetrics;
  /** Where the data lives, for people: "embedded PostgreSQL in …" or the server's host. */
  readonly databaseLabel: string;
  /** Hears the events of each append this process commits, before the appenders are answered. */
  onCommit(listener: (events: readonly RecordedEvent[]) => void): () => void;
  /**
   * Hears, once, of a failure this process cannot recover from: the embedded PostgreSQL it
   * started has stopped. Nothing restarts it; the service should exit non-zero so that a
   * supervisor (or the person who ran `npm start`) can start it again.
   */
  onFatal(listener: (message: string) => void): void;
  close(): Promise<void>;
}

/** Connects (starting the embedded server if no URL is configured), migrates, wires. */
export async function openStoryline(
  config: Pick<Config, 'databaseUrl' | 'dataDir' | 'poolSize'> &
    Partial<Pick<Config, 'databaseTimeouts' | 'dataDirIsDefault'>>,
  logger: Logger,
  options: {
    /** Refuse an embedded database another running Storyline started (`serve`), not share it. */
    readonly exclusiveDatabase?: boolean;
  } = {},
): Promise<Storyline> {
  let embedded: EmbeddedServer | null = null;
  let url = config.databaseUrl;
  let databaseLabel: string;
  let fatal: string | null = null;
  const fatalListeners = new Set<(message: string) => void>();
  if (url === undefined) {
    embedded = await startEmbeddedPostgres({
      dataDir: config.dataDir,
      relocatable: config.dataDirIsDefault === true,
      exclusive: options.exclusiveDatabase === true,
      onLog: (message) => logger.debug({ component: 'embedded-postgres' }, message),
      onNotice: (message) => logger.info({ component: 'embedded-postgres' }, message),
      onUnexpectedExit: (message) => {
        fatal = message;
        for (const listener of fatalListeners) listener(message);
      },
    });
    await ensureDatabase(embedded.url('postgres'), 'storyline');
    url = embedded.url('storyline');
    databaseLabel = `embedded PostgreSQL in ${embedded.dataDir} (port ${embedded.port}${embedded.owned ? '' : ', already running'})`;
  } else {
    const parsed = new URL(url);
    databaseLabel = `PostgreSQL at ${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  }

  const timeouts = { ...defaultConnectionTimeouts, ...config.databaseTimeouts };
  const connection = connect(url, { maxConnections: config.poolSize, timeouts });
  // Migrations wait for the migration lock while another process migrates, and a migration or
  // the rebuild after it may run long statements: on connections of their own, without the
  // statement and lock timeouts meant for requests. (An idle transaction still ends.)
  const maintenance = connect(url, {
    maxConnections: 2,
    applicationName: 'storyline-migrate',
    timeouts: { ...timeouts, statementMs: 0, lockMs: 0 },
  });
  try {
    await connection.pool.query('select 1').catch((error: unknown) => {
      throw new Error(`cannot reach the ${databaseLabel}`, { cause: error });
    });
    const applied = await migrateToLatest(maintenance.db);
    if (applied.length > 0) logger.info({ migrations: applied }, 'migrated');
    if (
      applied.some((name) => viewsRebuiltBy.has(name)) ||
      (await viewsOutOfShape(maintenance.db))
    ) {
      const rebuilt = await rebuildViews(new PostgresEventLog(maintenance.db, maintenance.pool));
      logger.info(rebuilt, 'rebuilt the views from the log after a change of their shape');
    }
  } catch (error) {
    await maintenance.close();
    await connection.close();
    await embedded?.close();
    throw error;
  }
  await maintenance.close();

  const log = new PostgresEventLog(connection.db, connection.pool);
  const metrics = new StorylineMetrics();
  const commitListeners = new Set<(events: readonly RecordedEvent[]) => void>();
  const appender = new Appender(log, {
    onBatch: (batch) => metrics.observeBatch(batch),
    onCommit: (events) => {
      metrics.observeCommitted(events);
      for (const listener of commitListeners) listener(events);
    },
  });
  const reader = new PostgresReader(connection.db);
  return {
    connection,
    log,
    appender,
    reader,
    metrics,
    queries: new StoryQueries(reader),
    tokens: new PostgresTokens(connection.db),
    deskSessions: new PostgresDeskSessions(connection.db),
    draftStore: new PostgresDrafts(connection.db),
    databaseLabel,
    onCommit(listener) {
      commitListeners.add(listener);
      return () => commitListeners.delete(listener);
    },
    onFatal(listener) {
      if (fatal !== null) listener(fatal);
      else fatalListeners.add(listener);
    },
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
  readonly feed: LiveFeed;
  readonly hub: LiveHub;
  readonly webhooks: RunningWebhooks;
  /**
   * Stops accepting connections and requests (later ones on open connections get 503 with
   * `Connection: close`); ends every WebSocket and SSE session with the position to resume after
   * (1001, SSE `close`); lets in-flight requests finish, answering them with `Connection:
   * close`; closes keep-alive connections as they go idle; stops the feed. Connections still
   * open after `deadlineMs` (default 10 s) are cut.
   */
  close(options?: { readonly deadlineMs?: number }): Promise<void>;
}

const defaultSchedulerConfig = readConfig({}).scheduler;

/** The HTTP API, `/v1/live` WebSockets and the SSE streams on one server and port. */
/** Settings a server can run without (tests leave them out; `serve` passes them all). */
type OptionalServerSettings =
  | 'publicUrl'
  | 'metricsToken'
  | 'appendLimits'
  | 'http'
  | 'cors'
  | 'scheduler'
  | 'publisher'
  | 'webhooks';

export async function startHttpServer(
  storyline: Storyline,
  config: Pick<Config, 'host' | 'port' | 'bodyLimit' | 'live'> &
    Partial<Pick<Config, OptionalServerSettings>>,
  logger: Logger,
): Promise<RunningServer> {
  const onError = (error: unknown) => logger.warn({ err: error }, 'live feed');
  const feed = new LiveFeed(
    storyline.reader,
    new PostgresListener(
      storyline.connection.connectionString,
      onError,
      new Map([[tokensChannel, () => storyline.tokens.forgetCached()]]),
    ),
    { tailSize: config.live.tailSize, pollIntervalMs: config.live.pollIntervalMs, onError },
  );
  await feed.start();
  // What this process commits goes to its subscribers straight away, without reading it back;
  // other processes' commits still arrive through NOTIFY and a read by position.
  const stopOffering = storyline.onCommit((events) => feed.offer(events));
  const sessions = new LiveSessions(feed, storyline.reader, {
    maxDatabaseReads: config.live.maxDatabaseReads,
  });
  const { metrics } = storyline;
  metrics.collectProcessMetrics();
  const sessionOptions = {
    maxBufferedBytes: config.live.maxBufferedBytes,
    maxStories: config.live.maxStories,
    drainTimeoutMs: config.live.drainTimeoutMs,
    onEnd: (reason: LiveCloseReason) => metrics.observeLiveEnded(reason),
  };
  // The server's own queries serve recent reads from memory, kept fresh by the feed, and learn
  // of this process's appends as they are answered (read-your-writes on this process), also
  // when the feed could not take an offered batch at once because another process's commit
  // came between.
  const queries = new StoryQueries(storyline.reader, { feed });
  // A replaced log (a restored database): the appender must not decide from the old one.
  feed.onReset(() => storyline.appender.forgetLog());
  const metered = metrics.meterAppends(storyline.appender);
  const webhooks = createWebhooks({
    ...storyline,
    feed,
    logger,
    config: config.webhooks ?? defaultWebhookConfig,
  });
  const appender = {
    async append(request: AppendRequest) {
      const result = await metered.append(request);
      queries.noteCommitted(request.storyId, result.positions);
      return result;
    },
  };
  const schedulerConfig = config.scheduler ?? defaultSchedulerConfig;
  const drafts = new Drafts(storyline.draftStore, appender, {
    leaseMs: schedulerConfig.leaseMs,
  });
  const scheduler = new DraftScheduler(drafts, {
    intervalMs: schedulerConfig.intervalMs,
    onError: (error) => logger.warn({ err: error }, 'draft scheduler'),
  });
  const app = createHttpApp({
    appender,
    drafts,
    queries,
    tokens: storyline.tokens,
    deskSessions: storyline.deskSessions,
    logger,
    bodyLimit: config.bodyLimit,
    live: {
      feed,
      reader: storyline.reader,
      sessions,
      options: sessionOptions,
      streams: new SseStreams(config.live.maxSseStreams),
    },
    metrics,
    metricsToken: config.metricsToken,
    publicUrl: config.publicUrl,
    ...(config.publisher === undefined ? {} : { publisher: config.publisher }),
    ...(config.appendLimits === undefined ? {} : { rateLimits: config.appendLimits }),
    ...(config.cors === undefined ? {} : { cors: config.cors }),
    webhooks: webhooks.registry,
  });
  const guarded = new GuardedServer(getRequestListener(app.fetch), config.http);
  const { server } = guarded;
  const hub = new LiveHub(server, sessions, logger, {
    ...sessionOptions,
    maxConnections: config.live.maxConnections,
    maxFrameBytes: config.live.maxFrameBytes,
    heartbeatMs: config.live.heartbeatMs,
    allowedOrigins: config.live.allowedOrigins,
    commandsPerSecond: config.live.commandsPerSecond,
  });
  guarded.guardUpgrades();
  // After the sessions' listener, so the fan-out lag includes sending to them.
  const unobserveLive = metrics.observeLive(feed, { sessions, hub });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  scheduler.start();
  webhooks.start();
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    server,
    feed,
    hub,
    webhooks,
    close: async ({ deadlineMs = 10_000 } = {}) => {
      const stopScheduling = scheduler.close();
      const drained = guarded.drain(deadlineMs);
      const webhooksStopped = webhooks.close();
      await hub.close();
      await drained;
      await stopScheduling;
      await webhooksStopped;
      unobserveLive();
      stopOffering();
      queries.close();
      await feed.close();
    },
  };
}
