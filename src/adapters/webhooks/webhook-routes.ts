/**
 * `/v1/webhooks`: register, list, remove and resume webhook endpoints. Admin tokens only; the
 * errors thrown here become responses in the app's one `onError`.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { Publisher, TokenScope } from '../../app/ports.ts';
import type { WebhookRegistry } from '../../app/webhook-registry.ts';
import { StorylineError } from '../../domain/errors.ts';
import { storyIdSchema } from '../../domain/event-types.ts';
import { parseInput } from '../http/input-validation.ts';
import { withBody } from '../http/json-body.ts';
import { maxTargetUrlLength } from './webhook-targets.ts';

/** `POST /v1/webhooks`. */
export const webhookRequestSchema = z.strictObject({
  url: z
    .string()
    .min(1)
    .max(maxTargetUrlLength)
    .describe('an https URL (http where the server allows it)'),
  stories: z
    .array(storyIdSchema)
    .min(1)
    .max(1000)
    .optional()
    .describe('only these stories’ events; every story without it'),
  after: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('start after this position (0: the whole log); the head without it'),
});

export interface WebhookRouteDependencies {
  /** Without it (a server not wired for webhooks) the routes answer 503. */
  readonly registry: WebhookRegistry | undefined;
  /** The app's check of the bearer token (rate limits included). */
  readonly authenticated: (c: Context, scope: TokenScope) => Promise<Publisher>;
}

const bodyLimit = 16 * 1024;

export function createWebhookRoutes(deps: WebhookRouteDependencies): Hono {
  const { authenticated } = deps;
  const routes = new Hono();
  const registryOf = (): WebhookRegistry => {
    if (deps.registry === undefined) {
      throw new StorylineError('unavailable', 'webhooks are not enabled on this server');
    }
    return deps.registry;
  };

  routes.get('/v1/webhooks', async (c) => {
    await authenticated(c, 'admin');
    c.header('Cache-Control', 'no-store');
    return c.json({ webhooks: await registryOf().list() });
  });

  routes.post('/v1/webhooks', (c) =>
    withBody(c, bodyLimit, async (body) => {
      body.refuseDeclaredExcess();
      await authenticated(c, 'admin');
      const input = parseInput(webhookRequestSchema, await body.json());
      const { endpoint, secret } = await registryOf().add(input);
      c.header('Cache-Control', 'no-store');
      return c.json({ ...endpoint, secret }, 201);
    }),
  );

  routes.delete('/v1/webhooks/:id', async (c) => {
    await authenticated(c, 'admin');
    const id = c.req.param('id');
    await registryOf().remove(id);
    return c.json({ id, removed: true });
  });

  routes.post('/v1/webhooks/:id/resume', async (c) => {
    await authenticated(c, 'admin');
    return c.json(await registryOf().resume(c.req.param('id')));
  });

  return routes;
}
