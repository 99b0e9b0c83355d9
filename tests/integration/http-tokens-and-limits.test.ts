/**
 * Tokens and what guards them: scopes (`publish`, `admin` for token management), rate limits per
 * token and per address (429 with Retry-After), `storyline tokens list`, a token for `/metrics`,
 * and logs that never show a token, an Authorization header or a database password.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../src/adapters/http/http-app.ts';
import { StorylineMetrics } from '../../src/adapters/metrics/storyline-metrics.ts';
import { createLogger, openStoryline, startHttpServer } from '../../src/composition.ts';
import { readConfig } from '../../src/config.ts';
import { expectError } from '../support/api-errors.ts';
import { appOver, createHarness, silentLogger, type Harness } from '../support/harness.ts';
import { runCli } from '../support/run-cli.ts';

const opened = (title = 'A story') => ({
  type: 'story.opened',
  data: { title, timeZone: 'Europe/Moscow' },
});

describe('tokens and limits', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());

  const request = (
    app: { request: Harness['app']['request'] },
    method: string,
    path: string,
    token: string | null,
    body?: unknown,
  ) =>
    Promise.resolve(
      app.request(path, {
        method,
        headers: {
          ...(token === null ? {} : { Authorization: `Bearer ${token}` }),
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    );

  describe('the admin scope', () => {
    let admin: string;
    beforeAll(async () => {
      admin = await h.storyline.tokens.create('chief', undefined, 'admin');
    });

    it('is needed to list, create or revoke tokens', async () => {
      for (const [method, path, body] of [
        ['GET', '/v1/tokens', undefined],
        ['POST', '/v1/tokens', { name: 'sneaky' }],
        ['DELETE', '/v1/tokens/test%20desk', undefined],
      ] as const) {
        await expectError(request(h.app, method, path, null, body), 401, 'unauthorized');
        await expectError(request(h.app, method, path, 'sl_unknown', body), 401, 'unauthorized');
        const error = await expectError(
          request(h.app, method, path, h.token, body),
          403,
          'forbidden',
        );
        expect(error.message).toContain('--admin');
      }
      // The publish token was not revoked by its own attempt.
      expect((await h.append('still-publishing', { events: [opened()] })).status).toBe(201);
    });

    it('creates a token once, lists tokens without them, and revokes by name', async () => {
      const created = await request(h.app, 'POST', '/v1/tokens', admin, {
        name: 'web desk',
        stories: ['web-story'],
      });
      expect(created.status).toBe(201);
      expect(created.headers.get('Cache-Control')).toBe('no-store');
      const { token, ...rest } = (await created.json()) as { token: string };
      expect(rest).toEqual({ name: 'web desk', scope: 'publish', stories: ['web-story'] });
      expect(token).toMatch(/^sl_[A-Za-z0-9_-]{43}$/);

      expect((await h.append('web-story', { events: [opened()] }, { token })).status).toBe(201);

      const listed = await request(h.app, 'GET', '/v1/tokens', admin);
      const text = await listed.text();
      expect(listed.status, text).toBe(200);
      expect(text).not.toContain(token);
      expect(text).not.toContain(admin);
      const { tokens } = JSON.parse(text) as { tokens: Record<string, unknown>[] };
      expect(tokens.find((info) => info.name === 'web desk')).toEqual({
        name: 'web desk',
        scope: 'publish',
        stories: ['web-story'],
        createdAt: expect.stringMatching(/Z$/),
        revokedAt: null,
      });
      expect(tokens.find((info) => info.name === 'chief')).toMatchObject({ scope: 'admin' });

      const revoked = await request(h.app, 'DELETE', '/v1/tokens/web%20desk', admin);
      expect(await revoked.json()).toEqual({ name: 'web desk', revoked: 1 });
      await expectError(
        h.append(
          'web-story',
          { events: [{ type: 'story.status_changed', data: { status: 'paused' } }] },
          { token },
        ),
        401,
        'unauthorized',
      );
    });

    it('refuses bad token requests with 400', async () => {
      await expectError(
        request(h.app, 'POST', '/v1/tokens', admin, { name: '' }),
        400,
        'invalid_request',
      );
      await expectError(
        request(h.app, 'POST', '/v1/tokens', admin, { name: 'x', scope: 'root' }),
        400,
        'invalid_request',
      );
      await expectError(
        request(h.app, 'POST', '/v1/tokens', admin, { name: 'x', stories: ['Bad_ID'] }),
        400,
        'invalid_request',
      );
      await expectError(request(h.app, 'DELETE', '/v1/tokens/%00', admin), 400, 'invalid_request');
    });

    it('may create admin tokens, and publish', async () => {
      const created = await request(h.app, 'POST', '/v1/tokens', admin, {
        name: 'deputy',
        scope: 'admin',
      });
      const { token } = (await created.json()) as { token: string };
      expect((await request(h.app, 'GET', '/v1/tokens', token)).status).toBe(200);
      expect((await h.append('admin-story', { events: [opened()] }, { token: admin })).status).toBe(
        201,
      );
    });
  });

  describe('rate limits', () => {
    const limitedApp = (rateLimits: Parameters<typeof createHttpApp>[0]['rateLimits']) =>
      appOver(h, rateLimits === undefined ? {} : { rateLimits });
    const appendTo = (app: ReturnType<typeof limitedApp>, storyId: string, token: string) =>
      request(app, 'POST', `/v1/stories/${storyId}/events`, token, { events: [opened()] });

    it('answers appends past a token’s burst with 429 and Retry-After', async () => {
      const app = limitedApp({ perToken: { perSecond: 0.001, burst: 3 }, perAddress: null });
      for (let index = 0; index < 3; index += 1) {
        expect((await appendTo(app, `rate-token-${index}`, h.token)).status).toBe(201);
      }
      const res = await appendTo(app, 'rate-token-3', h.token);
      const retryAfter = Number(res.headers.get('Retry-After'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      const error = await expectError(res, 429, 'rate_limited');
      expect(error.retryAfter).toBe(retryAfter);
      expect((await h.getJson('/v1/stories/rate-token-3')).status).toBe(404);

      // Another token has a bucket of its own.
      const other = await h.storyline.tokens.create('other desk');
      expect((await appendTo(app, 'rate-token-4', other)).status).toBe(201);
    });

    it('limits an address before its token is even checked', async () => {
      const app = limitedApp({ perToken: null, perAddress: { perSecond: 0.001, burst: 2 } });
      await expectError(appendTo(app, 'rate-address', 'sl_guess1'), 401, 'unauthorized');
      await expectError(appendTo(app, 'rate-address', 'sl_guess2'), 401, 'unauthorized');
      await expectError(appendTo(app, 'rate-address', 'sl_guess3'), 429, 'rate_limited');
      await expectError(appendTo(app, 'rate-address', h.token), 429, 'rate_limited');
    });

    it('are configured from the environment, with defaults no newsroom reaches', () => {
      expect(readConfig({}).appendLimits).toEqual({
        perToken: { perSecond: 5000, burst: 10_000 },
        perAddress: { perSecond: 10_000, burst: 20_000 },
      });
      expect(
        readConfig({
          STORYLINE_APPEND_RATE_PER_TOKEN: '5',
          STORYLINE_APPEND_BURST_PER_TOKEN: '10',
          STORYLINE_APPEND_RATE_PER_ADDRESS: '0',
        }).appendLimits,
      ).toEqual({ perToken: { perSecond: 5, burst: 10 }, perAddress: null });
      expect(() => readConfig({ STORYLINE_APPEND_BURST_PER_TOKEN: '0' })).toThrow(
        /STORYLINE_APPEND_BURST_PER_TOKEN/,
      );
    });
  });

  describe('the metrics token', () => {
    const metricsToken = 'metrics-token-0123456789';
    const app = () =>
      createHttpApp({
        appender: h.storyline.appender,
        queries: h.storyline.queries,
        tokens: h.storyline.tokens,
        logger: silentLogger,
        bodyLimit: 1024,
        metrics: new StorylineMetrics(),
        metricsToken,
      });

    it('is required by /metrics when configured', async () => {
      const metrics = app();
      const none = await request(metrics, 'GET', '/metrics', null);
      expect(none.headers.get('WWW-Authenticate')).toBe('Bearer realm="storyline"');
      await expectError(none, 401, 'unauthorized');
      await expectError(request(metrics, 'GET', '/metrics', 'wrong'), 401, 'unauthorized');
      await expectError(request(metrics, 'GET', '/metrics', h.token), 401, 'unauthorized');
      const res = await request(metrics, 'GET', '/metrics', metricsToken);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('# HELP');
    });

    it('is read from the environment, and must be long enough to be a secret', () => {
      expect(readConfig({}).metricsToken).toBeUndefined();
      expect(readConfig({ STORYLINE_METRICS_TOKEN: metricsToken }).metricsToken).toBe(metricsToken);
      expect(() => readConfig({ STORYLINE_METRICS_TOKEN: 'short' })).toThrow(
        /STORYLINE_METRICS_TOKEN/,
      );
    });
  });

  describe('storyline tokens list', () => {
    it('lists name, scope, stories, created and revoked, never a token', async () => {
      const env = { DATABASE_URL: h.database.url };
      const admin = await runCli(['tokens', 'create', 'list admin', '--admin'], env);
      expect(admin.code, admin.stderr).toBe(0);
      const limited = await runCli(
        ['tokens', 'create', 'list desk', '--story', 'a', '--story', 'b'],
        env,
      );
      expect(limited.code, limited.stderr).toBe(0);
      expect((await runCli(['tokens', 'revoke', 'list desk'], env)).code).toBe(0);

      const listed = await runCli(['tokens', 'list'], env);
      expect(listed.code, listed.stderr).toBe(0);
      const lines = listed.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^NAME\s+SCOPE\s+STORIES\s+CREATED\s+REVOKED$/);
      const row = (name: string) => lines.find((line) => line.startsWith(`${name} `)) ?? '';
      expect(row('list admin')).toMatch(/^list admin\s+admin\s+\*\s+\d{4}-\d\d-\d\dT\S+Z\s+-$/);
      expect(row('list desk')).toMatch(/^list desk\s+publish\s+a,b\s+\S+Z\s+\S+Z$/);
      expect(listed.stdout).not.toContain(admin.stdout.trim());
      expect(listed.stdout).not.toContain(limited.stdout.trim());
      expect(listed.stdout).not.toMatch(/sl_/);

      // The admin token the CLI made manages tokens over HTTP.
      const res = await request(h.app, 'GET', '/v1/tokens', admin.stdout.trim());
      expect(res.status).toBe(200);
    });
  });
});

describe('logs', () => {
  it('never show a token, an Authorization header or the database password', async () => {
    const h = await createHarness();
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ logLevel: 'trace' }, destination);
    const password = 'hunter2-not-a-real-password';
    const url = new URL(h.database.url);
    if (url.password === '') url.password = password;
    // The embedded server's password is the word "storyline", which every log line carries as
    // the service's name: look for it where it would be a password, in a connection string.
    const secrets = [password, `:${url.password}@`, h.token];
    if (!'storyline'.includes(url.password)) secrets.push(url.password);

    const storyline = await openStoryline(
      { databaseUrl: url.toString(), dataDir: '/nonexistent', poolSize: 4 },
      logger,
    );
    const metricsToken = 'metrics-token-0123456789';
    const server = await startHttpServer(
      storyline,
      {
        host: '127.0.0.1',
        port: 0,
        bodyLimit: 1024 * 1024,
        live: readConfig({}).live,
        metricsToken,
        appendLimits: { perToken: { perSecond: 0.001, burst: 2 }, perAddress: null },
      },
      logger,
    );
    try {
      const admin = await storyline.tokens.create('log admin', undefined, 'admin');
      secrets.push(admin, metricsToken);
      const call = async (method: string, path: string, token: string, body?: unknown) => {
        const res = await fetch(`${server.url}${path}`, {
          method,
          headers: {
            Authorization: `Bearer ${token}`,
            Cookie: `session=${token}`,
            ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return { status: res.status, text: await res.text() };
      };
      const append = { events: [opened()] };
      expect((await call('POST', '/v1/stories/logged/events', h.token, append)).status).toBe(201);
      expect(
        (await call('POST', '/v1/stories/logged/events', 'sl_wrong-token', append)).status,
      ).toBe(401);
      expect((await call('POST', '/v1/stories/logged/events', h.token, '{')).status).toBe(400);
      expect((await call('POST', '/v1/stories/logged/events', h.token, append)).status).toBe(429);
      const created = await call('POST', '/v1/tokens', admin, { name: 'logged desk' });
      expect(created.status).toBe(201);
      secrets.push((JSON.parse(created.text) as { token: string }).token);
      expect((await call('GET', '/v1/tokens', admin)).status).toBe(200);
      expect((await call('GET', '/metrics', metricsToken)).status).toBe(200);
      expect((await call('GET', '/metrics', 'wrong-metrics-token')).status).toBe(401);
      // Should anything log a request's headers, they are redacted.
      logger.info(
        { req: { headers: { authorization: `Bearer ${h.token}`, cookie: h.token } } },
        'headers',
      );
      logger.info({ config: { connectionString: url.toString(), password } }, 'config');
    } finally {
      await server.close();
      await storyline.close();
      await h.close();
    }

    const output = lines.join('');
    expect(output).toContain('"msg":"request"');
    expect(output).toContain('[redacted]');
    for (const secret of secrets) expect(output).not.toContain(secret);
    expect(output).not.toMatch(/Bearer /);
  });
});
