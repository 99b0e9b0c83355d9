/** Times every request by method, route pattern and status, for whatever keeps the metrics. */
import type { MiddlewareHandler } from 'hono';
import { routePattern } from './route-pattern.ts';

export interface HttpRequestSample {
  readonly method: string;
  /** The route pattern (`/v1/stories/:storyId`), or `unmatched`. */
  readonly route: string;
  readonly status: number;
  readonly seconds: number;
}

/** What the HTTP app needs of a metrics registry: record a request, print the exposition. */
export interface HttpMetrics {
  observeHttpRequest(sample: HttpRequestSample): void;
  exposition(): Promise<{ readonly contentType: string; readonly body: string }>;
}

export function requestMetrics(metrics: HttpMetrics): MiddlewareHandler {
  return async function recordRequestMetrics(c, next) {
    const started = performance.now();
    await next();
    metrics.observeHttpRequest({
      method: c.req.method,
      route: routePattern(c),
      status: c.res.status,
      seconds: (performance.now() - started) / 1000,
    });
  };
}
