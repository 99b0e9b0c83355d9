/**
 * Request input checked the same way by the API's routes and the draft routes: the story id in
 * the path, and bodies and queries against a zod schema, where a problem inside an event is
 * `invalid_event` (naming which event), anything else `invalid_request`; both list every issue
 * with its path.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import { StorylineError } from '../../domain/errors.ts';
import { storyIdSchema } from '../../domain/event-types.ts';
import { clientText } from './error-responses.ts';

export function parseInput<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: clientText(issue.path.map(String).join('.'), 200),
    message: clientText(issue.message, 300),
  }));
  const inEvent = result.error.issues.find(
    (issue) => issue.path[0] === 'events' && issue.path.length >= 2,
  );
  const first = issues[0];
  const summary =
    first === undefined ? 'invalid input' : `${first.path || '(body)'}: ${first.message}`;
  if (inEvent === undefined) throw new StorylineError('invalid_request', summary, { issues });
  throw new StorylineError(
    'invalid_event',
    `events[${String(inEvent.path[1])}] is invalid: ${summary}`,
    { issues },
  );
}

/** The `:storyId` of a route's path, or `invalid_request` naming the rule it breaks. */
export function storyIdOf(c: Context): string {
  const storyId = c.req.param('storyId') ?? '';
  const parsed = storyIdSchema.safeParse(storyId);
  if (!parsed.success) {
    throw new StorylineError(
      'invalid_request',
      'a story id is 1-64 lowercase letters, digits and dashes',
      { storyId: clientText(storyId) },
    );
  }
  return parsed.data;
}
