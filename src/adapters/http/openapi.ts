/**
 * The OpenAPI 3.1 document of the HTTP API, served at `/openapi.json` and rendered at `/docs`.
 *
 * Request shapes come from the very zod schemas the routes validate with (converted by zod's
 * own JSON Schema generator, draft 2020-12, which is OpenAPI 3.1's dialect); response shapes
 * from response-schemas.ts. What is written here by hand is the prose: summaries, the error
 * codes each route can answer with, and the WebSocket protocol, which OpenAPI cannot express
 * and which goes in `x-websocket` and the description.
 */
import { z } from 'zod';
import { errorCodes, type ErrorCode } from '../../domain/errors.ts';
import {
  actorSchema,
  appendBodySchema,
  eventDataSchemas,
  maxEventsPerAppend,
  metadataSchema,
  newEventSchema,
  quoteSchema,
  sourceSchema,
  storyIdSchema,
} from '../../domain/event-types.ts';
import { closeCodes, liveCommandSchema } from '../ws/live-protocol.ts';
import {
  createDraftSchema,
  draftListQuery,
  draftListSchema,
  draftPublishedSchema,
  draftResultSchema,
  draftSchema,
  updateDraftSchema,
} from './draft-schemas.ts';
import { webhookComponentSchemas, webhookOperations } from '../webhooks/webhook-openapi.ts';
import { httpStatusOf } from './error-responses.ts';
import {
  pageQuery,
  position,
  stateQuery,
  timelineQuery,
  tokenRequestSchema,
  wholeNumber,
} from './request-schemas.ts';
import {
  appendResultSchema,
  correctionsPageSchema,
  correctionViewSchema,
  createdTokenSchema,
  developmentRefSchema,
  disputeViewSchema,
  errorBodySchema,
  eventsPageSchema,
  healthSchema,
  recordedEventSchema,
  revokedTokensSchema,
  storyListSchema,
  storyStateSchema,
  storyViewSchema,
  timelinePageSchema,
  timelineEntrySchema,
  tokenInfoSchema,
  tokenListSchema,
} from './response-schemas.ts';

type JsonSchema = Record<string, unknown>;
type Method = 'get' | 'post' | 'patch' | 'delete';

/** The named schemas under `components.schemas`; a schema used inside another becomes a $ref. */
const componentSchemas: Readonly<Record<string, z.ZodType>> = {
  AppendBody: appendBodySchema,
  NewEvent: newEventSchema,
  StoryOpenedData: eventDataSchemas['story.opened'],
  DevelopmentReportedData: eventDataSchemas['development.reported'],
  DevelopmentCorrectedData: eventDataSchemas['development.corrected'],
  DevelopmentRetractedData: eventDataSchemas['development.retracted'],
  DevelopmentPinData: eventDataSchemas['development.pinned'],
  ClaimDisputedData: eventDataSchemas['claim.disputed'],
  SummaryRevisedData: eventDataSchemas['summary.revised'],
  StoryStatusChangedData: eventDataSchemas['story.status_changed'],
  Actor: actorSchema,
  Source: sourceSchema,
  Quote: quoteSchema,
  AppendResult: appendResultSchema,
  StoryList: storyListSchema,
  StoryView: storyViewSchema,
  DevelopmentRef: developmentRefSchema,
  DisputeView: disputeViewSchema,
  TimelineEntry: timelineEntrySchema,
  TimelinePage: timelinePageSchema,
  CorrectionsPage: correctionsPageSchema,
  CorrectionView: correctionViewSchema,
  StoryState: storyStateSchema,
  RecordedEvent: recordedEventSchema,
  EventsPage: eventsPageSchema,
  ErrorBody: errorBodySchema,
  Health: healthSchema,
  TokenRequest: tokenRequestSchema,
  TokenInfo: tokenInfoSchema,
  TokenList: tokenListSchema,
  CreatedToken: createdTokenSchema,
  RevokedTokens: revokedTokensSchema,
  DraftCreateBody: createDraftSchema,
  DraftUpdateBody: updateDraftSchema,
  Draft: draftSchema,
  DraftResult: draftResultSchema,
  DraftList: draftListSchema,
  DraftPublished: draftPublishedSchema,
  ...webhookComponentSchemas,
};

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

