/**
 * The database cut (a loopback proxy drops the network to PostgreSQL) while a live client
 * subscribes: the subscription cannot be carried out, so the connection is closed with 1013 and
 * the cursor to resume from, not left open and dead; the SDK reconnects with backoff and, once
 * the database is back, resumes from its cursor with every event once.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribe, type LiveStatus } from '../../src/client/index.ts';
import { type RunningServer, type Storyline } from '../../src/composition.ts';
import type { RecordedEvent } from '../../src/domain/event-types.ts';
import { LiveClient, until } from '../support/live-client.ts';
import { development, opened, serveOver } from '../support/live-server.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

describe('a live subscription while the database is away', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let storyline: Storyline;
  let server: RunningServer;
  let token: string;
  let epoch: string;

  const append = async (storyId: string, events: unknown[]) => {
    const response = await fetch(`${server.url}/v1/stories/${storyId}/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({
        events: events.map((event) => ({ ...(event as object), id: randomUUID() })),
      }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { positions: number[] }).positions;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    const direct = new URL(database.url);
    proxy = await startTcpProxy(direct.hostname, Number(direct.port || 5432));
    const proxied = new URL(database.url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    ({ storyline, server } = await serveOver(proxied.toString(), {
      poolSize: 4,
      // A tail of one event: resuming from an older cursor needs the database.
      live: { pollIntervalMs: 200, tailSize: 1 },
    }));
    token = await storyline.tokens.create('outage desk');
    await append('outage', [opened('Outage'), development(), development(), development()]);
    epoch = (await storyline.reader.logInfo()).epoch;
  });

  afterAll(async () => {
    proxy.restore();
    await server.close();
    await storyline.close();
    await proxy.close();
    await database.drop();
  });

  it('closes the connection with 1013 and the cursor when the catch-up cannot be read', async () => {
    proxy.cut();
    try {
      const client = await LiveClient.open(server.url, `?stories=outage&after=2&epoch=${epoch}`);
      await until(() => client.closed !== null, 'the close');
      expect(client.of('subscribed')[0]).toMatchObject({ recovered: true });
      expect(client.closed).toEqual({ code: 1013, reason: 'try again later; resume with after=2' });
    } finally {
      proxy.restore();
    }
  });

  it('closes the connection with 1013 when the snapshot cannot be read', async () => {
    proxy.cut();
    try {
      const client = await LiveClient.open(server.url, '?stories=never-read-before');
      await until(() => client.closed !== null, 'the close');
      expect(client.closed?.code).toBe(1013);
      expect(client.closed?.reason).toMatch(/^try again later; resume with after=\d+$/);
    } finally {
      proxy.restore();
    }
  });

  it('the SDK backs off and reconnects, and resumes from its cursor once the database is back', async () => {
    const statuses: LiveStatus[] = [];
    const events: RecordedEvent[] = [];
    const closes: number[] = [];
    class RecordingWebSocket extends WebSocket {
      constructor(url: string) {
        super(url);
        this.on('close', (code) => closes.push(code));
      }
    }
    proxy.cut();
    const subscription = subscribe(server.url, {
      stories: ['outage'],
      after: 2,
      epoch,
      WebSocket: RecordingWebSocket,
      backoff: { minMs: 10, maxMs: 200 },
      onStatus: (status) => statuses.push(status),
      onEvent: (event) => events.push(event),
    });
    try {
      await until(() => closes.filter((code) => code === 1013).length >= 2, 'closes with 1013');
      expect(events).toEqual([]);

      proxy.restore();
      await until(() => events.length === 2, 'the events missed');
      const [later] = await append('outage', [development()]);
      await until(() => events.length === 3, 'a live event');

      expect(events.map((event) => event.position)).toEqual([3, 4, later]);
      expect(statuses).toContain('recovering');
      expect(subscription.position).toBe(later);
    } finally {
      subscription.close();
      proxy.restore();
    }
  });
});
