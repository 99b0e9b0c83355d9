/**
 * The database goes away (the network to it is cut) and comes back. Appends and reads answer
 * 503 `unavailable` meanwhile, a retry with the same ids afterwards appends exactly once, and a
 * live subscriber gets everything committed during the outage once the feed can read again.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStoryline, type RunningServer, type Storyline } from '../../src/composition.ts';
import { silentLogger } from '../support/harness.ts';
import { LiveClient, until } from '../support/live-client.ts';
import { development, opened, serveOver } from '../support/live-server.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

describe('a database outage', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let storyline: Storyline;
  let server: RunningServer;
  let token: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const direct = new URL(database.url);
    proxy = await startTcpProxy(direct.hostname, Number(direct.port || 5432));
    const proxied = new URL(database.url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    ({ storyline, server } = await serveOver(proxied.toString(), {
      poolSize: 4,
      live: { pollIntervalMs: 200 },
    }));
    token = await storyline.tokens.create('outage desk');
  });

  afterAll(async () => {
    proxy.restore();
    await server.close();
    await storyline.close();
    await proxy.close();
    await database.drop();
  });

  const append = (events: unknown[]) =>
    fetch(`${server.url}/v1/stories/outage/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ events }),
    });

  it('answers 503 while the database is away, and a retry appends exactly once', async () => {
    expect((await append([{ ...opened('Outage'), id: randomUUID() }])).status).toBe(201);
    const client = await LiveClient.open(server.url, '?stories=outage&after=1');
    await until(() => client.of('subscribed').length === 1, 'the subscription');

    proxy.cut();
    const retried = { ...development('Written while the database was away'), id: randomUUID() };
    const during = await append([retried]);
    expect(during.status).toBe(503);
    expect(((await during.json()) as { error: { code: string } }).error.code).toBe('unavailable');
    expect((await fetch(`${server.url}/v1/stories/outage`)).status).toBe(503);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);

    // Meanwhile another writer, with its own path to the database, commits two events.
    const other = await openStoryline(
      { databaseUrl: database.url, dataDir: '/nonexistent', poolSize: 2 },
      silentLogger,
    );
    const elsewhere = await other.appender.append({
      storyId: 'outage',
      author: 'elsewhere',
      events: [development('Committed elsewhere 1'), development('Committed elsewhere 2')],
    });
    await other.close();

    proxy.restore();
    await until(async () => (await fetch(`${server.url}/readyz`)).status === 200, 'readiness');
    const first = await append([retried]);
    expect(first.status).toBe(201);
    const again = await append([retried]);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(
      await first
        .clone()
        .json()
        .catch(() => again.json()),
    );

    // The live subscriber missed nothing: the events written elsewhere, then the retried one.
    const { positions } = (await first.json()) as { positions: number[] };
    const expected = [...elsewhere.positions, ...positions];
    await until(
      () => client.eventPositions().length === expected.length,
      'the live events',
      30_000,
    );
    expect(client.eventPositions()).toEqual(expected);
    await client.close();
  });
});