const metadataDescription = 'your own keys (at most 8 KiB); the server adds author and requestId';

function withoutDialect(schema: unknown): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = schema as JsonSchema;
  return rest;
}

/**
 * Every named schema, with the others it uses as $refs. Bodies are described as clients send
 * them (`io: 'input'`). Metadata's guard against a `__proto__` key has no JSON Schema: the
 * record behind the guard stands for it.
 */
function componentsSchemas(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(componentSchemas)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
    override: ({ zodSchema, jsonSchema }) => {
      if (zodSchema === metadataSchema) {
        const record = z.toJSONSchema(metadataSchema.out, { io: 'input' });
        Object.assign(jsonSchema, withoutDialect(record), { description: metadataDescription });
      }
    },
  });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => [id, withoutDialect(schema)]),
  );
}

interface Parameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header';
  readonly required: boolean;
  readonly description?: string;
  readonly schema: JsonSchema;
}

const parameterDescriptions: Readonly<Record<string, string>> = {
  after: 'a log position: only events after it',
  limit: 'the most items to return',
  order: 'timeline order: by occurredAt, then by position',
  cursor: 'the `next` of the previous page',
  at: 'a log position: the story as it stood there',
  asOf: 'an ISO 8601 time with offset: the story as the log had recorded it by then',
};

/**
 * A query schema's fields as parameters. A query value arrives as text, so each is described by
 * what it is read as (`io: 'output'`: a number, with its default); required are those without
 * a default (`io: 'input'`).
 */
function queryParameters(schema: z.ZodType): Parameter[] {
  const read = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'output',
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      if (zodSchema === wholeNumber || zodSchema === position) {
        for (const key of Object.keys(jsonSchema)) Reflect.deleteProperty(jsonSchema, key);
        Object.assign(jsonSchema, { type: 'integer', minimum: 0 });
      }
    },
  }) as { properties?: Record<string, JsonSchema> };
  const sent = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    required?: string[];
  };
  return Object.entries(read.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: sent.required?.includes(name) ?? false,
    ...(parameterDescriptions[name] === undefined
      ? {}
      : { description: parameterDescriptions[name] }),
    schema: property,
  }));
}

const storyIdParameter: Parameter = {
  name: 'storyId',
  in: 'path',
  required: true,
  description: '1-64 lowercase letters, digits and dashes',
  schema: withoutDialect(z.toJSONSchema(storyIdSchema)),
};

const json = (schema: JsonSchema) => ({ 'application/json': { schema } });

interface Operation {
  readonly method: Method;
  /** OpenAPI's template: `/v1/stories/{storyId}`. */
  readonly path: string;
  readonly operationId: string;
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  readonly parameters?: readonly Parameter[];
  readonly requestBody?: JsonSchema;
  /**
   * The token scope the operation needs; `configured`: a token only if the server is configured
   * to ask for one (`/metrics`); none: public (`security: []`).
   */
  readonly auth?: 'publish' | 'admin' | 'configured';
  readonly responses: Record<string, JsonSchema>;
  /** The error codes this operation can answer with, besides `internal`. */
  readonly errors: readonly ErrorCode[];
}

const storyErrors: readonly ErrorCode[] = ['invalid_request', 'story_not_found'];

/** The errors an append can answer with for its events: a draft's publish answers them too. */
const appendRuleErrors: readonly ErrorCode[] = [
  'duplicate_event_id',
  'story_not_opened',
  'story_already_opened',
  'story_closed',
  'development_already_reported',
  'development_not_found',
  'development_retracted',
  'development_not_pinned',
  'status_unchanged',
];

