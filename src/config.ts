/**
 * Configuration, read from the environment in one place (the entry point) and validated once
 * into a typed object. A bad value fails fast with a message naming the variable.
 */
import path from 'node:path';
import { z } from 'zod';

const onOff = z
  .enum(['on', 'off', 'true', 'false', '1', '0'])
  .transform((value) => value === 'on' || value === 'true' || value === '1');

/**
 * Browser origins, comma-separated: each `scheme://host[:port]` exactly as a browser sends it in
 * `Origin` (no path, no trailing slash), or `*` where any origin may be allowed.
 */
const originsOrAny = z
  .string()
  .transform((text, context) =>
    text.trim() === '*' ? ('*' as const) : originsIn(text, context, ', or give *'),
  );
const origins = z
  .string()
  .transform((text, context) => originsIn(text, context, ' (not *: name each origin)'));

function originsIn(text: string, context: z.RefinementCtx, hint: string): string[] {
  const listed = text
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
  const wrong = listed.find((origin) => !isOrigin(origin));
  if (wrong === undefined) return listed;
  context.addIssue({
    code: 'custom',
    message: `"${wrong}" is not an origin as a browser sends it (scheme://host[:port], lowercase, no path or trailing slash); list origins like https://news.example.com${hint}`,
  });
  return z.NEVER;
}

function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === text;
  } catch {
    return false;
  }
}

/** Appends per second (0: no limit) and the burst a client may send at once. */
const appendRate = z.coerce.number().min(0).max(1_000_000);
const appendBurst = z.coerce.number().int().min(1).max(10_000_000);

/** An absolute web address, for links that leave the page (publisher, logo). */
const webUrl = z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' });

