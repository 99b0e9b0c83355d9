/**
 * Webhooks end to end: a real server delivers to a real receiver that verifies every signature
 * with the `standardwebhooks` package; the receiver goes down mid-stream and still ends with
 * every event, in order. Endpoints pause after repeated failures and show why; targets on
 * private addresses are refused at registration and, should DNS change, at delivery.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createWebhookRegistry } from '../../src/adapters/webhooks/webhook-service.ts';
import { startHttpServer, type RunningServer } from '../../src/composition.ts';
import { readConfig, type WebhookConfig } from '../../src/config.ts';
import { createHarness, silentLogger, type Harness } from '../support/harness.ts';
import { development, opened } from '../support/live-server.ts';
import { runCli } from '../support/run-cli.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';

const fast: WebhookConfig = {
  allowHttp: true,
  allowPrivate: true,
  maxFailures: 1000,
  timeoutMs: 5000,
  retryBaseMs: 20,
  retryMaxMs: 200,
};

const eventually = { timeout: 60_000, interval: 50 };

async function serve(h: Harness, webhooks: Partial<WebhookConfig> = {}): Promise<RunningServer> {
  return startHttpServer(
    h.storyline,
    {
      host: '127.0.0.1',
      port: 0,
      bodyLimit: 1024 * 1024,
      live: readConfig({}).live,
      webhooks: { ...fast, ...webhooks },
    },
    silentLogger,
  );
}

/**
 * For one describe block: a harness, a server over it with these webhook settings, and an admin
 * token, opened before the block's tests and closed after them.
 */
function webhookServer(webhooks: Partial<WebhookConfig> = {}) {
  const setup = {} as { h: Harness; server: RunningServer; admin: string };
  beforeAll(async () => {
    setup.h = await createHarness();
    setup.server = await serve(setup.h, webhooks);
    setup.admin = await setup.h.storyline.tokens.create('webhook admin', undefined, 'admin');
  });
  afterAll(async () => {
    await setup.server.close();
    await setup.h.close();
  });
  return setup;
}

function api(server: RunningServer, token: string) {
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  return {
    call,
    append: async (storyId: string, events: unknown[]) => {
      const { status, body } = await call('POST', `/v1/stories/${storyId}/events`, { events });
      if (status !== 201) throw new Error(`append: ${status} ${JSON.stringify(body)}`);
      return body.positions as number[];
    },
    webhook: async (id: string) => {
      const { body } = await call('GET', '/v1/webhooks');
      return (body.webhooks as any[]).find((webhook) => webhook.id === id);
    },
  };
}