/** `/v1/stories/{storyId}/drafts`: drafts and scheduled events (draft-routes.ts). */
function draftOperations(): Operation[] {
  const draftIdParameter: Parameter = {
    name: 'draftId',
    in: 'path',
    required: true,
    description: 'the id of a draft of this story (a UUID)',
    schema: { type: 'string', format: 'uuid' },
  };
  const guarded: readonly ErrorCode[] = [
    'invalid_request',
    'unauthorized',
    'forbidden',
    'rate_limited',
  ];
  const bodyErrors: readonly ErrorCode[] = [
    'invalid_json',
    'invalid_event',
    'duplicate_id_in_request',
    'unsupported_media_type',
    'payload_too_large',
  ];
  const path = '/v1/stories/{storyId}/drafts';
  const one = `${path}/{draftId}`;
  return [
    {
      method: 'post',
      path,
      operationId: 'createDraft',
      tag: 'drafts',
      summary: 'Keep events as a draft, or schedule them (publishAt)',
      description: `1-${maxEventsPerAppend} events exactly as the append endpoint takes them, kept privately (never in any public read, feed or live stream) until published. Each event gets its id now (or keeps the one sent), so publishing is idempotent. With \`publishAt\` the draft is scheduled: the scheduler publishes it at that time or soon after (a time in the past: on its next tick). Needs the token an append to this story needs.`,
      parameters: [storyIdParameter],
      requestBody: { required: true, content: json(ref('DraftCreateBody')) },
      auth: 'publish',
      responses: { '201': { description: 'kept', content: json(ref('DraftResult')) } },
      errors: [...guarded, ...bodyErrors],
    },
    {
      method: 'get',
      path,
      operationId: 'listDrafts',
      tag: 'drafts',
      summary: "The story's drafts and scheduled events, by publishAt, then by creation",
      description:
        '`status` (`all`, or a comma-separated list of statuses) lists others; the default is `draft,scheduled`.',
      parameters: [storyIdParameter, ...queryParameters(draftListQuery)],
      auth: 'publish',
      responses: { '200': { description: 'the drafts', content: json(ref('DraftList')) } },
      errors: guarded,
    },
    {
      method: 'get',
      path: one,
      operationId: 'getDraft',
      tag: 'drafts',
      summary: 'One draft, in any status',
      parameters: [storyIdParameter, draftIdParameter],
      auth: 'publish',
      responses: { '200': { description: 'the draft', content: json(ref('DraftResult')) } },
      errors: [...guarded, 'draft_not_found'],
    },
    {
      method: 'patch',
      path: one,
      operationId: 'updateDraft',
      tag: 'drafts',
      summary: 'Change the events or the time of a draft or scheduled event',
      description:
        '`publishAt: null` makes a scheduled event a draft again; a time schedules a draft. New events get new ids. Only while the draft is `draft` or `scheduled` (else 409 `draft_not_editable`).',
      parameters: [storyIdParameter, draftIdParameter],
      requestBody: { required: true, content: json(ref('DraftUpdateBody')) },
      auth: 'publish',
      responses: { '200': { description: 'changed', content: json(ref('DraftResult')) } },
      errors: [...guarded, ...bodyErrors, 'draft_not_found', 'draft_not_editable'],
    },
    {
      method: 'post',
      path: `${one}/publish`,
      operationId: 'publishDraft',
      tag: 'drafts',
      summary: 'Publish a draft now',
      description:
        "Appends its events with their ids (no expectedVersion) and answers as an append does. Asking again answers 200 with the same positions and appends nothing, however many ask at once. If the log refuses the events (the story's state no longer allows them), the draft becomes `failed` with `lastError`, and the refusal is the answer. A cancelled draft cannot be published (409).",
      parameters: [storyIdParameter, draftIdParameter],
      auth: 'publish',
      responses: {
        '201': { description: 'published now', content: json(ref('DraftPublished')) },
        '200': {
          description: 'published before: the same positions, nothing appended',
          content: json(ref('DraftPublished')),
        },
      },
      errors: [
        ...guarded,
        'draft_not_found',
        'draft_not_editable',
        ...appendRuleErrors,
        'unavailable',
      ],
    },
    {
      method: 'delete',
      path: one,
      operationId: 'cancelDraft',
      tag: 'drafts',
      summary: 'Cancel a draft, a scheduled event or a failed one',
      description:
        'Answers the draft, now `cancelled`; cancelling again changes nothing. A draft being published or published is not cancelled (409 `draft_not_editable`).',
      parameters: [storyIdParameter, draftIdParameter],
      auth: 'publish',
      responses: { '200': { description: 'cancelled', content: json(ref('DraftResult')) } },
      errors: [...guarded, 'draft_not_found', 'draft_not_editable'],
    },
  ];
}
const tokenErrors: readonly ErrorCode[] = ['unauthorized', 'forbidden', 'rate_limited'];

