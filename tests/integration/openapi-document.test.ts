/**
 * The API's own description: `/openapi.json` is a valid OpenAPI 3.1 document (checked by a real
 * validator), names every route the app serves and only those, describes request bodies with
 * the schemas the routes validate with, and describes responses that real responses match.
 * `/docs` renders it as a page that needs nothing from elsewhere.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHttpApp } from '../../src/adapters/http/http-app.ts';
import {
  appendResultSchema,
  errorBodySchema,
  eventsPageSchema,
  storyListSchema,
  storyStateSchema,
  storyViewSchema,
  timelinePageSchema,
} from '../../src/adapters/http/response-schemas.ts';
import { StorylineMetrics } from '../../src/adapters/metrics/storyline-metrics.ts';
import { Drafts } from '../../src/app/drafts.ts';
import { errorCodes } from '../../src/domain/errors.ts';
import { eventTypes, maxEventsPerAppend } from '../../src/domain/event-types.ts';
import { createHarness, silentLogger, type Harness } from '../support/harness.ts';

/** Routes outside the JSON API: the live blog's pages, for people, documented on their own. */
const isApiRoute = (path: string) =>
  path.startsWith('/v1/') ||
  ['/healthz', '/readyz', '/metrics', '/openapi.json', '/docs', '/docs/reference.css'].includes(
    path,
  );

