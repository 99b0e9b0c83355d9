/**
 * HTTP on loopback through undici's Pool: keep-alive connections, no pipelining, and a client
 * cheap enough that the load generator is not what gets measured. The same code drives Storyline
 * and the baselines. Storyline's API is used as documented in README.md ("HTTP API").
 */
import { Pool } from 'undici';
import type { AppendEvent } from './events.ts';
import type { Scope } from './scenario.ts';

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export class HttpClient {
  readonly #pool: Pool;
  readonly origin: string;

  /** `connections`: keep-alive sockets to `origin`, one request each at a time. */
  constructor(scope: Scope, origin: string, connections: number) {
    this.origin = origin;
    this.#pool = new Pool(origin, {
      connections,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      headersTimeout: 120_000,
      bodyTimeout: 120_000,
    });
    scope.defer(() => this.close());
  }

  async request(
    method: 'GET' | 'POST',
    path: string,
    options: { readonly headers?: Readonly<Record<string, string>>; readonly body?: string } = {},
  ): Promise<HttpResponse> {
    const response = await this.#pool.request({
      method,
      path,
      headers: options.headers ?? {},
      ...(options.body === undefined ? {} : { body: options.body }),
    });
    const body = Buffer.from(await response.body.arrayBuffer());
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (typeof value === 'string') headers[name] = value;
      else if (Array.isArray(value)) headers[name] = value.join(', ');
    }
    return { status: response.statusCode, headers, body };
  }

  /** GET a JSON document; throws unless 200. */
  async getJson(path: string): Promise<unknown> {
    const response = await this.request('GET', path);
    if (response.status !== 200) {
      throw new Error(`GET ${path}: ${response.status} ${response.body.toString().slice(0, 300)}`);
    }
    return JSON.parse(response.body.toString()) as unknown;
  }

  async close(): Promise<void> {
    if (!this.#pool.closed && !this.#pool.destroyed) await this.#pool.destroy();
  }
}

/** A field of a parsed JSON object, or undefined. */
export function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

export function numberAt(value: unknown, name: string): number {
  const found = field(value, name);
  if (typeof found !== 'number') throw new Error(`expected a number at ${name}`);
  return found;
}

export interface Appended {
  readonly version: number;
  readonly positions: readonly number[];
}

/** Storyline's client for appends: `POST /v1/stories/{id}/events` with a Bearer token. */
export class StorylineWriter {
  readonly #http: HttpClient;
  readonly #headers: Readonly<Record<string, string>>;

  constructor(http: HttpClient, token: string) {
    this.#http = http;
    this.#headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  }

  /** Appends or throws with the server's error; returns the new version and positions. */
  async append(
    storyId: string,
    events: readonly AppendEvent[],
    expectedVersion?: number,
  ): Promise<Appended> {
    const response = await this.#http.request('POST', `/v1/stories/${storyId}/events`, {
      headers: this.#headers,
      body: JSON.stringify(
        expectedVersion === undefined ? { events } : { expectedVersion, events },
      ),
    });
    const text = response.body.toString();
    if (response.status !== 201 && response.status !== 200) {
      throw new Error(`append to ${storyId}: ${response.status} ${text.slice(0, 300)}`);
    }
    const parsed = JSON.parse(text) as unknown;
    const positions = field(parsed, 'positions');
    if (!Array.isArray(positions)) throw new Error(`append to ${storyId}: no positions`);
    return { version: numberAt(parsed, 'version'), positions: positions.map(Number) };
  }
}

export interface LoadResult {
  readonly requests: number;
  readonly failures: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** Per request, in milliseconds, in completion order. */
  readonly latencies: readonly number[];
  /** Body bytes of the last response. */
  readonly bytes: number;
}

/**
 * A closed loop: `concurrency` workers each send a request, wait for it, and send the next, until
 * `maxRequests` are sent or `maxMs` have passed (both bound every run). A response with another
 * status than `expectStatus` counts as a failure.
 */
export async function closedLoop(options: {
  readonly client: HttpClient;
  readonly concurrency: number;
  readonly maxRequests: number;
  readonly maxMs: number;
  readonly expectStatus: number;
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
}): Promise<LoadResult> {
  const latencies: number[] = [];
  let sent = 0;
  let failures = 0;
  let bytes = 0;
  const start = performance.now();
  const stopAt = start + options.maxMs;
  const worker = async () => {
    while (sent < options.maxRequests && performance.now() < stopAt) {
      sent++;
      const before = performance.now();
      const response = await options.client.request('GET', options.path, {
        ...(options.headers === undefined ? {} : { headers: options.headers }),
      });
      latencies.push(performance.now() - before);
      bytes = response.body.length;
      if (response.status !== options.expectStatus) failures++;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  return {
    requests: latencies.length,
    failures,
    seconds,
    perSecond: latencies.length / seconds,
    latencies,
    bytes,
  };
}