const operations: readonly Operation[] = [
  {
    method: 'get',
    path: '/v1/stories',
    operationId: 'listStories',
    tag: 'read',
    summary: 'Every story, most recently updated first',
    responses: { '200': { description: 'the stories', content: json(ref('StoryList')) } },
    errors: [],
  },
  {
    method: 'get',
    path: '/v1/stories/{storyId}',
    operationId: 'getStory',
    tag: 'read',
    summary: 'The story as it stands',
    description:
      'Summary, key events, pinned entry, actors and their latest statements, claims (their disputes are on their timeline entries), counts. Its size does not grow with corrections or disputes: the corrections log is at `/corrections`. The ETag is `"<epoch>:p<position>"` (with the log’s epoch, so that a restored database never answers 304 for other content at the same position); send it back as `If-None-Match` to get 304 while nothing changed.',
    parameters: [
      storyIdParameter,
      {
        name: 'If-None-Match',
        in: 'header',
        required: false,
        description: 'an ETag this route returned',
        schema: { type: 'string' },
      },
    ],
    responses: {
      '200': {
        description: 'the story view',
        headers: { ETag: { schema: { type: 'string' }, description: '`"<epoch>:p<position>"`' } },
        content: json(ref('StoryView')),
      },
      '304': { description: 'unchanged since the ETag sent in If-None-Match' },
    },
    errors: storyErrors,
  },
  {
    method: 'get',
    path: '/v1/stories/{storyId}/timeline',
    operationId: 'getTimeline',
    tag: 'read',
    summary: 'Developments in timeline order, a page at a time',
    description:
      'Corrections applied, retractions marked (never removed). Pass `next` as `cursor` for the following page.',
    parameters: [storyIdParameter, ...queryParameters(timelineQuery)],
    responses: {
      '200': { description: 'a page of the timeline', content: json(ref('TimelinePage')) },
    },
    errors: storyErrors,
  },
  {
    method: 'get',
    path: '/v1/stories/{storyId}/corrections',
    operationId: 'getCorrections',
    tag: 'read',
    summary: 'The corrections log: every correction, oldest first, a page at a time',
    description:
      'Each correction names the development it changed and carries the new values and the ones they replaced. `after` is a log position: pass `next` for the following page.',
    parameters: [storyIdParameter, ...queryParameters(pageQuery)],
    responses: {
      '200': { description: 'a page of corrections', content: json(ref('CorrectionsPage')) },
    },
    errors: storyErrors,
  },
  {
    method: 'get',
    path: '/v1/stories/{storyId}/state',
    operationId: 'getStoryState',
    tag: 'read',
    summary: 'Time travel: the story and its whole timeline as they stood at a position or time',
    description: 'Give exactly one of `at` and `asOf`.',
    parameters: [storyIdParameter, ...queryParameters(stateQuery)],
    responses: {
      '200': { description: 'the story as it stood', content: json(ref('StoryState')) },
    },
    errors: [...storyErrors, 'position_out_of_range'],
  },
  {
    method: 'get',
    path: '/v1/stories/{storyId}/events',
    operationId: 'getStoryEvents',
    tag: 'log',
    summary: "One story's events after a position, in position order",
    description: '`after` is a global position, as in `/v1/events`, and caching is the same.',
    parameters: [storyIdParameter, ...queryParameters(pageQuery)],
    responses: { '200': { description: 'a page of events', content: json(ref('EventsPage')) } },
    errors: storyErrors,
  },
  {
    method: 'post',
    path: '/v1/stories/{storyId}/events',
    operationId: 'appendEvents',
    tag: 'write',
    summary: 'Append events to a story, all or nothing',
    description: `1-${maxEventsPerAppend} events, appended in order with consecutive versions. Each event's \`id\` (a UUID) is its idempotency key: re-sending events already in the log answers 200 with their original positions and writes nothing. \`expectedVersion\`: 0 means the story must not exist yet, n that it must be at version n (else 409 \`version_conflict\`). Concurrent appends share transactions (group commit).`,
    parameters: [storyIdParameter],
    requestBody: { required: true, content: json(ref('AppendBody')) },
    auth: 'publish',
    responses: {
      '201': { description: 'appended', content: json(ref('AppendResult')) },
      '200': {
        description: 'every event was already in the log (a retry): nothing written',
        content: json(ref('AppendResult')),
      },
    },
    errors: [
      'invalid_json',
      'invalid_request',
      'invalid_event',
      'duplicate_id_in_request',
      'unsupported_media_type',
      'payload_too_large',
      'unauthorized',
      'forbidden',
      'rate_limited',
      'version_conflict',
      ...appendRuleErrors,
      'unavailable',
    ],
  },
  ...draftOperations(),
  {
    method: 'get',
    path: '/v1/stories/{storyId}/feed.atom',
    operationId: 'getStoryFeed',
    tag: 'read',
    summary: 'The story as an Atom 1.0 feed',
    description:
      'One entry per development, newest first (at most 100). Entry ids are `urn:storyline:{storyId}:{developmentId}`; `published` is when the log first accepted the development, `updated` when it last changed (a correction, retraction or dispute). Retracted entries are titled "Retracted: …"; corrections are listed as "Corrected: note". Same ETag and `If-None-Match` as the story.',
    parameters: [storyIdParameter],
    responses: {
      '200': {
        description: 'the feed',
        content: { 'application/atom+xml': { schema: { type: 'string' } } },
      },
      '304': { description: 'unchanged since the ETag sent in If-None-Match' },
    },
    errors: storyErrors,
  },
  {
    method: 'get',
    path: '/v1/stories/{storyId}/live',
    operationId: 'streamStory',
    tag: 'live',
    summary: "Server-Sent Events: the story's events as they are appended",
    description: [
      'The same stream as the `/v1/live` WebSocket, for one story. Events:',
      '- `subscribed`: `{stories, epoch, position, recovered}`;',
      '- `snapshot` (id: its position): `{storyId, position, state}`, the story view and timeline, when not resuming;',
      '- `event` (id: its position): a RecordedEvent;',
      '- `error`: `{code, message}`;',
      '- `close`: `{reason, after}` when the server ends the stream (`slow_consumer`, `going_away`): reconnect with `after`.',
      '',
      "Each `id:` is the event's position, so a browser's EventSource resumes by itself with `Last-Event-ID`. Comments (`: keep-alive`) keep idle connections open.",
    ].join('\n'),
    parameters: [
      storyIdParameter,
      {
        name: 'after',
        in: 'query',
        required: false,
        description: 'resume after this position (as Last-Event-ID does)',
        schema: { type: 'integer', minimum: 0 },
      },
      {
        name: 'epoch',
        in: 'query',
        required: false,
        description: 'the epoch the position belongs to; another epoch gets a fresh snapshot',
        schema: { type: 'string' },
      },
      {
        name: 'Last-Event-ID',
        in: 'header',
        required: false,
        description: 'the last event id received (a position)',
        schema: { type: 'string', pattern: '^\\d{1,15}$' },
      },
    ],
    responses: {
      '200': {
        description: 'an event stream that stays open',
        content: { 'text/event-stream': { schema: { type: 'string' } } },
      },
    },
    errors: [...storyErrors, 'unavailable'],
  },
  {
    method: 'get',
    path: '/v1/events',
    operationId: 'getEvents',
    tag: 'log',
    summary: 'Events after a position, in position order, across all stories',
    description:
      'Positions grow in commit order: reading `after` the last position seen never skips or repeats an event. A full page (one with a `next`) never changes: it comes with `Cache-Control: public, max-age=31536000, immutable` and an ETag, and its `head` is the head when it was first read. The last page (`next` null) comes with `no-cache` and an ETag that changes with the head: send it back as `If-None-Match` to get 304 while nothing was appended.',
    parameters: queryParameters(pageQuery),
    responses: { '200': { description: 'a page of events', content: json(ref('EventsPage')) } },
    errors: ['invalid_request'],
  },
  {
    method: 'get',
    path: '/healthz',
    operationId: 'health',
    tag: 'operations',
    summary: 'The process is up',
    responses: { '200': { description: 'up', content: json(ref('Health')) } },
    errors: [],
  },
  {
    method: 'get',
    path: '/readyz',
    operationId: 'ready',
    tag: 'operations',
    summary: 'The database answers and migrations are applied',
    responses: { '200': { description: 'ready', content: json(ref('Health')) } },
    errors: ['unavailable'],
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    tag: 'operations',
    summary: 'Prometheus metrics (text exposition format)',
    description:
      'Appends by outcome, append latency, group-commit batch sizes, live subscribers, fan-out lag, sessions ended, HTTP request durations by route, and the process metrics. When the server is configured with `STORYLINE_METRICS_TOKEN`, it needs `Authorization: Bearer <that token>`.',
    responses: {
      '200': {
        description: 'the metrics',
        content: { 'text/plain': { schema: { type: 'string' } } },
      },
    },
    auth: 'configured',
    errors: ['unauthorized', 'unavailable'],
  },
  {
    method: 'get',
    path: '/v1/tokens',
    operationId: 'listTokens',
    tag: 'admin',
    summary: 'Every token: name, scope, stories, created, revoked (never the token itself)',
    auth: 'admin',
    responses: { '200': { description: 'the tokens', content: json(ref('TokenList')) } },
    errors: tokenErrors,
  },
  {
    method: 'post',
    path: '/v1/tokens',
    operationId: 'createToken',
    tag: 'admin',
    summary: 'Create a token; the answer is the only place the token is ever shown',
    description:
      '`scope` is `publish` (the default: may append) or `admin` (may also manage tokens). With `stories`, the token may publish only to those.',
    requestBody: { required: true, content: json(ref('TokenRequest')) },
    auth: 'admin',
    responses: { '201': { description: 'created', content: json(ref('CreatedToken')) } },
    errors: [
      ...tokenErrors,
      'invalid_json',
      'invalid_request',
      'unsupported_media_type',
      'payload_too_large',
    ],
  },
  {
    method: 'delete',
    path: '/v1/tokens/{name}',
    operationId: 'revokeTokens',
    tag: 'admin',
    summary: 'Revoke every token of that name, on every process at once',
    parameters: [
      {
        name: 'name',
        in: 'path',
        required: true,
        description: "the tokens' name",
        schema: { type: 'string' },
      },
    ],
    auth: 'admin',
    responses: { '200': { description: 'revoked', content: json(ref('RevokedTokens')) } },
    errors: [...tokenErrors, 'invalid_request'],
  },
  ...webhookOperations,
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openApiDocument',
    tag: 'reference',
    summary: 'This document',
    responses: {
      '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) },
    },
    errors: [],
  },
  {
    method: 'get',
    path: '/docs',
    operationId: 'apiReference',
    tag: 'reference',
    summary: 'This document as an HTML page',
    responses: {
      '200': {
        description: 'the reference',
        content: { 'text/html': { schema: { type: 'string' } } },
      },
    },
    errors: [],
  },
  {
    method: 'get',
    path: '/docs/reference.css',
    operationId: 'apiReferenceStylesheet',
    tag: 'reference',
    summary: "The reference page's stylesheet",
    responses: {
      '200': { description: 'CSS', content: { 'text/css': { schema: { type: 'string' } } } },
    },
    errors: [],
  },
];