describe('webhook delivery', () => {
  const setup = webhookServer();
  const receiver = new WebhookReceiver();
  beforeAll(() => receiver.start());
  afterAll(() => receiver.stop());

  it('delivers every event, signed, in order, through an outage of the receiver', async () => {
    const client = api(setup.server, setup.admin);
    const publisher = api(setup.server, setup.h.token);
    await publisher.append('outage', [opened('Before the webhook')]);
    const created = await client.call('POST', '/v1/webhooks', { url: receiver.url() });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(created.body.secret.slice(6), 'base64')).toHaveLength(24);
    expect(created.body).toMatchObject({ state: 'active', stories: null, failures: 0 });
    receiver.secret = created.body.secret;
    const id = created.body.id as string;

    // Up: the first stretch arrives.
    const positions: number[] = [];
    for (let index = 0; index < 10; index += 1) {
      positions.push(...(await publisher.append('outage', [development(), development()])));
    }
    await vi.waitFor(() => expect(receiver.deduplicated()).toHaveLength(20), eventually);

    // Down, answering 503: attempts fail, the cursor stays, the error shows.
    receiver.mode = 'unavailable';
    for (let index = 0; index < 5; index += 1) {
      positions.push(...(await publisher.append('outage', [development()])));
    }
    await vi.waitFor(async () => {
      expect(receiver.unavailableAnswers).toBeGreaterThanOrEqual(3);
      expect((await client.webhook(id)).lastError).toBe('HTTP 503: down for maintenance');
    }, eventually);

    // Down, not listening: connection refused.
    await receiver.stop();
    for (let index = 0; index < 5; index += 1) {
      positions.push(...(await publisher.append('outage', [development()])));
    }
    await vi.waitFor(async () => {
      expect((await client.webhook(id)).lastError).toMatch(/ECONNREFUSED/);
    }, eventually);
    const during = await client.webhook(id);
    expect(during.state).toBe('active');
    expect(during.failures).toBeGreaterThanOrEqual(1);
    expect(during.lag).toBeGreaterThanOrEqual(10);

    // Back: everything, in order.
    receiver.mode = 'up';
    await receiver.start();
    for (let index = 0; index < 5; index += 1) {
      positions.push(...(await publisher.append('outage', [development()])));
    }
    expect(positions).toHaveLength(35);
    await vi.waitFor(() => expect(receiver.deduplicated()).toHaveLength(35), eventually);

    expect(receiver.invalid).toEqual([]);
    const arrived = receiver.deduplicated();
    expect(arrived.map((item) => item.position)).toEqual(positions);
    // Retries repeat an event; nothing ever comes out of order.
    const raw = receiver.received.map((item) => item.position);
    expect(raw).toEqual([...raw].sort((a, b) => a - b));
    // The envelope is the log's, as GET /v1/events serves it, and webhook-id is the event id.
    const log = await setup.h.getJson(`/v1/events?after=${(positions[0] as number) - 1}&limit=100`);
    expect(arrived.map((item) => item.envelope)).toEqual(log.body.events);
    expect(arrived.map((item) => item.id)).toEqual(log.body.events.map((event: any) => event.id));

    await vi.waitFor(async () => {
      expect(await client.webhook(id)).toMatchObject({ lag: 0, failures: 0, state: 'active' });
    }, eventually);
    const metrics = await (await fetch(`${setup.server.url}/metrics`)).text();
    expect(metrics).toContain(`storyline_webhook_deliveries_total{webhook="${id}"} 35`);
    expect(metrics).toMatch(
      new RegExp(`storyline_webhook_failures_total\\{webhook="${id}"\\} [1-9]`),
    );
    expect(metrics).toContain(`storyline_webhook_lag_events{webhook="${id}"} 0`);
  });

  it('sends only the events of the stories an endpoint asked for, and from a chosen position', async () => {
    const client = api(setup.server, setup.admin);
    const publisher = api(setup.server, setup.h.token);
    const chosen = new WebhookReceiver();
    await chosen.start();
    try {
      const [first] = await publisher.append('chosen', [opened('Chosen')]);
      await publisher.append('ignored', [opened('Ignored')]);
      const created = await client.call('POST', '/v1/webhooks', {
        url: chosen.url(),
        stories: ['chosen'],
        after: (first as number) - 1,
      });
      expect(created.status).toBe(201);
      chosen.secret = created.body.secret;
      const later = await publisher.append('chosen', [development()]);
      await publisher.append('ignored', [development()]);
      await vi.waitFor(() => expect(chosen.received).toHaveLength(2), eventually);
      expect(chosen.received.map((item) => item.position)).toEqual([first, ...later]);
      // The cursor passes over the other story's events: nothing is left to send.
      await vi.waitFor(async () => {
        expect((await client.webhook(created.body.id)).lag).toBe(0);
      }, eventually);
      expect(chosen.received.every((item) => item.envelope['storyId'] === 'chosen')).toBe(true);
      expect((await client.call('DELETE', `/v1/webhooks/${created.body.id}`)).status).toBe(200);
    } finally {
      await chosen.stop();
    }
  });
});

