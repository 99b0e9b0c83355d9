/**
 * Request input (bodies and queries) checked against a zod schema, for every route that takes
 * a story's events: a problem inside an event is `invalid_event` (naming which event), anything
 * else `invalid_request`; both list every issue with its path.
 */
import type { z } from 'zod';
import { StorylineError } from '../../domain/errors.ts';
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