/**
 * Error responses by status, each naming the codes this operation can answer with: the body is
 * an ErrorBody whose `code` is one of them.
 */
function errorResponses(codes: readonly ErrorCode[]): Record<string, JsonSchema> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of [...codes, 'internal' as const]) {
    const status = httpStatusOf[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const clientErrors = [...byStatus.keys()].some((status) => status >= 400 && status < 500);
  // A route with no client error of its own can still meet the HTTP server's.
  const unreadable: [string, JsonSchema][] = clientErrors
    ? []
    : [['4XX', { $ref: '#/components/responses/UnreadableRequest' }]];
  return Object.fromEntries([
    ...unreadable,
    ...[...byStatus].map(([status, statusCodes]): [string, JsonSchema] => [
      String(status),
      {
        description: statusCodes.map((code) => `\`${code}\``).join(', '),
        content: json({
          allOf: [
            ref('ErrorBody'),
            { properties: { error: { properties: { code: { enum: statusCodes } } } } },
          ],
        }),
      },
    ]),
  ]);
}

/** Public operations say so (`[]`); an empty alternative makes the token optional. */
function securityOf(auth: Operation['auth']): JsonSchema[] {
  switch (auth) {
    case undefined:
      return [];
    case 'configured':
      return [{}, { bearer: [] }];
    case 'publish':
    case 'admin':
      return [{ bearer: [] }];
  }
}

/**
 * The HTTP server refuses some requests before any route sees them, on every path (see
 * guarded-server.ts): listed on the operations that have no client error of their own.
 */
const unreadableCodes: readonly ErrorCode[] = [
  'invalid_request',
  'request_timeout',
  'payload_too_large',
  'headers_too_large',
];
const unreadableRequest = {
  description:
    'the server could not read the request: malformed (400 `invalid_request`), not sent in time (408 `request_timeout`), chunk extensions too large (413 `payload_too_large`), headers too large (431 `headers_too_large`); the connection is then closed',
  content: json({
    allOf: [
      ref('ErrorBody'),
      { properties: { error: { properties: { code: { enum: unreadableCodes } } } } },
    ],
  }),
};

function pathItems(): Record<string, Record<string, JsonSchema>> {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const operation of operations) {
    paths[operation.path] ??= {};
    paths[operation.path] = {
      ...paths[operation.path],
      [operation.method]: {
        operationId: operation.operationId,
        tags: [operation.tag],
        summary: operation.summary,
        ...(operation.description === undefined ? {} : { description: operation.description }),
        ...(operation.parameters === undefined ? {} : { parameters: operation.parameters }),
        ...(operation.requestBody === undefined ? {} : { requestBody: operation.requestBody }),
        security: securityOf(operation.auth),
        responses: { ...operation.responses, ...errorResponses(operation.errors) },
      },
    };
  }
  return paths;
}

