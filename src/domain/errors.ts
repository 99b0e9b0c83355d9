/**
 * The one error model. Every failure a client can cause carries a stable code from this closed
 * set; adapters map codes to HTTP statuses (or close codes) in exactly one place each.
 */
export const errorCodes = [
  // malformed or invalid input
  'invalid_json',
  'invalid_request',
  'invalid_event',
  'duplicate_id_in_request',
  'position_out_of_range',
  'invalid_command',
  'too_many_stories',
  'unsupported_media_type',
  'payload_too_large',
  // requests the HTTP server could not read: sent too slowly, headers too large
  'request_timeout',
  'headers_too_large',
  'webhook_target_refused',
  // auth
  'unauthorized',
  'forbidden',
  // lookup
  'story_not_found',
  'route_not_found',
  'draft_not_found',
  'webhook_not_found',
  // conflicts
  'version_conflict',
  'duplicate_event_id',
  'draft_not_editable',
  // broken domain rules
  'story_already_opened',
  'story_not_opened',
  'story_closed',
  'development_already_reported',
  'development_not_found',
  'development_retracted',
  'development_not_pinned',
  'status_unchanged',
  'unsupported_schema_version',
  // limits
  'rate_limited',
  // the server's side
  'unavailable',
  'internal',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export class StorylineError extends Error {
  override readonly name = 'StorylineError';
  readonly code: ErrorCode;
  /** Extra, client-safe facts (the conflicting version, the failing field...). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

export const isStorylineError = (error: unknown): error is StorylineError =>
  error instanceof StorylineError;
