/**
 * The shapes the HTTP API answers with, for the OpenAPI document. The views are TypeScript
 * interfaces (src/domain/story-view.ts), not schemas, so they are described once here, in zod
 * like the requests, and each is annotated with the type it describes: a field the view gains
 * or changes fails the type check until it is described here too. Nothing validates responses
 * with these at run time; the tests do.
 */
import { z } from 'zod';
import { tokenScopes, type StoryListItem, type TokenInfo } from '../../app/ports.ts';
import { errorCodes } from '../../domain/errors.ts';
import {
  actorSchema,
  developmentCorrectedData,
  eventDataSchemas,
  quoteSchema,
  sourceSchema,
  storyStatusSchema,
  type EventType,
  type RecordedEvent,
} from '../../domain/event-types.ts';
import type {
  ActorView,
  ClaimView,
  CorrectionView,
  DevelopmentRef,
  DisputeView,
  EntryCorrection,
  StatementRef,
  StoryView,
  TimelineEntry,
} from '../../domain/story-view.ts';

const instant = z.string().meta({ format: 'date-time' });
const positionNumber = z.int().min(0);
const count = z.int().min(0);

const storyCountsSchema = z.object({
  developments: count,
  retracted: count,
  corrections: count,
  disputes: count,
  keyEvents: count,
});

export const developmentRefSchema: z.ZodType<DevelopmentRef> = z.object({
  developmentId: z.string(),
  headline: z.string(),
  occurredAt: instant,
});

const statementRefSchema: z.ZodType<StatementRef> = z.object({
  developmentId: z.string(),
  headline: z.string(),
  occurredAt: instant,
  quote: z.string().nullable(),
  retracted: z.boolean().describe('always false: a retracted statement no longer counts'),
  reportedPosition: positionNumber.describe('where the log first reported it'),
});

const actorViewSchema: z.ZodType<ActorView> = z.object({
  name: z.string(),
  role: z.string().nullable(),
  developments: count.describe('how many developments name this actor'),
  latestStatement: statementRefSchema
    .nullable()
    .describe('the last of `statements`, or null when the actor has none'),
  statements: z
    .array(statementRefSchema)
    .describe(
      'the latest (at most 16) developments naming this actor that are statements (by kind or quote) and not retracted, by when they happened',
    ),
});

export const disputeViewSchema: z.ZodType<DisputeView> = z.object({
  by: z.string(),
  statement: z.string(),
  sources: z.array(sourceSchema),
  occurredAt: instant,
  recordedAt: instant,
  position: positionNumber,
});

const claimViewSchema: z.ZodType<ClaimView> = z.object({
  developmentId: z.string(),
  headline: z.string(),
  occurredAt: instant,
  claimedBy: z.array(z.string()),
  retracted: z.boolean(),
  disputeCount: count.describe('its disputes are on its timeline entry'),
});

const severity = developmentCorrectedData.shape.severity;
const changes = developmentCorrectedData.shape.changes.describe('the new values');
const previous = z
  .record(z.string(), z.unknown())
  .describe('the values the changed fields had before, null where one was unset');

const entryCorrectionFields = z.object({
  severity,
  note: z.string(),
  changes,
  previous,
  correctedAt: instant,
  position: positionNumber,
});

const entryCorrectionSchema: z.ZodType<EntryCorrection> = entryCorrectionFields;

/** The story's corrections log: an entry's correction, naming the development. */
export const correctionViewSchema: z.ZodType<CorrectionView> = entryCorrectionFields.extend({
  developmentId: z.string(),
});

const storyViewFields = {
  storyId: z.string(),
  version: count.describe('events in the story so far'),
  position: positionNumber.describe("the log position of the story's latest event"),
  title: z.string(),
  summary: z.string().nullable(),
  timeZone: z.string().describe('IANA time zone of the place, e.g. Europe/Moscow'),
  tags: z.array(z.string()),
  status: storyStatusSchema,
  openedAt: instant,
  firstUpdateAt: instant,
  lastUpdateAt: instant,
  keyPoints: z.array(z.string()),
  keyPointsRevisedAt: instant.nullable(),
  counts: storyCountsSchema,
  pinned: developmentRefSchema.nullable(),
  keyEvents: z.array(developmentRefSchema).describe('ordered by when they happened'),
  actors: z.array(actorViewSchema).describe('ordered by first appearance'),
  claims: z.array(claimViewSchema).describe('claims and anything disputed, in reporting order'),
};

export const storyViewSchema: z.ZodType<StoryView> = z.object(storyViewFields);