const description = `Storyline appends every development of a live news story as an immutable event to a log, and serves the story as it stands, its timeline, the story as it stood at any point in the past, and the log itself.

Reads are open; appends need \`Authorization: Bearer <token>\` (\`storyline tokens create <name>\`), and managing tokens needs an admin token (\`storyline tokens create <name> --admin\`). Authenticated requests are rate-limited per token and per client address: over the limit, 429 \`rate_limited\` with \`Retry-After\` (seconds).

Every error is JSON: \`{"error": {"code", "message", "requestId", …}}\` with a stable \`code\` (see each operation's responses); validation errors list their \`issues\` with paths.

Pages on other origins may use the API from a browser (CORS). Reads (\`GET\` and \`HEAD\` without \`Authorization\`: stories, timelines, the log, the SSE streams, the Atom feeds, this document) are open to the origins in \`STORYLINE_CORS_ORIGINS\` (any, by default); everything else (appends, token management, any request with a token) only to those in \`STORYLINE_CORS_WRITE_ORIGINS\` (none, by default). Preflights (\`OPTIONS\` with \`Access-Control-Request-Method\`) are answered 204 on every path under \`/v1/\` and are not listed as operations; \`ETag\`, \`Location\`, \`Retry-After\`, \`WWW-Authenticate\` and \`X-Request-Id\` are exposed to scripts.

Live updates come over Server-Sent Events (\`GET /v1/stories/{storyId}/live\`) or the WebSocket at \`/v1/live\`, described in \`x-websocket\`: connect (optionally \`?stories=a,b\` or \`*\`, \`&after=<position>&epoch=<epoch>\` to subscribe at once), send JSON commands (\`subscribe\`, \`unsubscribe\`, \`replay\`, \`ping\`), receive JSON frames (\`subscribed\`, \`snapshot\`, \`event\`, \`unsubscribed\`, \`replay.event\`, \`replay.end\`, \`pong\`, \`error\`). The server closes a connection that cannot keep up with ${closeCodes.slowConsumer}, with ${closeCodes.logReplaced} when the log was replaced (a restored database: reconnect with your \`after\` and \`epoch\` for \`recovered: false\` and fresh snapshots), with ${closeCodes.tryAgainLater} when a subscription failed on the server's side (reconnect later, with backoff), and with ${closeCodes.goingAway} on shutdown; every close says where to resume (\`resume with after=<position>\`).`;

