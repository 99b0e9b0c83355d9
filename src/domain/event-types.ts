/**
 * The news domain's events: one schema per event type, declared once and inferred everywhere else.
 * A type string never changes once shipped; a changed payload gets a new schema version and an
 * upcaster (see upcast.ts), never an edit here that old log rows would fail.
 */
import { z } from 'zod';
import { jsonValueProblem, textProblem } from './json-text.ts';

/**
 * Text the log can keep: no NUL character, no lone surrogate (see json-text.ts). PostgreSQL
 * never stored either, so no event already in a log fails this check when read back.
 */
const keepableText = () =>
  z.superRefine((value: string, context) => {
    const problem = textProblem(value);
    if (problem !== null) context.addIssue({ code: 'custom', message: problem, input: value });
  });

const text = (max: number) => z.string().trim().min(1).max(max).check(keepableText());

/**
 * An instant with the UTC offset it was given, e.g. `2025-12-02T16:30:00+03:00`, within what
 * PostgreSQL's timestamptz takes: no year 0000 (ISO's 1 BC, which PostgreSQL does not accept in
 * this form) and an offset of at most ±15:59.
 */
export const isoInstant = z.iso
  .datetime({ offset: true, local: false })
  .refine((value) => !/\.\d{7,}/.test(value), {
    error: 'at most microsecond precision (6 fractional digits), as PostgreSQL keeps',
  })
  .refine((value) => !value.startsWith('0000-'), { error: 'years start at 0001' })
  .refine((value) => !/[+-](1[6-9]|2\d):\d\d$/.test(value), {
    error: 'a UTC offset is at most ±15:59',
  });

export const storyIdSchema = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/, 'lowercase letters, digits and dashes, 1-64');

export const developmentIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, dot, dash, underscore, 1-64');

/** Validated with the runtime's time-zone database: not I/O, and the same on server and client. */
export const timeZoneSchema = z.string().refine(
  (zone) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  },
  { error: 'not an IANA time zone, e.g. Europe/Moscow' },
);

/**
 * The kinds newsrooms use. The vocabulary is open: any short lowercase word is accepted, these are
 * the documented ones that views treat specially (claims, statements).
 */
export const documentedKinds = [
  'meeting',
  'statement',
  'readout',
  'social_post',
  'claim',
  'denial',
  'military',
  'diplomatic',
  'political',
  'background',
  'analysis',
] as const;
export const developmentKindSchema = z
  .string()
  .regex(/^[a-z][a-z_]{1,31}$/, 'a lowercase word such as meeting, statement or claim');

export const actorSchema = z.strictObject({ name: text(200), role: text(200).optional() });
/**
 * The log keeps any URL a source was given (older events may hold other schemes); new events may
 * only link to the web: see `webLinksOnly`.
 */
export const sourceSchema = z.strictObject({
  name: text(200),
  url: z.url().max(2000).check(keepableText()).optional(),
});
export const quoteSchema = z.strictObject({ text: text(2000), by: text(200).optional() });

export const storyOpenedData = z.strictObject({
  title: text(300),
  summary: text(2000).optional(),
  timeZone: timeZoneSchema,
  tags: z.array(text(64)).max(20).optional(),
});

/** Fields of a development that a report sets and a correction may change. */
const developmentFields = {
  kind: developmentKindSchema,
  headline: text(300),
  body: text(20_000).optional(),
  actors: z.array(actorSchema).max(50).optional(),
  location: text(200).optional(),
  sources: z.array(sourceSchema).max(50).optional(),
  quote: quoteSchema.optional(),
  keyEvent: z.boolean().optional(),
};

export const developmentReportedData = z.strictObject({
  developmentId: developmentIdSchema,
  ...developmentFields,
});

export const correctableFields = [
  'kind',
  'headline',
  'body',
  'actors',
  'location',
  'sources',
  'quote',
  'keyEvent',
  'occurredAt',
] as const;

export const developmentCorrectedData = z.strictObject({
  developmentId: developmentIdSchema,
  changes: z
    .strictObject({ ...developmentFields, occurredAt: isoInstant })
    .partial()
    .refine(
      (changes) => Object.keys(changes).length > 0,
      'a correction changes at least one field',
    ),
  note: text(2000),
  severity: z.enum(['typo', 'clarification', 'correction']),
});

export const developmentRetractedData = z.strictObject({
  developmentId: developmentIdSchema,
  reason: text(2000),
});

export const developmentPinData = z.strictObject({ developmentId: developmentIdSchema });

export const claimDisputedData = z.strictObject({
  developmentId: developmentIdSchema,
  by: text(200),
  statement: text(5000),
  sources: z.array(sourceSchema).max(50).optional(),
});

export const summaryRevisedData = z.strictObject({
  keyPoints: z.array(text(1000)).min(1).max(20),
});

export const storyStatuses = ['live', 'paused', 'closed'] as const;
export const storyStatusSchema = z.enum(storyStatuses);
export const storyStatusChangedData = z.strictObject({ status: storyStatusSchema });

/** The current schema of each event type's data, with its schema version. */
export const eventDataSchemas = {
  'story.opened': storyOpenedData,
  'development.reported': developmentReportedData,
  'development.corrected': developmentCorrectedData,
  'development.retracted': developmentRetractedData,
  'development.pinned': developmentPinData,
  'development.unpinned': developmentPinData,
  'claim.disputed': claimDisputedData,
  'summary.revised': summaryRevisedData,
  'story.status_changed': storyStatusChangedData,
} as const;

