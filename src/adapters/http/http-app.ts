/**
 * The HTTP API under /v1. Routes validate their input, call a use case and shape JSON; every
 * failure goes through `onError`, the one place errors become responses.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { HttpBindings } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { requestId } from 'hono/request-id';
import type { Logger } from 'pino';
import type { AppendRequest, AppendResult } from '../../app/decide-appends.ts';
import type { Drafts } from '../../app/drafts.ts';
import {
  tokenNamePattern,
  type DeskSessionStore,
  type Publisher,
  type TokenScope,
  type TokenStore,
} from '../../app/ports.ts';
import type { StoryQueries, StoryRead } from '../../app/story-queries.ts';
import type { WebhookRegistry } from '../../app/webhook-registry.ts';
import { StorylineError, isStorylineError } from '../../domain/errors.ts';
import { appendBodySchema } from '../../domain/event-types.ts';
import type { TimelineEntry } from '../../domain/story-view.ts';
import { createWebhookRoutes } from '../webhooks/webhook-routes.ts';
import { apiReferenceCss, apiReferencePolicy, renderApiReference } from './api-reference.ts';
import { atomContentType, renderAtomFeed } from './atom-feed.ts';
import { cors, type CorsOptions } from './cors.ts';
import { createDraftRoutes } from './draft-routes.ts';
import { errorBody, httpStatusOf } from './error-responses.ts';
import { deskSessionForApi } from './desk/desk-auth.ts';
import { createDesk } from './desk/desk-routes.ts';
import { parseInput, storyIdOf } from './input-validation.ts';
import { withBody } from './json-body.ts';
import { openApiDocument } from './openapi.ts';
import { requireMayPublishTo } from './publish-permission.ts';
import { maxRequestIdLength, requestIdHeader } from './request-ids.ts';
import type { NewsPublisher } from './pages/live-blog-json-ld.ts';
import { createPages } from './pages/pages.ts';
import { requestMetrics, type HttpMetrics } from './request-metrics.ts';
import { RateLimiter } from './rate-limit.ts';
import {
  cursorSchema,
  pageQuery,
  stateQuery,
  timelineQuery,
  tokenRequestSchema,
} from './request-schemas.ts';
import { routePattern } from './route-pattern.ts';
import { serveStoryStream, type SseDependencies } from './sse-live.ts';

export interface HttpDependencies {
  /** The Appender, or the same wrapped to count appends. */
  readonly appender: { append(request: AppendRequest): Promise<AppendResult> };
  readonly queries: StoryQueries;
  readonly tokens: TokenStore;
  readonly logger: Logger;
  readonly bodyLimit: number;
  /** The live feed, for Server-Sent Events; without it the stream route answers 503. */
  readonly live?: SseDependencies;
  /** Request metrics and `GET /metrics`; without them that route answers 503. */
  readonly metrics?: HttpMetrics;
  /** The bearer token `GET /metrics` requires; without it the metrics are open. */
  readonly metricsToken?: string | undefined;
  /**
   * The public base URL (`https://news.example.com`) for absolute links in feeds and pages;
   * without it those links are relative. Never the request's Host header: a forged Host would
   * otherwise end up in the links of a cached response.
   */
  readonly publicUrl?: string | undefined;
  /** Desk sessions (`/desk`); the API then also accepts a desk session cookie with its CSRF header. */
  readonly deskSessions?: DeskSessionStore | undefined;
  /** Which other origins' pages may read and write the API; reads by any, writes by none without. */
  readonly cors?: Partial<CorsOptions>;
  /** Drafts and scheduled events (`/v1/stories/{storyId}/drafts`); without them, no such routes. */
  readonly drafts?: Drafts;
  /** The newsroom named as author and publisher in pages (JSON-LD) and feeds. */
  readonly publisher?: NewsPublisher;
  /** Token buckets for authenticated requests (appends, token management); none: unlimited. */
  readonly rateLimits?: {
    readonly perToken: { readonly perSecond: number; readonly burst: number } | null;
    readonly perAddress: { readonly perSecond: number; readonly burst: number } | null;
  };
  /** Webhook endpoints (`/v1/webhooks`, admin tokens); without them those routes answer 503. */
  readonly webhooks?: WebhookRegistry;
}