/**
 * The project has not chosen a license (package.json names none), so the document says so with
 * an SPDX reference of its own rather than inventing one. Choosing one changes this line (e.g.
 * `{ name: 'MIT', identifier: 'MIT' }`) and package.json's `license`.
 */
const license = { name: 'No license granted yet', identifier: 'LicenseRef-Proprietary' };

/** How `/v1/live` works, in OpenAPI's place for what it has no words for. */
const webSocket = {
  path: '/v1/live',
  description:
    'A WebSocket on the same port. Subscribing with a known `after` (and its `epoch`) resumes: every event after it, then live events, nothing skipped or repeated. Otherwise each story first gets a `snapshot` (its view and timeline), then the events after it. The server pings every 30 s and drops a connection that does not answer.',
  query: {
    stories: 'comma-separated story ids, or `*` for every story: subscribe at connect',
    after: 'resume after this position',
    epoch: "the log's epoch that `after` belongs to",
  },
  commands: {
    description: 'JSON text frames the client sends',
    // Here rather than under components: no OpenAPI operation uses it.
    schema: withoutDialect(
      z.toJSONSchema(liveCommandSchema, {
        target: 'draft-2020-12',
        io: 'input',
        unrepresentable: 'any',
      }),
    ),
  },
  frames: {
    subscribed:
      '`{type, stories, epoch, position, recovered}`: the subscription stands; `recovered` tells whether it resumed from `after`',
    snapshot:
      "`{type, storyId, position, state}`: the story's view and timeline at `position` (null if not opened)",
    event: '`{type: "event", event}`: a RecordedEvent',
    unsubscribed: '`{type, stories}`',
    'replay.event': '`{type, event}`: a replayed RecordedEvent, paced by `speed`',
    'replay.end': '`{type, storyId, position}`: the replay is over',
    pong: '`{type, position}`: the answer to `ping`, with the last position sent',
    error:
      '`{type, code, message, …}`: a command failed (`invalid_command`, `story_not_found`, `too_many_stories`…)',
  },
  closeCodes: {
    [closeCodes.goingAway]: 'the server is shutting down; the reason says where to resume',
    [closeCodes.policyViolation]: 'too many invalid frames',
    [closeCodes.tooBig]: 'a frame larger than the limit',
    [closeCodes.slowConsumer]: 'too slow to keep up; the reason says where to resume',
  },
  refusals:
    'An upgrade is refused with a JSON error body: 404 `route_not_found` (another path), 403 `forbidden` (origin not allowed), 503 `unavailable` (no room), 400 `invalid_request` (bad query).',
};