describe('a failing endpoint', () => {
  const setup = webhookServer({ maxFailures: 3 });
  const receiver = new WebhookReceiver();
  beforeAll(() => receiver.start());
  afterAll(() => receiver.stop());

  it('is paused after the configured failures, shows its last error, and resumes from its cursor', async () => {
    const client = api(setup.server, setup.admin);
    const publisher = api(setup.server, setup.h.token);
    receiver.mode = 'unavailable';
    const created = await client.call('POST', '/v1/webhooks', { url: receiver.url() });
    receiver.secret = created.body.secret;
    const id = created.body.id as string;
    const positions = await publisher.append('paused', [opened('Paused'), development()]);

    await vi.waitFor(async () => {
      expect(await client.webhook(id)).toMatchObject({
        state: 'paused',
        failures: 3,
        lastError: 'HTTP 503: down for maintenance',
        lag: 2,
      });
    }, eventually);
    expect(receiver.unavailableAnswers).toBe(3);

    const listed = await runCli(['webhooks', 'list'], { DATABASE_URL: setup.h.database.url });
    expect(listed.code).toBe(0);
    const row = listed.stdout.split('\n').find((line) => line.startsWith(id)) ?? '';
    expect(row).toMatch(/\bpaused\b/);
    expect(row).toContain('HTTP 503: down for maintenance');
    expect(listed.stdout.split('\n')[0]).toMatch(
      /^ID +URL +STORIES +STATE +CURSOR +LAG +FAILURES +LAST ERROR$/,
    );

    receiver.mode = 'up';
    const resumed = await client.call('POST', `/v1/webhooks/${id}/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ state: 'active', failures: 0 });
    await vi.waitFor(() => expect(receiver.received).toHaveLength(2), eventually);
    expect(receiver.received.map((item) => item.position)).toEqual(positions);
    expect(receiver.invalid).toEqual([]);
  });

  it('answers 404 webhook_not_found for an id it does not know', async () => {
    const client = api(setup.server, setup.admin);
    const removed = await client.call('DELETE', '/v1/webhooks/wh_nothing');
    expect(removed.status).toBe(404);
    expect(removed.body.error.code).toBe('webhook_not_found');
    const resumed = await client.call('POST', '/v1/webhooks/not-an-id/resume');
    expect(resumed.status).toBe(404);
  });
});

describe('webhook targets (SSRF)', () => {
  // As in production: https only, public addresses only.
  const setup = webhookServer({ allowHttp: false, allowPrivate: false });
  const receiver = new WebhookReceiver();
  beforeAll(() => receiver.start());
  afterEach(() => {
    receiver.received.length = 0;
  });
  afterAll(() => receiver.stop());

  it.each([
    ['https://127.0.0.1/hooks', /loopback/],
    ['https://localhost:8443/hooks', /localhost resolves to .*loopback/],
    ['https://10.0.0.8/hooks', /private/],
    ['https://169.254.169.254/latest/meta-data', /link-local/],
    ['https://[::1]/hooks', /loopback/],
    ['https://[::ffff:127.0.0.1]/hooks', /loopback/],
    ['https://[fd00::1]/hooks', /unique-local/],
    ['https://[ff02::1]/hooks', /multicast/],
    ['https://0.0.0.0/hooks', /unspecified/],
    ['https://2130706433/hooks', /loopback/],
    ['http://93.184.215.14/hooks', /STORYLINE_WEBHOOK_ALLOW_HTTP/],
    ['ftp://example.com/hooks', /https/],
    ['https://user:secret@example.com/hooks', /user name or password/],
    ['not a url', /absolute URL/],
  ])('refuses %s at registration with 400 webhook_target_refused', async (url, message) => {
    const refused = await api(setup.server, setup.admin).call('POST', '/v1/webhooks', { url });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('webhook_target_refused');
    expect(refused.body.error.message).toMatch(message);
    expect(refused.body.error.requestId).toEqual(expect.any(String));
  });

  it('lets only admin tokens manage webhooks', async () => {
    const asPublisher = await api(setup.server, setup.h.token).call('GET', '/v1/webhooks');
    expect(asPublisher.status).toBe(403);
    const anonymous = await fetch(`${setup.server.url}/v1/webhooks`);
    expect(anonymous.status).toBe(401);
    const bad = await api(setup.server, setup.admin).call('POST', '/v1/webhooks', {
      url: 'https://example.com/',
      stories: ['Not An Id'],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
  });

  it('refuses at delivery a target that has come to resolve to a private address', async () => {
    // Registered while its name resolved to a public address (stood in for by a registry that
    // allowed it); by delivery time the name points at this machine.
    const registry = createWebhookRegistry(setup.h.storyline.connection, setup.h.storyline.reader, {
      allowHttp: true,
      allowPrivate: true,
    });
    const byName = await registry.add({ url: `https://localhost:${receiver.port}/hooks` });
    const byAddress = await registry.add({ url: `https://127.0.0.1:${receiver.port}/hooks` });
    setup.server.webhooks.delivery.refresh();
    await api(setup.server, setup.h.token).append('rebinding', [opened('Rebinding')]);
    const client = api(setup.server, setup.admin);
    await vi.waitFor(async () => {
      expect((await client.webhook(byName.endpoint.id)).lastError).toMatch(
        /^refused: localhost resolves to (127\.0\.0\.1|::1), which is a loopback address/,
      );
      expect((await client.webhook(byAddress.endpoint.id)).lastError).toMatch(
        /^refused: 127\.0\.0\.1 is a loopback address/,
      );
    }, eventually);
    expect(receiver.received).toEqual([]);
    expect(receiver.invalid).toEqual([]);
  });
});

describe('storyline webhooks (the command)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('adds (printing only the secret), lists and removes endpoints', async () => {
    const env = { DATABASE_URL: h.database.url };
    const added = await runCli(
      ['webhooks', 'add', 'https://93.184.215.14/hooks', '--story', 'a', '--story', 'b'],
      env,
    );
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/^whsec_[A-Za-z0-9+/]{32}\n$/);
    const id = /webhook (wh_\S+) registered/.exec(added.stderr)?.[1] as string;
    expect(id).toBeDefined();

    const listed = await runCli(['webhooks', 'list'], env);
    expect(listed.stdout).toMatch(
      new RegExp(`^${id} +https://93\\.184\\.215\\.14/hooks +a,b +active +0 +0 +0 +-$`, 'm'),
    );
    expect(listed.stdout).not.toContain('whsec_');

    const refused = await runCli(['webhooks', 'add', 'https://192.168.0.10/'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('webhook_target_refused');
    const allowed = await runCli(['webhooks', 'add', 'http://192.168.0.10/'], {
      ...env,
      STORYLINE_WEBHOOK_ALLOW_HTTP: 'true',
      STORYLINE_WEBHOOK_ALLOW_PRIVATE: 'true',
    });
    expect(allowed.code).toBe(0);

    expect((await runCli(['webhooks', 'remove', id], env)).code).toBe(0);
    const gone = await runCli(['webhooks', 'remove', id], env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('webhook_not_found');
    expect((await runCli(['webhooks', 'list'], env)).stdout).not.toContain(id);
  });
});

describe('an endpoint that does not answer in time', () => {
  const setup = webhookServer({ timeoutMs: 300, maxFailures: 2 });
  const silent = http.createServer(() => undefined);
  beforeAll(async () => {
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('gives up each attempt at the deadline, and pauses it with that as its error', async () => {
    const client = api(setup.server, setup.admin);
    const { port } = silent.address() as AddressInfo;
    const created = await client.call('POST', '/v1/webhooks', {
      url: `http://127.0.0.1:${port}/hooks`,
    });
    await api(setup.server, setup.h.token).append('silent', [opened('Silent')]);
    await vi.waitFor(async () => {
      expect(await client.webhook(created.body.id)).toMatchObject({
        state: 'paused',
        failures: 2,
        lastError: 'no answer within 300 ms',
      });
    }, eventually);
  });
});