const schema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// connection string')
    .optional(),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  STORYLINE_DATA_DIR: z.string().min(1).default('.data'),
  STORYLINE_SEED: onOff.default(true),
  STORYLINE_EVENTS_DIR: z.string().min(1).optional(),
  STORYLINE_BODY_LIMIT: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024),
  STORYLINE_DB_POOL: z.coerce.number().int().min(2).max(200).default(10),
  STORYLINE_ALLOWED_ORIGINS: z.string().default('*'),
  STORYLINE_CORS_ORIGINS: originsOrAny.default('*'),
  STORYLINE_CORS_WRITE_ORIGINS: origins.default([]),
  STORYLINE_WS_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(10_000),
  STORYLINE_WS_MAX_FRAME: z.coerce
    .number()
    .int()
    .min(256)
    .max(16 * 1024 * 1024)
    .default(64 * 1024),
  STORYLINE_WS_HEARTBEAT_MS: z.coerce.number().int().min(100).default(30_000),
  STORYLINE_LIVE_MAX_BUFFER: z.coerce
    .number()
    .int()
    .min(16 * 1024)
    .default(4 * 1024 * 1024),
  STORYLINE_LIVE_MAX_STORIES: z.coerce.number().int().min(1).max(10_000).default(100),
  STORYLINE_LIVE_TAIL: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
  STORYLINE_LIVE_POLL_MS: z.coerce.number().int().min(50).default(1000),
  STORYLINE_LIVE_DRAIN_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  STORYLINE_LIVE_COMMANDS_PER_SECOND: z.coerce.number().min(0.1).max(10_000).default(20),
  STORYLINE_LIVE_DB_CONNECTIONS: z.coerce.number().int().min(1).max(200).optional(),
  STORYLINE_SSE_MAX_STREAMS: z.coerce.number().int().min(1).default(10_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  STORYLINE_PUBLIC_URL: z
    .url({
      protocol: /^https?$/,
      error: 'an http:// or https:// URL, e.g. https://news.example.com',
    })
    .refine((url) => !/[?#]/.test(url), 'a base URL without query or fragment')
    .transform((url) => url.replace(/\/+$/, ''))
    .optional(),
  STORYLINE_PUBLISHER_NAME: z.string().trim().min(1).max(200).default('Storyline'),
  STORYLINE_PUBLISHER_URL: webUrl.optional(),
  STORYLINE_PUBLISHER_LOGO: webUrl.optional(),
  STORYLINE_METRICS_TOKEN: z
    .string()
    .regex(/^[\x21-\x7e]{16,256}$/, '16-256 visible ASCII characters (a bearer token)')
    .optional(),
  // Far above a newsroom's rate, and above what one token or one address can push through a
  // process at all (bench/: ~2,000 appends/s from one token on 2 cores), so only a runaway
  // client or a flood meets them.
  STORYLINE_APPEND_RATE_PER_TOKEN: appendRate.default(5000),
  STORYLINE_APPEND_BURST_PER_TOKEN: appendBurst.default(10_000),
  STORYLINE_APPEND_RATE_PER_ADDRESS: appendRate.default(10_000),
  STORYLINE_APPEND_BURST_PER_ADDRESS: appendBurst.default(20_000),
  // Lifecycle: connection limits, timeouts and shutdown.
  STORYLINE_HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  STORYLINE_HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  STORYLINE_HTTP_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(0).default(10_000),
  STORYLINE_SHUTDOWN_MS: z.coerce.number().int().min(100).default(10_000),
  STORYLINE_SCHEDULER_INTERVAL_MS: z.coerce.number().int().min(10).max(3_600_000).default(1000),
  STORYLINE_SCHEDULER_LEASE_MS: z.coerce.number().int().min(1000).max(3_600_000).default(30_000),
  STORYLINE_DB_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(0).default(5000),
  STORYLINE_DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
  STORYLINE_DB_LOCK_TIMEOUT_MS: z.coerce.number().int().min(0).default(5000),
  STORYLINE_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  STORYLINE_WEBHOOK_ALLOW_HTTP: onOff.default(false),
  STORYLINE_WEBHOOK_ALLOW_PRIVATE: onOff.default(false),
  STORYLINE_WEBHOOK_MAX_FAILURES: z.coerce.number().int().min(1).max(1000).default(10),
  STORYLINE_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  STORYLINE_WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(1000),
  STORYLINE_WEBHOOK_RETRY_MAX_MS: z.coerce.number().int().min(10).max(86_400_000).default(600_000),
});

export interface Config {
  /** Unset: run an embedded PostgreSQL with its data in `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** STORYLINE_DATA_DIR was unset: as root, the data may move where the postgres user reaches. */
  readonly dataDirIsDefault: boolean;
  /** Import the story files when the log is empty. */
  readonly seed: boolean;
  readonly eventsDir: string;
  /** Largest request body accepted, in bytes. */
  readonly bodyLimit: number;
  readonly poolSize: number;
  readonly logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  readonly live: LiveConfig;
  /**
   * The service's public base URL, for the absolute links in feeds and pages. Unset: those links
   * are relative, never built from the request's Host header.
   */
  readonly publicUrl: string | undefined;
  /** The newsroom named as author and publisher in each story page's JSON-LD and feed. */
  readonly publisher: PublisherConfig;
  /** The bearer token `GET /metrics` requires; unset: the metrics are open. */
  readonly metricsToken: string | undefined;
  readonly appendLimits: AppendLimits;
  readonly http: HttpConfig;
  /** How long a SIGTERM or SIGINT may take, from the signal to the exit. */
  readonly shutdownMs: number;
  readonly databaseTimeouts: DatabaseTimeouts;
  readonly cors: CorsConfig;
  readonly scheduler: SchedulerConfig;
  readonly webhooks: WebhookConfig;
}

export interface WebhookConfig {
  /** Plain-http targets; off: https only. */
  readonly allowHttp: boolean;
  /** Targets on loopback, private, link-local… addresses; off: public addresses only. */
  readonly allowPrivate: boolean;
  /** Consecutive failed attempts after which an endpoint is paused. */
  readonly maxFailures: number;
  /** One attempt's deadline, connecting to the end of the response. */
  readonly timeoutMs: number;
  /** Retry waits: random up to min(retryMaxMs, retryBaseMs * 2^(failures - 1)). */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
}

/** Which other origins' pages may use the API from a browser (see src/adapters/http/cors.ts). */
export interface CorsConfig {
  /** Origins that may read (GET, HEAD without a token): public reads, SSE, feeds; `*`: any. */
  readonly readOrigins: '*' | readonly string[];
  /** Origins that may write, or send a token at all (appends, token management). */
  readonly writeOrigins: readonly string[];
}

/** The scheduler that publishes scheduled drafts (one per server process). */
export interface SchedulerConfig {
  /** How often each process looks for due drafts. */
  readonly intervalMs: number;
  /**
   * How long a process's claim on a draft it is publishing keeps other processes off it; after
   * a crash mid-publish, another process takes the draft over once this has passed.
   */
  readonly leaseMs: number;
}

export interface PublisherConfig {
  readonly name: string;
  /** Its home page. */
  readonly url: string | undefined;
  /** Its logo, an image URL. */
  readonly logo: string | undefined;
}

/** Token buckets for appends (per process); null: no limit. */
export interface AppendLimits {
  readonly perToken: RateLimit | null;
  /** Per client address, checked before the token is. */
  readonly perAddress: RateLimit | null;
}

export interface RateLimit {
  /** Appends per second, sustained. */
  readonly perSecond: number;
  /** Appends a client may make at once after being idle. */
  readonly burst: number;
}

export interface HttpConfig {
  /** Time a client has to send a request's headers. */
  readonly headersTimeoutMs: number;
  /** Time a client has to send a whole request, body included (not the response's time). */
  readonly requestTimeoutMs: number;
  /** Open connections from one remote address; more are answered 503. 0: no cap. */
  readonly maxConnectionsPerAddress: number;
}

/** Set on every pool connection; 0 turns one off. */
export interface DatabaseTimeouts {
  /** Establishing a connection, and waiting for a free one in the pool. */
  readonly connectMs: number;
  /** Any one statement. */
  readonly statementMs: number;
  /** Waiting for a lock, the append lock included. */
  readonly lockMs: number;
  /** A transaction left idle: the server ends its session and so releases its locks. */
  readonly idleInTransactionMs: number;
}

export interface LiveConfig {
  /** Browser origins allowed to open `/v1/live`; null allows any. */
  readonly allowedOrigins: readonly string[] | null;
  readonly maxConnections: number;
  /** Largest frame a client may send, in bytes. */
  readonly maxFrameBytes: number;
  readonly heartbeatMs: number;
  /** Unsent bytes per connection before a subscriber is closed as too slow (4008). */
  readonly maxBufferedBytes: number;
  readonly maxStories: number;
  /** Recent events kept in memory for resuming clients. */
  readonly tailSize: number;
  /** How often the feed polls the log when no notification arrives. */
  readonly pollIntervalMs: number;
  /** How long a client over half its buffer may take to read it down before it is closed. */
  readonly drainTimeoutMs: number;
  /** Commands a WebSocket connection may send per second (bursts of twice as many). */
  readonly commandsPerSecond: number;
  /** Database connections live clients may use at once (catch-up, snapshots, replays). */
  readonly maxDatabaseReads: number;
  /** Server-Sent Events streams open at once. */
  readonly maxSseStreams: number;
}

/** The folder with package.json and events/: above src/, or above dist/src/ when built. */
export const projectRoot = path.resolve(
  import.meta.dirname,
  path.basename(path.dirname(import.meta.dirname)) === 'dist' ? '../..' : '..',
);

export function readConfig(env: NodeJS.ProcessEnv): Config {
  // An empty variable means unset, as in most shells' `VAR= command`.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `  ${issue.path.join('.')}: ${issue.message}`)
      .join('\n');
    throw new Error(`invalid configuration:\n${problems}`);
  }
  const value = parsed.data;
  if (value.STORYLINE_HTTP_HEADERS_TIMEOUT_MS > value.STORYLINE_HTTP_REQUEST_TIMEOUT_MS) {
    // Node refuses a headers timeout longer than the request timeout.
    throw new Error(
      'invalid configuration:\n  STORYLINE_HTTP_HEADERS_TIMEOUT_MS: must not exceed STORYLINE_HTTP_REQUEST_TIMEOUT_MS',
    );
  }
  return {
    databaseUrl: value.DATABASE_URL,
    host: value.HOST,
    port: value.PORT,
    dataDir: path.resolve(value.STORYLINE_DATA_DIR),
    dataDirIsDefault: present['STORYLINE_DATA_DIR'] === undefined,
    seed: value.STORYLINE_SEED,
    eventsDir: path.resolve(value.STORYLINE_EVENTS_DIR ?? path.join(projectRoot, 'events')),
    bodyLimit: value.STORYLINE_BODY_LIMIT,
    poolSize: value.STORYLINE_DB_POOL,
    logLevel: value.LOG_LEVEL,
    live: {
      allowedOrigins:
        value.STORYLINE_ALLOWED_ORIGINS.trim() === '*'
          ? null
          : value.STORYLINE_ALLOWED_ORIGINS.split(',')
              .map((origin) => origin.trim())
              .filter((origin) => origin !== ''),
      maxConnections: value.STORYLINE_WS_MAX_CONNECTIONS,
      maxFrameBytes: value.STORYLINE_WS_MAX_FRAME,
      heartbeatMs: value.STORYLINE_WS_HEARTBEAT_MS,
      maxBufferedBytes: value.STORYLINE_LIVE_MAX_BUFFER,
      maxStories: value.STORYLINE_LIVE_MAX_STORIES,
      tailSize: value.STORYLINE_LIVE_TAIL,
      pollIntervalMs: value.STORYLINE_LIVE_POLL_MS,
      drainTimeoutMs: value.STORYLINE_LIVE_DRAIN_TIMEOUT_MS,
      commandsPerSecond: value.STORYLINE_LIVE_COMMANDS_PER_SECOND,
      // A third of the pool by default: appends and HTTP reads keep the rest.
      maxDatabaseReads:
        value.STORYLINE_LIVE_DB_CONNECTIONS ?? Math.max(1, Math.floor(value.STORYLINE_DB_POOL / 3)),
      maxSseStreams: value.STORYLINE_SSE_MAX_STREAMS,
    },
    publicUrl: value.STORYLINE_PUBLIC_URL,
    publisher: {
      name: value.STORYLINE_PUBLISHER_NAME,
      url: value.STORYLINE_PUBLISHER_URL,
      logo: value.STORYLINE_PUBLISHER_LOGO,
    },
    metricsToken: value.STORYLINE_METRICS_TOKEN,
    appendLimits: {
      perToken: rateLimit(
        value.STORYLINE_APPEND_RATE_PER_TOKEN,
        value.STORYLINE_APPEND_BURST_PER_TOKEN,
      ),
      perAddress: rateLimit(
        value.STORYLINE_APPEND_RATE_PER_ADDRESS,
        value.STORYLINE_APPEND_BURST_PER_ADDRESS,
      ),
    },
    http: {
      headersTimeoutMs: value.STORYLINE_HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: value.STORYLINE_HTTP_REQUEST_TIMEOUT_MS,
      maxConnectionsPerAddress: value.STORYLINE_HTTP_MAX_CONNECTIONS_PER_ADDRESS,
    },
    shutdownMs: value.STORYLINE_SHUTDOWN_MS,
    databaseTimeouts: {
      connectMs: value.STORYLINE_DB_CONNECT_TIMEOUT_MS,
      statementMs: value.STORYLINE_DB_STATEMENT_TIMEOUT_MS,
      lockMs: value.STORYLINE_DB_LOCK_TIMEOUT_MS,
      idleInTransactionMs: value.STORYLINE_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    },
    cors: {
      readOrigins: value.STORYLINE_CORS_ORIGINS,
      writeOrigins: value.STORYLINE_CORS_WRITE_ORIGINS,
    },
    scheduler: {
      intervalMs: value.STORYLINE_SCHEDULER_INTERVAL_MS,
      leaseMs: value.STORYLINE_SCHEDULER_LEASE_MS,
    },
    webhooks: {
      allowHttp: value.STORYLINE_WEBHOOK_ALLOW_HTTP,
      allowPrivate: value.STORYLINE_WEBHOOK_ALLOW_PRIVATE,
      maxFailures: value.STORYLINE_WEBHOOK_MAX_FAILURES,
      timeoutMs: value.STORYLINE_WEBHOOK_TIMEOUT_MS,
      retryBaseMs: value.STORYLINE_WEBHOOK_RETRY_BASE_MS,
      retryMaxMs: Math.max(
        value.STORYLINE_WEBHOOK_RETRY_MAX_MS,
        value.STORYLINE_WEBHOOK_RETRY_BASE_MS,
      ),
    },
  };
}

const rateLimit = (perSecond: number, burst: number): RateLimit | null =>
  perSecond === 0 ? null : { perSecond, burst };
