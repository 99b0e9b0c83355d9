/**
 * The route pattern a request matched (`/v1/stories/:storyId`), for logs and metric labels:
 * it groups requests by route with a bounded set of values, whatever ids the paths carry.
 */
import type { Context } from 'hono';
import { matchedRoutes } from 'hono/route';

/** What requests that match no route are labelled with. */
export const unmatchedRoute = 'unmatched';

export function routePattern(c: Context): string {
  // Middleware registered with `app.use()` match every request under the method ALL; the
  // route that answered is the last match registered for a method.
  const route = matchedRoutes(c).findLast((candidate) => candidate.method !== 'ALL');
  return route?.path ?? unmatchedRoute;
}