type Env = { Variables: { requestId: string }; Bindings: HttpBindings };

/** Developments in a story's Atom feed at most, the latest first. */
const feedEntryLimit = 100;

export function createHttpApp(deps: HttpDependencies): Hono<Env> {
  const { appender, queries, tokens, logger } = deps;
  const publicUrl = deps.publicUrl ?? '';
  const perToken = limiter(deps.rateLimits?.perToken);
  const perAddress = limiter(deps.rateLimits?.perAddress);
  const metricsTokenHash = deps.metricsToken === undefined ? null : sha256(deps.metricsToken);
  const app = new Hono<Env>();

  // A client's id is kept only if it is short and made of letters, digits, `_`, `-` and `=`
  // (hono's check); otherwise the request gets a UUID.
  app.use(requestId({ limitLength: maxRequestIdLength }));
  app.use(async function logRequest(c, next) {
    // A silent logger costs nothing per request: no clock read, no log object built.
    if (!logger.isLevelEnabled('info')) return next();
    const started = performance.now();
    await next();
    logger.info(
      {
        requestId: c.get('requestId'),
        method: c.req.method,
        path: c.req.path,
        route: routePattern(c),
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      },
      'request',
    );
  });
  if (deps.metrics !== undefined) app.use(requestMetrics(deps.metrics));
  const crossOrigin = cors(deps.cors);
  app.use(crossOrigin.middleware);

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) =>
    (await queries.ready())
      ? c.json({ status: 'ready' })
      : // Answered, not thrown: a failing probe is not an error worth a log line each time.
        c.json(
          errorBody(new StorylineError('unavailable', 'database not ready'), c.get('requestId')),
          503,
        ),
  );

  app.get('/openapi.json', (c) => c.json(openApiDocument()));
  app.get('/docs', (c) => {
    c.header('Content-Security-Policy', apiReferencePolicy);
    return c.html(renderApiReference(openApiDocument()));
  });
  app.get('/docs/reference.css', (c) =>
    c.body(apiReferenceCss, 200, { 'Content-Type': 'text/css; charset=utf-8' }),
  );
  app.get('/metrics', async (c) => {
    if (metricsTokenHash !== null) {
      const presented = bearerOf(c.req.header('Authorization'));
      if (presented === null || !timingSafeEqual(sha256(presented), metricsTokenHash)) {
        throw new StorylineError('unauthorized', 'the metrics need Authorization: Bearer <token>');
      }
    }
    if (deps.metrics === undefined) {
      throw new StorylineError('unavailable', 'metrics are not enabled on this server');
    }
    const { contentType, body } = await deps.metrics.exposition();
    return c.body(body, 200, { 'Content-Type': contentType });
  });

  app.get('/v1/stories', async (c) => c.json({ stories: await queries.listStories() }));

  /**
   * The story view as cached by the queries (no database access, no encoding: only cached ids
   * are valid ones, and the body and ETag were made once for that version of the story).
   */
  app.get('/v1/stories/:storyId', async (c) => {
    const read =
      queries.cachedStory(c.req.param('storyId')) ?? (await queries.storyRead(storyIdOf(c)));
    const { body, etag } = encodedStory(read);
    c.header('ETag', etag);
    c.header('Cache-Control', 'no-cache');
    if (matchesEtag(c.req.header('If-None-Match'), etag)) return c.body(null, 304);
    return c.body(body, 200, jsonType);
  });

  /**
   * Timeline pages by story, position and query string: the page as a story stood at a position
   * never changes, and a request finds the page for the version it would be served now.
   */
  const timelinePages = new EncodedCache(1024, 32 * 1024 * 1024, bodySize);
  app.get('/v1/stories/:storyId/timeline', async (c) => {
    const search = searchOf(c.req.url);
    const cached = queries.cachedStory(c.req.param('storyId'));
    const hit =
      cached === undefined
        ? undefined
        : timelinePages.get(`${cached.view.storyId}@${cached.view.position}${search}`);
    if (hit !== undefined) return c.body(hit, 200, jsonType);

    const query = parseInput(timelineQuery, c.req.query());
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const { story, entries, ofStory } = await queries.timeline(storyIdOf(c), {
      order: query.order,
      limit: query.limit,
      ...(after === undefined ? {} : { after }),
    });
    const last = entries.at(-1);
    const body = utf8.encode(
      JSON.stringify({
        storyId: story.storyId,
        version: story.version,
        position: story.position,
        order: query.order,
        entries,
        next: entries.length === query.limit && last !== undefined ? encodeCursor(last) : null,
      }),
    );
    if (ofStory && queries.knownHead !== undefined)
      timelinePages.set(`${story.storyId}@${story.position}${search}`, body);
    return c.body(body, 200, jsonType);
  });

  app.get('/v1/stories/:storyId/corrections', async (c) => {
    const query = parseInput(pageQuery, c.req.query());
    const { story, corrections, more } = await queries.corrections(storyIdOf(c), query);
    return c.json({
      storyId: story.storyId,
      version: story.version,
      position: story.position,
      corrections,
      next: more ? (corrections.at(-1)?.position ?? null) : null,
    });
  });

  /**
   * The state at a position of an append-only log never changes once the log reaches it, so it
   * is encoded once; a moment is not kept (the log may still record events before it).
   */
  const statesAt = new EncodedCache(256, 32 * 1024 * 1024, bodySize);
  app.get('/v1/stories/:storyId/state', async (c) => {
    const query = parseInput(stateQuery, c.req.query());
    const storyId = storyIdOf(c);
    const key = query.at === undefined ? null : `${storyId} ${query.at}`;
    const kept = key === null ? undefined : statesAt.get(key);
    if (kept !== undefined) return c.body(kept, 200, jsonType);
    const point =
      query.at === undefined ? { recordedAt: query.asOf as string } : { position: query.at };
    const { story, timeline } = await queries.stateAt(storyId, point);
    const body = utf8.encode(
      JSON.stringify({ ...story, asOf: query.asOf ?? null, at: query.at ?? null, timeline }),
    );
    if (key !== null) statesAt.set(key, body);
    return c.body(body, 200, jsonType);
  });

  const eventPages = new EventPages(queries);
  // What was encoded from a log that has since been replaced (a restored database) must go.
  queries.onLogReplaced(() => {
    timelinePages.clear();
    statesAt.clear();
    eventPages.clear();
  });
  app.get('/v1/stories/:storyId/events', (c) => eventPages.serve(c, true));

  app.get('/v1/stories/:storyId/feed.atom', async (c) => {
    const { story, entries, epoch } = await queries.timeline(storyIdOf(c), {
      order: 'desc',
      limit: feedEntryLimit,
    });
    const etag = storyEtag(epoch, story.position);
    c.header('ETag', etag);
    c.header('Cache-Control', 'no-cache');
    if (matchesEtag(c.req.header('If-None-Match'), etag)) return c.body(null, 304);
    const feed = renderAtomFeed(
      story,
      entries,
      {
        self: `${publicUrl}/v1/stories/${story.storyId}/feed.atom`,
        alternate: `${publicUrl}/stories/${story.storyId}`,
      },
      deps.publisher,
    );
    return c.body(feed, 200, { 'Content-Type': atomContentType });
  });

  app.get('/v1/stories/:storyId/live', async (c) => {
    const storyId = storyIdOf(c);
    if (deps.live === undefined) {
      throw new StorylineError('unavailable', 'live streams are not enabled on this server');
    }
    return serveStoryStream(
      {
        storyId,
        outgoing: (c.env as Partial<HttpBindings> | undefined)?.outgoing,
        resumeFrom: c.req.header('Last-Event-ID') ?? c.req.query('after'),
        epoch: c.req.query('epoch'),
        requestId: c.get('requestId'),
        headers: { [requestIdHeader]: c.get('requestId'), ...crossOrigin.headersFor(c) },
      },
      deps.live,
    );
  });

  app.get('/v1/events', (c) => eventPages.serve(c, false));

  /**
   * The client's token, checked after its address is within its rate and before the request's
   * body is read; the token's own rate is checked once it is known.
   */
  async function authenticated(c: Context<Env>, scope: TokenScope): Promise<Publisher> {
    takeOrRefuse(perAddress, addressOf(c), 'this address');
    const token = bearerOf(c.req.header('Authorization'));
    if (token === null) {
      // The desk's browser: its session cookie, with the session's CSRF header.
      const session = await deskSessionForApi(c, deps.deskSessions, publicUrl);
      if (session === null) {
        throw new StorylineError(
          'unauthorized',
          'this needs Authorization: Bearer <token> (create one with `npm run storyline -- tokens create <name>` in the Storyline checkout)',
        );
      }
      requireScope(session.publisher, scope);
      takeOrRefuse(perToken, session.tokenKey, 'this token');
      return session.publisher;
    }
    const publisher = await tokens.verify(token);
    if (publisher === null) throw new StorylineError('unauthorized', 'unknown or revoked token');
    requireScope(publisher, scope);
    takeOrRefuse(perToken, token, 'this token');
    return publisher;
  }

  app.post('/v1/stories/:storyId/events', (c) =>
    withBody(c, deps.bodyLimit, async (body) => {
      const storyId = storyIdOf(c);
      body.refuseDeclaredExcess();
      const publisher = await authenticated(c, 'publish');
      requireMayPublishTo(publisher, storyId);
      const input = parseInput(appendBodySchema, await body.json());
      const result = await appender.append({
        storyId,
        events: input.events,
        author: publisher.name,
        requestId: c.get('requestId'),
        ...(input.expectedVersion === undefined ? {} : { expectedVersion: input.expectedVersion }),
      });
      const response = { storyId, version: result.version, positions: result.positions };
      return c.json(response, result.appended ? 201 : 200);
    }),
  );

  if (deps.drafts !== undefined) {
    app.route(
      '/',
      createDraftRoutes({ drafts: deps.drafts, bodyLimit: deps.bodyLimit, authenticated }),
    );
  }

  app.get('/v1/tokens', async (c) => {
    await authenticated(c, 'admin');
    c.header('Cache-Control', 'no-store');
    return c.json({ tokens: await tokens.list() });
  });

  app.post('/v1/tokens', (c) =>
    withBody(c, tokenBodyLimit, async (body) => {
      body.refuseDeclaredExcess();
      await authenticated(c, 'admin');
      const input = parseInput(tokenRequestSchema, await body.json());
      const token = await tokens.create(input.name, input.stories, input.scope);
      c.header('Cache-Control', 'no-store');
      return c.json(
        { name: input.name, scope: input.scope, stories: input.stories ?? null, token },
        201,
      );
    }),
  );

  app.delete('/v1/tokens/:name', async (c) => {
    await authenticated(c, 'admin');
    const name = c.req.param('name');
    if (!tokenNamePattern.test(name)) {
      throw new StorylineError('invalid_request', 'no token can have that name');
    }
    return c.json({ name, revoked: await tokens.revoke(name) });
  });

  app.route('/', createWebhookRoutes({ registry: deps.webhooks, authenticated }));

  if (deps.deskSessions !== undefined) {
    app.route(
      '/',
      createDesk({ sessions: deps.deskSessions, queries, appender, logger, publicUrl }),
    );
  }
  app.route(
    '/',
    createPages({
      queries,
      logger,
      publicUrl,
      ...(deps.publisher === undefined ? {} : { publisher: deps.publisher }),
    }),
  );

  // Answered, not thrown: hono does not pass a throw from here through the middlewares' catch,
  // so the innermost one (the log line, the metrics) would never see the 404.
  app.notFound((c) =>
    errorResponse(
      new StorylineError('route_not_found', 'no such route; the API lives under /v1'),
      c,
    ),
  );

  app.onError(errorResponse);

  function errorResponse(error: Error, c: Context<Env>): Response {
    const id = c.get('requestId');
    if (isStorylineError(error)) {
      const status = httpStatusOf[error.code];
      if (status >= 500) logger.error({ err: error, requestId: id }, 'request failed');
      if (error.code === 'unauthorized') c.header('WWW-Authenticate', 'Bearer realm="storyline"');
      const { retryAfter } = error.details;
      if (error.code === 'rate_limited' && typeof retryAfter === 'number') {
        c.header('Retry-After', String(retryAfter));
      }
      // The body has been drained as far as it will be; a client that sent more is let go.
      if (error.code === 'payload_too_large') c.header('Connection', 'close');
      return c.json(errorBody(error, id), status);
    }
    logger.error({ err: error, requestId: id }, 'request failed');
    return c.json(
      errorBody(new StorylineError('internal', 'something went wrong on our side'), id),
      500,
    );
  }

  return app;
}

