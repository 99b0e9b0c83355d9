/**
 * What the drafts routes take and answer: the routes validate with the request schemas, and the
 * OpenAPI document (openapi.ts) is generated from all of them.
 */
import { z } from 'zod';
import { draftStatuses, type DraftStatus } from '../../app/drafts.ts';
import { isoInstant, maxEventsPerAppend, newEventSchema } from '../../domain/event-types.ts';

const draftEvents = z.array(newEventSchema).min(1).max(maxEventsPerAppend);

/** `POST /v1/stories/{storyId}/drafts`: without `publishAt` a draft, with it scheduled. */
export const createDraftSchema = z.strictObject({
  events: draftEvents,
  publishAt: isoInstant.optional(),
});

/** `PATCH …/drafts/{draftId}`: `publishAt: null` makes a scheduled draft a draft again. */
export const updateDraftSchema = z.strictObject({
  events: draftEvents.optional(),
  publishAt: isoInstant.nullable().optional(),
});

/** `GET …/drafts?status=`: which statuses to list (default: draft and scheduled). */
export const draftListQuery = z.strictObject({
  status: z
    .string()
    .max(200)
    .transform((value, context) => {
      const statuses = value === 'all' ? [...draftStatuses] : value.split(',');
      for (const status of statuses) {
        if (!(draftStatuses as readonly string[]).includes(status)) {
          context.addIssue({
            code: 'custom',
            message: `"all" or a comma-separated list of ${draftStatuses.join(', ')}`,
          });
          return z.NEVER;
        }
      }
      return statuses as DraftStatus[];
    })
    .optional(),
});

const instant = z.string().describe('ISO 8601, UTC');
const positionNumber = z.int().min(1);

export const draftSchema = z.object({
  id: z.uuid(),
  storyId: z.string(),
  status: z
    .enum(draftStatuses)
    .describe(
      '`draft` (no time), `scheduled` (publishAt set), `publishing`, `published`, `cancelled`, or `failed` (the log refused its events: see lastError)',
    ),
  events: z
    .array(newEventSchema)
    .describe(
      'the events as the append endpoint takes them, each with the id it is published with',
    ),
  publishAt: instant.nullable().describe('when the scheduler publishes it; null for a draft'),
  author: z
    .string()
    .describe('the name of the token that made it; its events are published under it'),
  createdAt: instant,
  updatedAt: instant,
  publishedAt: instant.nullable(),
  version: z.int().min(1).nullable().describe("the story's version after publishing; null before"),
  positions: z
    .array(positionNumber)
    .nullable()
    .describe('the log positions of its events once published; null before'),
  attempts: z.int().min(0).describe('attempts to publish it so far'),
  lastError: z
    .object({ code: z.string(), message: z.string() })
    .nullable()
    .describe('why the last attempt to publish it failed'),
});

export const draftResultSchema = z.object({ draft: draftSchema });
export const draftListSchema = z.object({ drafts: z.array(draftSchema) });
export const draftPublishedSchema = z.object({
  draft: draftSchema,
  version: z.int().min(1),
  positions: z.array(positionNumber),
});