export type EventType = keyof typeof eventDataSchemas;
export const eventTypes = Object.keys(eventDataSchemas) as EventType[];

export const currentSchemaVersion: Readonly<Record<EventType, number>> = {
  'story.opened': 1,
  'development.reported': 1,
  'development.corrected': 1,
  'development.retracted': 1,
  'development.pinned': 1,
  'development.unpinned': 1,
  'claim.disputed': 1,
  'summary.revised': 1,
  'story.status_changed': 1,
};

type DataOf<T extends EventType> = z.infer<(typeof eventDataSchemas)[T]>;

/** An event's payload as a tagged union: `switch (event.type)` narrows `event.data`. */
export type StoryEventBody = {
  [T in EventType]: { readonly type: T; readonly data: Readonly<DataOf<T>> };
}[EventType];

export type Actor = z.infer<typeof actorSchema>;
export type Source = z.infer<typeof sourceSchema>;
export type Quote = z.infer<typeof quoteSchema>;
export type StoryStatus = z.infer<typeof storyStatusSchema>;
export type DevelopmentChanges = z.infer<typeof developmentCorrectedData>['changes'];

/**
 * An event as the log holds it: the envelope every reader sees (HTTP, WebSocket, export).
 * `position` is the global, commit-ordered cursor; `version` counts events within one story.
 */
export type RecordedEvent = StoryEventBody & {
  readonly position: number;
  readonly storyId: string;
  readonly version: number;
  readonly id: string;
  readonly schemaVersion: number;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** When it happened in the world, with the offset the editor gave. */
  readonly occurredAt: string;
  /** When the log accepted it (database clock, UTC). */
  readonly recordedAt: string;
};

/** Objects and arrays nested in metadata at most, the metadata object itself included. */
export const maxMetadataDepth = 16;

/**
 * Checked before the record is parsed, so nothing recursive ever sees a value that is too deep.
 * zod rebuilds records by assignment and silently drops a "__proto__" key: refused instead.
 */
const keepableMetadata = z.unknown().check(
  z.superRefine((value, context) => {
    if (typeof value === 'object' && value !== null && Object.hasOwn(value, '__proto__')) {
      context.addIssue({
        code: 'custom',
        message: '"__proto__" is not allowed as a metadata key',
        input: value,
      });
      return;
    }
    const problem = jsonValueProblem(value, maxMetadataDepth);
    if (problem !== null) context.addIssue({ code: 'custom', message: problem, input: value });
  }),
);

export const metadataSchema = keepableMetadata.pipe(
  z
    .record(z.string().max(64), z.unknown())
    .refine((value) => JSON.stringify(value).length <= 8192, 'metadata is limited to 8 KiB'),
);

/** PostgreSQL prints UUIDs in lowercase; so must every comparison of ids. */
export const eventIdSchema = z.uuid().transform((id) => id.toLowerCase());

const submittedFields = {
  id: eventIdSchema.optional(),
  occurredAt: isoInstant.optional(),
  metadata: metadataSchema.optional(),
};

function submitted<T extends EventType>(type: T) {
  return z.strictObject({
    type: z.literal(type),
    data: eventDataSchemas[type],
    ...submittedFields,
  });
}

/** The sources an event names, with their path in the event. */
function sourcesOf(
  event: StoryEventBody,
): readonly { path: string[]; sources: readonly Source[] }[] {
  switch (event.type) {
    case 'development.reported':
    case 'claim.disputed':
      return [{ path: ['data', 'sources'], sources: event.data.sources ?? [] }];
    case 'development.corrected':
      return [{ path: ['data', 'changes', 'sources'], sources: event.data.changes.sources ?? [] }];
    case 'story.opened':
    case 'development.retracted':
    case 'development.pinned':
    case 'development.unpinned':
    case 'summary.revised':
    case 'story.status_changed':
      return [];
  }
}

/**
 * A new event's source links are web links: a `javascript:` or `data:` URL is a valid URL but
 * no place for a reader to go. Checked on new events only, so events the log already holds
 * (read back through the data schemas) stay valid.
 */
function webLinksOnly(event: StoryEventBody, context: z.RefinementCtx): void {
  for (const { path, sources } of sourcesOf(event)) {
    sources.forEach((source, index) => {
      if (typeof source.url === 'string' && !/^https?:\/\//i.test(source.url)) {
        context.addIssue({
          code: 'custom',
          message: 'a source link must be an http:// or https:// URL',
          path: [...path, index, 'url'],
          input: source.url,
        });
      }
    });
  }
}

/**
 * One event as a client submits it: the append API body and (with a storyId) the lines of
 * events/*.jsonl. `id` is the idempotency key; clients that retry must send it.
 */
export const newEventSchema = z
  .discriminatedUnion('type', [
    submitted('story.opened'),
    submitted('development.reported'),
    submitted('development.corrected'),
    submitted('development.retracted'),
    submitted('development.pinned'),
    submitted('development.unpinned'),
    submitted('claim.disputed'),
    submitted('summary.revised'),
    submitted('story.status_changed'),
  ])
  .superRefine(webLinksOnly);
export type NewEvent = z.infer<typeof newEventSchema>;

export const maxEventsPerAppend = 500;

export const appendBodySchema = z.strictObject({
  expectedVersion: z.number().int().min(0).optional(),
  events: z.array(newEventSchema).min(1).max(maxEventsPerAppend),
});
export type AppendBody = z.infer<typeof appendBodySchema>;
