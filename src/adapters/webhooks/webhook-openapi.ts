/**
 * `/v1/webhooks` in the OpenAPI document: the named schemas (request from the route's own zod
 * schema; responses type-checked against the registry's results) and the operations, which
 * openapi.ts lists with its own.
 */
import { z } from 'zod';
import type { WebhookEndpoint } from '../../app/webhook-ports.ts';
import type { WebhookListing } from '../../app/webhook-registry.ts';
import type { ErrorCode } from '../../domain/errors.ts';
import { webhookRequestSchema } from './webhook-routes.ts';

const instant = z.iso.datetime({ offset: true });

const endpointShape = {
  id: z.string().describe('`wh_…`'),
  url: z.string(),
  stories: z
    .array(z.string())
    .nullable()
    .describe('the only stories whose events it receives; null for every story'),
  state: z
    .enum(['active', 'paused'])
    .describe('`paused` after too many consecutive failures, until resumed'),
  cursor: z
    .number()
    .int()
    .min(0)
    .describe('the last log position it has been given; delivery resumes after it'),
  failures: z.number().int().min(0).describe('failed attempts since the last delivery'),
  lastError: z.string().nullable().describe('why the last attempt failed'),
  lastErrorAt: instant.nullable(),
  createdAt: instant,
};

export const webhookSchema: z.ZodType<WebhookEndpoint> = z.object(endpointShape);

export const webhookListingSchema: z.ZodType<WebhookListing> = z.object({
  ...endpointShape,
  lag: z
    .number()
    .int()
    .min(0)
    .describe("events in the log after its cursor (the log's head minus it)"),
});

export const webhookComponentSchemas: Readonly<Record<string, z.ZodType>> = {
  WebhookRequest: webhookRequestSchema,
  Webhook: webhookSchema,
  WebhookList: z.object({
    webhooks: z.array(webhookListingSchema).describe('oldest first; never the secrets'),
  }),
  CreatedWebhook: z.object({
    ...endpointShape,
    secret: z
      .string()
      .describe(
        'the signing secret, `whsec_` + base64 of 24 random bytes (Standard Webhooks): shown this once',
      ),
  }),
  RemovedWebhook: z.object({ id: z.string(), removed: z.literal(true) }),
};

const json = (name: string) => ({
  'application/json': { schema: { $ref: `#/components/schemas/${name}` } },
});

const adminErrors: readonly ErrorCode[] = ['unauthorized', 'forbidden', 'rate_limited'];

const idParameter = {
  name: 'id',
  in: 'path',
  required: true,
  description: "the endpoint's id (`wh_…`)",
  schema: { type: 'string' },
} as const;

export const webhookOperations = [
  {
    method: 'get',
    path: '/v1/webhooks',
    operationId: 'listWebhooks',
    tag: 'admin',
    summary: 'Every webhook endpoint: url, stories, state, cursor, lag, failures, last error',
    auth: 'admin',
    responses: { '200': { description: 'the endpoints', content: json('WebhookList') } },
    errors: [...adminErrors, 'unavailable'],
  },
  {
    method: 'post',
    path: '/v1/webhooks',
    operationId: 'createWebhook',
    tag: 'admin',
    summary: 'Register a webhook endpoint; the answer is the only place its secret is shown',
    description:
      'Each event after `after` (the head by default), of `stories` (every story by default), is POSTed to `url` as its JSON envelope, signed as the Standard Webhooks specification says (`webhook-id`: the event id, `webhook-timestamp`, `webhook-signature`: `v1,` + base64 HMAC-SHA256). At least once, in position order. The URL must be https (http only with `STORYLINE_WEBHOOK_ALLOW_HTTP`) and resolve to public addresses only (unless `STORYLINE_WEBHOOK_ALLOW_PRIVATE`); otherwise 400 `webhook_target_refused`.',
    requestBody: { required: true, content: json('WebhookRequest') },
    auth: 'admin',
    responses: { '201': { description: 'registered', content: json('CreatedWebhook') } },
    errors: [
      ...adminErrors,
      'invalid_json',
      'invalid_request',
      'webhook_target_refused',
      'position_out_of_range',
      'unsupported_media_type',
      'payload_too_large',
      'unavailable',
    ],
  },
  {
    method: 'delete',
    path: '/v1/webhooks/{id}',
    operationId: 'removeWebhook',
    tag: 'admin',
    summary: 'Stop delivering to an endpoint and forget it',
    parameters: [idParameter],
    auth: 'admin',
    responses: { '200': { description: 'removed', content: json('RemovedWebhook') } },
    errors: [...adminErrors, 'webhook_not_found', 'unavailable'],
  },
  {
    method: 'post',
    path: '/v1/webhooks/{id}/resume',
    operationId: 'resumeWebhook',
    tag: 'admin',
    summary: 'Deliver again to a paused endpoint, from its cursor, with its failures reset',
    parameters: [idParameter],
    auth: 'admin',
    responses: { '200': { description: 'active again', content: json('Webhook') } },
    errors: [...adminErrors, 'webhook_not_found', 'unavailable'],
  },
] as const;
