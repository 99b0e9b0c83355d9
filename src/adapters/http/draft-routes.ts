/**
 * Drafts and scheduled events over HTTP, under `/v1/stories/{storyId}/drafts`. Every route,
 * reads included, needs the same credentials as an append to the story: drafts are private
 * until published, and answered with `Cache-Control: no-store`.
 */
import type { HttpBindings } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { editableStatuses, type Drafts } from '../../app/drafts.ts';
import type { Publisher, TokenScope } from '../../app/ports.ts';
import { StorylineError } from '../../domain/errors.ts';
import { createDraftSchema, draftListQuery, updateDraftSchema } from './draft-schemas.ts';
import { clientText } from './error-responses.ts';
import { parseInput, storyIdOf } from './input-validation.ts';
import { withBody } from './json-body.ts';
import { requireMayPublishTo } from './publish-permission.ts';

type Env = { Variables: { requestId: string }; Bindings: HttpBindings };

export interface DraftRouteDependencies {
  readonly drafts: Drafts;
  /** The largest body accepted, as for appends. */
  readonly bodyLimit: number;
  /** The API's own authentication (http-app.ts): who is asking, or a 401/403/429. */
  authenticated(c: Context<Env>, scope: TokenScope): Promise<Publisher>;
}

const draftIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createDraftRoutes(deps: DraftRouteDependencies): Hono<Env> {
  const { drafts } = deps;
  const app = new Hono<Env>();

  /** As for an append: a token that may publish to this story. */
  async function publisherFor(c: Context<Env>, storyId: string): Promise<Publisher> {
    const publisher = await deps.authenticated(c, 'publish');
    requireMayPublishTo(publisher, storyId);
    c.header('Cache-Control', 'no-store');
    return publisher;
  }

  app.post('/v1/stories/:storyId/drafts', (c) =>
    withBody(c, deps.bodyLimit, async (body) => {
      const storyId = storyIdOf(c);
      body.refuseDeclaredExcess();
      const publisher = await publisherFor(c, storyId);
      const input = parseInput(createDraftSchema, await body.json());
      const draft = await drafts.create({
        storyId,
        events: input.events,
        publishAt: input.publishAt,
        author: publisher.name,
      });
      return c.json({ draft }, 201);
    }),
  );

  app.get('/v1/stories/:storyId/drafts', async (c) => {
    const storyId = storyIdOf(c);
    await publisherFor(c, storyId);
    const query = parseInput(draftListQuery, c.req.query());
    return c.json({ drafts: await drafts.list(storyId, query.status ?? editableStatuses) });
  });

  app.get('/v1/stories/:storyId/drafts/:draftId', async (c) => {
    const storyId = storyIdOf(c);
    await publisherFor(c, storyId);
    return c.json({ draft: await drafts.get(storyId, draftIdOf(c, storyId)) });
  });

  app.patch('/v1/stories/:storyId/drafts/:draftId', (c) =>
    withBody(c, deps.bodyLimit, async (body) => {
      const storyId = storyIdOf(c);
      body.refuseDeclaredExcess();
      await publisherFor(c, storyId);
      const draftId = draftIdOf(c, storyId);
      const input = parseInput(updateDraftSchema, await body.json());
      const draft = await drafts.update(storyId, draftId, {
        ...(input.events === undefined ? {} : { events: input.events }),
        ...(input.publishAt === undefined ? {} : { publishAt: input.publishAt }),
      });
      return c.json({ draft });
    }),
  );

  app.post('/v1/stories/:storyId/drafts/:draftId/publish', async (c) => {
    const storyId = storyIdOf(c);
    await publisherFor(c, storyId);
    const outcome = await drafts.publish(storyId, draftIdOf(c, storyId), c.get('requestId'));
    return c.json(
      { draft: outcome.draft, version: outcome.version, positions: outcome.positions },
      outcome.appended ? 201 : 200,
    );
  });

  app.delete('/v1/stories/:storyId/drafts/:draftId', async (c) => {
    const storyId = storyIdOf(c);
    await publisherFor(c, storyId);
    return c.json({ draft: await drafts.cancel(storyId, draftIdOf(c, storyId)) });
  });

  return app;
}

/** A draft id is a UUID; anything else names no draft. */
function draftIdOf(c: Context<Env>, storyId: string): string {
  const draftId = c.req.param('draftId') ?? '';
  if (!draftIdPattern.test(draftId)) {
    throw new StorylineError(
      'draft_not_found',
      `story ${storyId} has no draft ${clientText(draftId)}`,
    );
  }
  return draftId.toLowerCase();
}
