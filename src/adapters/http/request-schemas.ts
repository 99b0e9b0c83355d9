/**
 * The query strings the HTTP API accepts. Routes validate with these, and the OpenAPI document
 * (openapi.ts) is generated from them, so the two cannot drift apart.
 */
import { z } from 'zod';
import { tokenNamePattern, tokenScopes } from '../../app/ports.ts';
import { isoInstant, storyIdSchema } from '../../domain/event-types.ts';

/** A whole number in a query string; an empty value is an error, not zero. */
export const wholeNumber = z
  .string()
  .regex(/^\d{1,15}$/, 'a whole number')
  .transform(Number);
export const position = z.union([z.number().int().min(0), wholeNumber]);

export const pageQuery = z.strictObject({
  after: position.default(0),
  limit: wholeNumber.pipe(z.int().min(1).max(1000)).default(100),
});

export const timelineQuery = z.strictObject({
  order: z.enum(['asc', 'desc']).default('asc'),
  limit: wholeNumber.pipe(z.int().min(1).max(500)).default(100),
  cursor: z.string().max(200).optional(),
});

export const stateQuery = z
  .strictObject({ at: position.optional(), asOf: isoInstant.optional() })
  .refine((query) => (query.at === undefined) !== (query.asOf === undefined), {
    error: 'give exactly one of at (a position) or asOf (an ISO time with offset)',
  });

export const cursorSchema = z.strictObject({ occurredAt: isoInstant, reportedPosition: position });

/** `POST /v1/tokens`: a token's name, its scope, and the only stories it may publish to. */
export const tokenRequestSchema = z.strictObject({
  name: z.string().regex(tokenNamePattern, '1-64 letters, digits, spaces, dots, dashes, _ or @'),
  scope: z.enum(tokenScopes).default('publish'),
  stories: z.array(storyIdSchema).min(1).max(1000).optional(),
});