export const timelineEntrySchema: z.ZodType<TimelineEntry> = z.object({
  developmentId: z.string(),
  kind: z.string(),
  headline: z.string(),
  body: z.string().nullable(),
  actors: z.array(actorSchema),
  location: z.string().nullable(),
  sources: z.array(sourceSchema),
  quote: quoteSchema.nullable(),
  keyEvent: z.boolean(),
  occurredAt: instant,
  reportedAt: instant.describe('when the log first accepted it'),
  reportedPosition: positionNumber,
  updatedAt: instant.describe('when it last changed: a correction, retraction or dispute'),
  updatedPosition: positionNumber,
  retracted: z.object({ reason: z.string(), at: instant, position: positionNumber }).nullable(),
  corrections: z.array(entryCorrectionSchema),
  disputes: z.array(disputeViewSchema),
});

export const storyStateSchema = z.object({
  ...storyViewFields,
  asOf: instant.nullable(),
  at: positionNumber.nullable(),
  timeline: z.array(timelineEntrySchema),
});

export const timelinePageSchema = z.object({
  storyId: z.string(),
  version: count,
  position: positionNumber,
  order: z.enum(['asc', 'desc']),
  entries: z.array(timelineEntrySchema),
  next: z.string().nullable().describe('the cursor of the next page; null at the end'),
});

export const correctionsPageSchema = z.object({
  storyId: z.string(),
  version: count,
  position: positionNumber,
  corrections: z.array(correctionViewSchema).describe('oldest first'),
  next: positionNumber
    .nullable()
    .describe('pass as `after` for the next page; null when this page holds the rest'),
});

const storyListItemSchema: z.ZodType<StoryListItem> = z.object({
  storyId: z.string(),
  title: z.string(),
  status: z.string(),
  version: count,
  position: positionNumber,
  updatedAt: instant.describe('when the story last changed (its latest event’s recordedAt)'),
  timeZone: z.string(),
  counts: storyCountsSchema,
});

export const storyListSchema = z.object({ stories: z.array(storyListItemSchema) });

function recorded<T extends EventType>(type: T) {
  return z.object({
    position: positionNumber.describe('global, commit-ordered: the one cursor'),
    storyId: z.string(),
    version: count.describe("the event's number within its story"),
    id: z.string().meta({ format: 'uuid' }),
    type: z.literal(type),
    schemaVersion: z.int().min(1),
    data: eventDataSchemas[type],
    metadata: z.record(z.string(), z.unknown()),
    occurredAt: instant.describe('when it happened in the world, with the offset given'),
    recordedAt: instant.describe('when the log accepted it (database clock, UTC)'),
  });
}

export const recordedEventSchema: z.ZodType<RecordedEvent> = z.discriminatedUnion('type', [
  recorded('story.opened'),
  recorded('development.reported'),
  recorded('development.corrected'),
  recorded('development.retracted'),
  recorded('development.pinned'),
  recorded('development.unpinned'),
  recorded('claim.disputed'),
  recorded('summary.revised'),
  recorded('story.status_changed'),
]);

export const eventsPageSchema = z.object({
  events: z.array(recordedEventSchema),
  head: positionNumber.describe(
    'the last position in the log (on a full page: when the page was first read)',
  ),
  next: positionNumber
    .nullable()
    .describe('pass as `after` for the next page; null when you have everything up to head'),
  epoch: z.string().describe('identifies the log: a cursor means nothing in another epoch'),
});

export const appendResultSchema = z.object({
  storyId: z.string(),
  version: count,
  positions: z.array(positionNumber),
});

export const healthSchema = z.object({ status: z.string() });

export const errorBodySchema = z.object({
  error: z.looseObject({
    code: z.enum(errorCodes),
    message: z.string(),
    requestId: z.string().optional(),
    issues: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .describe('every validation problem, with its path'),
  }),
});

const tokenScope = z.enum(tokenScopes).describe('`publish` appends; `admin` also manages tokens');
const tokenStories = z
  .array(z.string())
  .nullable()
  .describe('the only stories it may publish to; null for every story');

export const tokenInfoSchema: z.ZodType<TokenInfo> = z.object({
  name: z.string(),
  scope: tokenScope,
  stories: tokenStories,
  createdAt: instant,
  revokedAt: instant.nullable(),
});

export const tokenListSchema = z.object({
  tokens: z.array(tokenInfoSchema).describe('oldest first; never the tokens themselves'),
});

export const createdTokenSchema = z.object({
  name: z.string(),
  scope: tokenScope,
  stories: tokenStories,
  token: z.string().describe('the token: shown this once, stored only as a hash'),
});

export const revokedTokensSchema = z.object({
  name: z.string(),
  revoked: count.describe('how many tokens of that name were revoked now'),
});