const jsonType = { 'Content-Type': 'application/json' } as const;

/** A response body encoded once; hono's Node adapter writes it to the socket as it is. */
type Body = Uint8Array<ArrayBuffer>;
const utf8 = new TextEncoder();

/** The story view's body and ETag, made once per version of the story that the queries cache. */
const encodedStories = new WeakMap<StoryRead, { readonly body: Body; readonly etag: string }>();
function encodedStory(read: StoryRead): { readonly body: Body; readonly etag: string } {
  let encoded = encodedStories.get(read);
  if (encoded === undefined) {
    encoded = { body: utf8.encode(read.json), etag: storyEtag(read.epoch, read.view.position) };
    encodedStories.set(read, encoded);
  }
  return encoded;
}

/**
 * A version of a story: its position, within one log. The epoch is part of it because a restored
 * database may hold other content at the same position, and a client's old ETag must not get a
 * 304 for it.
 */
const storyEtag = (epoch: string, position: number): string => `"${epoch}:p${position}"`;

interface EncodedPage {
  readonly body: Body;
  readonly etag: string;
  /** The log's head the page was read at. */
  readonly head: number;
  readonly full: boolean;
}

/**
 * Pages of the log (`/v1/events`, `/v1/stories/{id}/events`), encoded once.
 *
 * A full page (`limit` events and a `next`) is a stretch of an append-only log: it never
 * changes, so it is kept by its URL and sent as immutable (its `head` is the head when the page
 * was first read, a lower bound of the log's head). A page at the tip changes with every append:
 * it is kept only while this process knows of no event past the head it was read at, and is
 * sent with `no-cache` so that a client, or a cache in between, asks again each time (a 304 when
 * nothing was appended): a writer always reads its own appends.
 */
