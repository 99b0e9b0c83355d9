/**
 * Cross-origin access to the API (`/v1/…` and `/openapi.json`) from pages on other origins.
 *
 * Two policies, chosen per request:
 *
 * - **Reads**: `GET` and `HEAD` without `Authorization` (stories, timelines, event pages, the
 *   SSE streams, the Atom feeds, the OpenAPI document). Public data: any origin by default.
 * - **Writes**: every other method, and any request that carries `Authorization` (appends, token
 *   management, admin reads). Only the origins listed for writes, none by default.
 *
 * A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is classified by the
 * method and headers it asks for, and answered 204 here, before routing: allowed, it names the
 * methods and headers the policy allows and how long the browser may cache that
 * (`Access-Control-Max-Age`); not allowed, it carries no `Access-Control-Allow-Origin`, which the
 * browser takes as a refusal. A plain `OPTIONS` is not a preflight and is routed as any request.
 *
 * `Vary: Origin` is sent whenever the answer depends on the origin, which is when a policy is a
 * list (also to an origin not on it, and to a request without one: a cache must not hand that
 * answer to an origin on the list). A policy of `*` answers every origin alike and sends no
 * `Vary`, so one cached copy serves everyone.
 *
 * Not hono's `cors()`: it takes one policy per mount, while one path here has both (`GET` and
 * `POST /v1/stories/{id}/events`) and a preflight must be classified by what it asks for; with an
 * origin callback it sends `Vary: Origin` even for `*`; it adds `Vary` after the handler, which
 * never reaches a stream written straight to Node's response (SSE); and it answers 204 to every
 * `OPTIONS`, preflight or not.
 */
import type { Context, MiddlewareHandler } from 'hono';

export interface CorsOptions {
  /** Origins whose pages may read the public API; `'*'`: any. */
  readonly readOrigins: '*' | readonly string[];
  /** Origins whose pages may append and manage tokens. */
  readonly writeOrigins: readonly string[];
  /** How long a browser may cache a preflight's answer, in seconds. */
  readonly maxAgeSeconds: number;
}

export const defaultCorsOptions: CorsOptions = {
  readOrigins: '*',
  writeOrigins: [],
  // Chromium caps it at 2 h; 10 min keeps a removed origin from writing for long.
  maxAgeSeconds: 600,
};

type Access = 'read' | 'write';

interface Policy {
  readonly origins: '*' | ReadonlySet<string>;
  readonly methods: string;
  readonly headers: string;
}

/** Response headers a page's script may read besides the safelisted ones. */
export const exposedHeaders = 'ETag, Location, Retry-After, WWW-Authenticate, X-Request-Id';

export interface Cors {
  /** Answers preflights and adds CORS headers to every answer under the API. */
  readonly middleware: MiddlewareHandler;
  /** The CORS headers of a request's answer, for a route that writes Node's response itself. */
  headersFor(c: Context): Record<string, string>;
}

export function cors(options: Partial<CorsOptions> = {}): Cors {
  const settings = { ...defaultCorsOptions, ...options };
  const policies: Record<Access, Policy> = {
    read: {
      origins: settings.readOrigins === '*' ? '*' : new Set(settings.readOrigins),
      methods: 'GET, HEAD',
      // Conditional reads, EventSource's resume (and the no-cache it may send), our request id.
      headers: 'Cache-Control, If-None-Match, Last-Event-ID, X-Request-Id',
    },
    write: {
      origins: new Set(settings.writeOrigins),
      methods: 'GET, HEAD, POST, PUT, PATCH, DELETE',
      headers: 'Authorization, Content-Type, If-None-Match, Last-Event-ID, X-Request-Id',
    },
  };
  const maxAge = String(settings.maxAgeSeconds);

  function headersFor(c: Context): Record<string, string> {
    const access = accessOf(c.req.method, c.req.header('Authorization') !== undefined);
    return originHeaders(policies[access], c.req.header('Origin'));
  }

  return {
    headersFor,
    middleware: async function corsHeaders(c, next) {
      if (!underApi(c.req.path)) return next();
      const origin = c.req.header('Origin');
      const requestedMethod = c.req.header('Access-Control-Request-Method');
      if (c.req.method === 'OPTIONS' && origin !== undefined && requestedMethod !== undefined) {
        const requestedHeaders = (c.req.header('Access-Control-Request-Headers') ?? '')
          .toLowerCase()
          .split(',')
          .map((name) => name.trim());
        const policy =
          policies[accessOf(requestedMethod, requestedHeaders.includes('authorization'))];
        const headers = originHeaders(policy, origin);
        if (headers['Access-Control-Allow-Origin'] !== undefined) {
          headers['Access-Control-Allow-Methods'] = policy.methods;
          headers['Access-Control-Allow-Headers'] = policy.headers;
          headers['Access-Control-Max-Age'] = maxAge;
        }
        return c.body(null, 204, headers);
      }
      for (const [name, value] of Object.entries(headersFor(c))) {
        c.header(name, value, { append: name === 'Vary' });
      }
      return next();
    },
  };
}

const underApi = (path: string): boolean => path.startsWith('/v1/') || path === '/openapi.json';

/** Reading without credentials is a read; anything else, or anything with a token, a write. */
const accessOf = (method: string, withAuthorization: boolean): Access =>
  (method === 'GET' || method === 'HEAD') && !withAuthorization ? 'read' : 'write';

function originHeaders(policy: Policy, origin: string | undefined): Record<string, string> {
  if (policy.origins === '*') {
    return { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': exposedHeaders };
  }
  // An empty list answers every origin alike (no), so the answer does not vary with it.
  if (policy.origins.size === 0) return {};
  if (origin === undefined || !policy.origins.has(origin)) return { Vary: 'Origin' };
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Expose-Headers': exposedHeaders,
    Vary: 'Origin',
  };
}
