/** Where error codes become HTTP statuses: the one place, exhaustive by type. */
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ErrorCode, StorylineError } from '../../domain/errors.ts';

export const httpStatusOf: Readonly<Record<ErrorCode, ContentfulStatusCode>> = {
  invalid_json: 400,
  invalid_request: 400,
  invalid_event: 400,
  duplicate_id_in_request: 400,
  position_out_of_range: 400,
  invalid_command: 400,
  too_many_stories: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  request_timeout: 408,
  headers_too_large: 431,
  webhook_target_refused: 400,
  unauthorized: 401,
  forbidden: 403,
  story_not_found: 404,
  route_not_found: 404,
  draft_not_found: 404,
  webhook_not_found: 404,
  version_conflict: 409,
  duplicate_event_id: 409,
  draft_not_editable: 409,
  story_already_opened: 422,
  story_not_opened: 422,
  story_closed: 422,
  development_already_reported: 422,
  development_not_found: 422,
  development_retracted: 422,
  development_not_pinned: 422,
  status_unchanged: 422,
  // Only the log can hold an event with an unknown schema version: the server's problem.
  unsupported_schema_version: 500,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

export function errorBody(error: StorylineError, requestId?: string) {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...error.details,
      ...(requestId === undefined ? {} : { requestId }),
    },
  };
}

/**
 * Client text quoted back in an error (a story id, a header, a key zod names): without control
 * characters or lone surrogates, and short.
 */
export function clientText(text: string, max = 100): string {
  const clean = text.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001F\u007F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    '\uFFFD',
  );
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