class EventPages {
  readonly #queries: StoryQueries;
  readonly #full = new EncodedCache(1024, 64 * 1024 * 1024, pageSize);
  readonly #tips = new EncodedCache(256, 16 * 1024 * 1024, pageSize);

  constructor(queries: StoryQueries) {
    this.#queries = queries;
  }

  clear(): void {
    this.#full.clear();
    this.#tips.clear();
  }

  async serve(c: Context<Env>, ofStory: boolean): Promise<Response> {
    const key = c.req.url.slice(c.req.url.indexOf('/', 8));
    let page = this.#full.get(key);
    if (page === undefined) {
      const tip = this.#tips.get(key);
      const known = this.#queries.knownHead;
      if (tip !== undefined && known !== undefined && tip.head >= known) page = tip;
    }
    if (page === undefined) {
      const query = parseInput(pageQuery, c.req.query());
      page = await this.#read(query, ofStory ? storyIdOf(c) : undefined);
      if (page.full) this.#full.set(key, page);
      else if (this.#queries.knownHead !== undefined) this.#tips.set(key, page);
    }
    c.header('ETag', page.etag);
    c.header('Cache-Control', page.full ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (matchesEtag(c.req.header('If-None-Match'), page.etag)) return c.body(null, 304);
    return c.body(page.body, 200, jsonType);
  }

  async #read(
    query: { after: number; limit: number },
    storyId: string | undefined,
  ): Promise<EncodedPage> {
    // One more than asked tells whether another page follows.
    const asked = { after: query.after, limit: query.limit + 1 };
    const page = await (storyId === undefined
      ? this.#queries.events(asked)
      : this.#queries.storyEvents(storyId, asked));
    const events = page.events.slice(0, query.limit);
    const next = page.events.length > query.limit ? (events.at(-1)?.position ?? null) : null;
    const body = utf8.encode(JSON.stringify({ events, head: page.head, next, epoch: page.epoch }));
    return next === null
      ? { body, etag: `W/"${page.epoch}:h${page.head}"`, head: page.head, full: false }
      : { body, etag: `W/"${page.epoch}:${query.after}-${next}"`, head: page.head, full: true };
  }
}

/** Encoded responses by key, least recently used first out past a count or a size in bytes. */
class EncodedCache<T> {
  readonly #values = new Map<string, T>();
  readonly #maxCount: number;
  readonly #maxBytes: number;
  readonly #sizeOf: (value: T) => number;
  #bytes = 0;

  constructor(maxCount: number, maxBytes: number, sizeOf: (value: T) => number) {
    this.#maxCount = maxCount;
    this.#maxBytes = maxBytes;
    this.#sizeOf = sizeOf;
  }

  get(key: string): T | undefined {
    const value = this.#values.get(key);
    if (value !== undefined) {
      this.#values.delete(key);
      this.#values.set(key, value);
    }
    return value;
  }

  set(key: string, value: T): void {
    // One huge response may not push out everything else.
    if (this.#sizeOf(value) > this.#maxBytes / 8) return;
    this.#delete(key);
    this.#values.set(key, value);
    this.#bytes += this.#sizeOf(value);
    for (const oldest of this.#values.keys()) {
      if (this.#values.size <= this.#maxCount && this.#bytes <= this.#maxBytes) break;
      this.#delete(oldest);
    }
  }

  clear(): void {
    this.#values.clear();
    this.#bytes = 0;
  }

  #delete(key: string): void {
    const value = this.#values.get(key);
    if (value === undefined) return;
    this.#values.delete(key);
    this.#bytes -= this.#sizeOf(value);
  }
}

const bodySize = (body: Body): number => body.byteLength;
const pageSize = (page: EncodedPage): number => page.body.byteLength;

/** The query string of a URL, `?` included ('' without one). */
function searchOf(url: string): string {
  const start = url.indexOf('?');
  return start < 0 ? '' : url.slice(start);
}

function requireScope(publisher: Publisher, scope: TokenScope): void {
  if (scope === 'admin' && publisher.scope !== 'admin') {
    throw new StorylineError(
      'forbidden',
      `token "${publisher.name}" may not manage tokens or webhooks (that needs an admin token: \`npm run storyline -- tokens create <name> --admin\`)`,
    );
  }
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

function bearerOf(header: string | undefined): string | null {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1] ?? null;
}

function limiter(
  options: { readonly perSecond: number; readonly burst: number } | null | undefined,
): RateLimiter | null {
  return options === null || options === undefined ? null : new RateLimiter(options);
}

/** Takes one from `key`'s bucket, or refuses with 429 and when to try again. */
function takeOrRefuse(limiter: RateLimiter | null, key: string, who: string): void {
  const wait = limiter?.take(key) ?? 0;
  if (wait > 0) {
    const retryAfter = Math.max(1, Math.ceil(wait));
    throw new StorylineError(
      'rate_limited',
      `too many requests from ${who}; try again in ${retryAfter} s`,
      { retryAfter },
    );
  }
}

/** The peer's address (a proxy's, behind one); requests made in-process share one key. */
function addressOf(c: Context<Env>): string {
  const bindings = c.env as Partial<HttpBindings> | undefined;
  return bindings?.incoming?.socket.remoteAddress ?? 'in-process';
}

/** Token management bodies are small. */
const tokenBodyLimit = 16 * 1024;

const matchesEtag = (header: string | undefined, etag: string): boolean =>
  header !== undefined &&
  header.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed === etag || trimmed === `W/${etag}`;
  });

function encodeCursor(entry: TimelineEntry): string {
  const cursor = { occurredAt: entry.occurredAt, reportedPosition: entry.reportedPosition };
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(cursor: string): { occurredAt: string; reportedPosition: number } {
  try {
    return cursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new StorylineError('invalid_request', 'cursor is not one this API returned');
  }
}