describe('the OpenAPI document', () => {
  let h: Harness;
  let document: any;

  beforeAll(async () => {
    h = await createHarness();
    const response = await h.app.request('/openapi.json');
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toMatch(/^application\/json/);
    document = await response.json();
  });
  afterAll(() => h.close());

  it('is valid OpenAPI 3.1', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('documents every route the app serves, and no other', () => {
    // Built with every optional part, so that every route is registered.
    const app = createHttpApp({
      appender: h.storyline.appender,
      queries: h.storyline.queries,
      tokens: h.storyline.tokens,
      logger: silentLogger,
      bodyLimit: 1024,
      metrics: new StorylineMetrics(),
      drafts: new Drafts(h.storyline.draftStore, h.storyline.appender),
    });
    const served = new Set(
      app.routes
        .filter((route) => route.method !== 'ALL' && isApiRoute(route.path))
        .map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, '{$1}')}`),
    );
    const documented = new Set(
      Object.entries(document.paths).flatMap(([path, item]) =>
        Object.keys(item as object).map((method) => `${method.toUpperCase()} ${path}`),
      ),
    );
    expect([...documented].sort()).toEqual([...served].sort());
    expect(served).toContain('GET /v1/stories/{storyId}/live');
    expect(served).toContain('GET /v1/stories/{storyId}/feed.atom');
  });

  it('describes the append body with the schemas the route validates with', () => {
    const schemas = document.components.schemas;
    const body = schemas.AppendBody;
    expect(body.properties.events.maxItems).toBe(maxEventsPerAppend);
    expect(body.properties.events.items).toEqual({ $ref: '#/components/schemas/NewEvent' });
    expect(body.additionalProperties).toBe(false);
    const types = schemas.NewEvent.oneOf.map((option: any) => option.properties.type.const);
    expect(types).toEqual(eventTypes);
    const reported = schemas.DevelopmentReportedData;
    expect(reported.required).toEqual(['developmentId', 'kind', 'headline']);
    expect(reported.properties.headline).toMatchObject({ minLength: 1, maxLength: 300 });
    const append = document.paths['/v1/stories/{storyId}/events'].post;
    expect(append.security).toEqual([{ bearer: [] }]);
    expect(append.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/AppendBody',
    });
    // Query parameters are described as what they are read as, with their defaults and bounds.
    const timeline = document.paths['/v1/stories/{storyId}/timeline'].get.parameters;
    expect(timeline.find((parameter: any) => parameter.name === 'limit')).toMatchObject({
      in: 'query',
      required: false,
      schema: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
    });
  });

  it('lists each route’s error codes under their statuses, with the error body', () => {
    const responses = document.paths['/v1/stories/{storyId}/events'].post.responses;
    const codesOf = (status: string) =>
      responses[status].content['application/json'].schema.allOf[1].properties.error.properties.code
        .enum;
    expect(codesOf('401')).toEqual(['unauthorized']);
    expect(codesOf('409')).toEqual(['version_conflict', 'duplicate_event_id']);
    expect(codesOf('422')).toContain('story_closed');
    expect(codesOf('500')).toEqual(['internal']);
    expect(document.components.schemas.ErrorBody.properties.error.properties.code.enum).toEqual(
      errorCodes,
    );
    expect(document.paths['/v1/stories/{storyId}'].get.responses['404']).toBeDefined();
  });

  it('meets the rules its lint (npm run openapi:lint) checks, so that a new route does too', () => {
    expect(document.info.license).toMatchObject({ name: expect.any(String) });
    expect(document.info.license.identifier ?? document.info.license.url).toBeDefined();
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item as Record<string, any>).map(([method, operation]) => ({
        name: `${method.toUpperCase()} ${path}`,
        operation,
      })),
    );
    for (const { name, operation } of operations) {
      // Public operations say so with `security: []`; the others name the bearer scheme.
      expect(Array.isArray(operation.security), name).toBe(true);
      for (const requirement of operation.security) {
        for (const scheme of Object.keys(requirement)) {
          expect(document.components.securitySchemes, name).toHaveProperty(scheme);
        }
      }
      expect(
        Object.keys(operation.responses).some((status) => /^4(\d\d|XX)$/.test(status)),
        name,
      ).toBe(true);
      expect(typeof operation.operationId, name).toBe('string');
      expect(typeof operation.summary, name).toBe('string');
    }
    // Drafts are private: reading them takes the same token as an append.
    const publicReads = operations.filter(
      ({ name }) => /^GET \/v1\/(stories|events)/.test(name) && !name.includes('/drafts'),
    );
    expect(publicReads.length).toBeGreaterThan(5);
    for (const { name, operation } of publicReads) expect(operation.security, name).toEqual([]);
    // Every component is used by an operation, or by a schema (no-unused-components); a $ref in
    // an `x-` extension does not count.
    const text = JSON.stringify({ paths: document.paths, webhooks: document.webhooks });
    const used = new Set([...text.matchAll(/#\/components\/(\w+)\/(\w+)/g)].map((m) => m[2]));
    const schemas = JSON.stringify(document.components.schemas);
    for (const match of schemas.matchAll(/#\/components\/schemas\/(\w+)/g)) used.add(match[1]);
    for (const kind of ['schemas', 'responses']) {
      for (const name of Object.keys(document.components[kind] ?? {})) {
        expect(used, `${kind}/${name}`).toContain(name);
      }
    }
  });

  it('describes the WebSocket protocol, which OpenAPI has no words for', () => {
    const webSocket = document['x-websocket'];
    expect(webSocket.path).toBe('/v1/live');
    expect(Object.keys(webSocket.closeCodes)).toEqual(['1001', '1008', '1009', '4008']);
    const commands = webSocket.commands.schema.oneOf.map(
      (option: any) => option.properties.type.const,
    );
    expect(commands).toEqual(['subscribe', 'unsubscribe', 'replay', 'ping']);
    expect(document.info.description).toContain('/v1/live');
  });

  it('describes responses that real responses match', async () => {
    const opened = await h.append('documented', {
      events: [
        { type: 'story.opened', data: { title: 'Documented', timeZone: 'Europe/Moscow' } },
        {
          type: 'development.reported',
          data: {
            developmentId: 'first',
            kind: 'claim',
            headline: 'A claim',
            actors: [{ name: 'Someone', role: 'spokesman' }],
            sources: [{ name: 'Wire', url: 'https://example.com/' }],
            quote: { text: 'We did it', by: 'Someone' },
            keyEvent: true,
          },
        },
        {
          type: 'development.corrected',
          data: {
            developmentId: 'first',
            changes: { headline: 'A corrected claim' },
            note: 'wording',
            severity: 'typo',
          },
        },
        {
          type: 'claim.disputed',
          data: { developmentId: 'first', by: 'The other side', statement: 'They did not' },
        },
        { type: 'development.pinned', data: { developmentId: 'first' } },
      ],
    });
    expect(opened.status).toBe(201);
    const reads: [string, z.ZodType][] = [
      ['/v1/stories', storyListSchema],
      ['/v1/stories/documented', storyViewSchema],
      ['/v1/stories/documented/timeline', timelinePageSchema],
      ['/v1/stories/documented/state?at=2', storyStateSchema],
      ['/v1/events?after=0', eventsPageSchema],
      ['/v1/stories/documented/events', eventsPageSchema],
    ];
    for (const [path, schema] of reads) {
      const { status, body } = await h.getJson(path);
      expect(status, path).toBe(200);
      const parsed = schema.safeParse(body);
      expect(parsed.success ? [] : parsed.error.issues, path).toEqual([]);
    }
    expect(appendResultSchema.safeParse(await opened.json()).success).toBe(true);
    const missing = await h.getJson('/v1/stories/nowhere');
    expect(errorBodySchema.safeParse(missing.body).success).toBe(true);
  });
});

describe('the reference page', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());

  it('is HTML that names every route, its parameters and schemas, with nothing loaded from elsewhere', async () => {
    const response = await h.app.request('/docs');
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toMatch(/^text\/html/);
    expect(response.headers.get('Content-Security-Policy')).toContain("default-src 'none'");
    const page = await response.text();
    const document = (await (await h.app.request('/openapi.json')).json()) as any;
    for (const path of Object.keys(document.paths)) {
      expect(page).toContain(`<code>${path.replace(/&/g, '&amp;')}</code>`);
    }
    // A shared response ($ref) is shown with its own description.
    expect(page).toContain('the server could not read the request');
    for (const name of Object.keys(document.components.schemas)) {
      expect(page).toContain(`id="schema-${name}"`);
    }
    expect(page).toContain('<code>/v1/live</code>');
    expect(page).toContain('<code class="field">expectedVersion</code>');
    expect(page).toContain('<code>cursor</code>');
    expect(page).not.toMatch(/<script|https?:\/\/(?!example)/);
    // Its one stylesheet is its own.
    expect(page).toContain('<link rel="stylesheet" href="/docs/reference.css">');
    const css = await h.app.request('/docs/reference.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('Content-Type')).toBe('text/css; charset=utf-8');
  });
});