let cached: Readonly<Record<string, unknown>> | null = null;

/** The document; built once, on first use. */
export function openApiDocument(): Readonly<Record<string, unknown>> {
  cached ??= {
    openapi: '3.1.0',
    info: { title: 'Storyline', version: '1.0.0', description, license },
    servers: [{ url: '/' }],
    tags: [
      { name: 'read', description: 'The story as it stands, its timeline, time travel, the feed' },
      { name: 'log', description: 'The event log, page by page' },
      { name: 'write', description: 'Appending events' },
      { name: 'drafts', description: 'Drafts and scheduled events, private until published' },
      { name: 'live', description: 'Live updates (and the WebSocket: see x-websocket)' },
      { name: 'operations', description: 'Health, readiness, metrics' },
      { name: 'admin', description: 'Token and webhook management (admin tokens only)' },
      { name: 'reference', description: 'This reference' },
    ],
    paths: pathItems(),
    components: {
      schemas: componentsSchemas(),
      responses: { UnreadableRequest: unreadableRequest },
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'a token: `storyline tokens create <name>` (publish), or with `--admin` (also manages tokens)',
        },
      },
    },
    'x-websocket': webSocket,
    'x-error-codes': Object.fromEntries(errorCodes.map((code) => [code, httpStatusOf[code]])),
  };
  return cached;
}
