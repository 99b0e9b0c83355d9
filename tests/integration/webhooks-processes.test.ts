/**
 * Webhooks with several `storyline serve` processes on one database: one of them delivers at a
 * time, so with the receiver up every event arrives exactly once; when the delivering process is
 * killed mid-request another takes over from the durable cursor (the interrupted event arrives
 * again, nothing is skipped or reordered); a graceful restart mid-stream skips nothing either.
 */
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { deliveryLockKey } from '../../src/adapters/webhooks/postgres-delivery-lease.ts';
import { createWebhookRegistry } from '../../src/adapters/webhooks/webhook-service.ts';
import { openStoryline, type Storyline } from '../../src/composition.ts';
import { silentLogger } from '../support/harness.ts';
import { development, opened } from '../support/live-server.ts';
import { exitOf, startServe, stopRunning } from '../support/run-cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { WebhookReceiver, type Received } from '../support/webhook-receiver.ts';

const eventually = { timeout: 60_000, interval: 50 };

describe('webhooks with several server processes', () => {
  let database: TestDatabase;
  let storyline: Storyline;
  let token: string;
  const receiver = new WebhookReceiver();
  const children: ChildProcess[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase();
    storyline = await openStoryline(
      { databaseUrl: database.url, dataDir: '/nonexistent', poolSize: 2 },
      silentLogger,
    );
    token = await storyline.tokens.create('desk');
    await receiver.start();
    env = {
      DATABASE_URL: database.url,
      PORT: '0',
      STORYLINE_SEED: 'off',
      STORYLINE_WEBHOOK_ALLOW_HTTP: 'true',
      STORYLINE_WEBHOOK_ALLOW_PRIVATE: 'true',
      STORYLINE_WEBHOOK_RETRY_BASE_MS: '20',
      STORYLINE_WEBHOOK_RETRY_MAX_MS: '200',
    };
  });
  afterAll(async () => {
    await stopRunning(children, 'SIGKILL');
    await receiver.stop();
    await storyline.close();
    await database.drop();
  });

  async function serve(): Promise<{ child: ChildProcess; url: string }> {
    const started = await startServe(env);
    children.push(started.child);
    return started;
  }

  /** Whether some session holds the delivery lock in this test's database. */
  async function lockHeld(): Promise<boolean> {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ held: boolean }>(
        `select exists (
           select 1 from pg_locks
           where locktype = 'advisory' and granted and classid = 0 and objid = $1
             and database = (select oid from pg_database where datname = current_database())
         ) as held`,
        [deliveryLockKey],
      );
      return rows[0]?.held === true;
    } finally {
      await client.end();
    }
  }

  async function append(url: string, events: unknown[]): Promise<number[]> {
    const response = await fetch(`${url}/v1/stories/relay/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ events }),
    });
    if (response.status !== 201) throw new Error(`append: ${response.status}`);
    return ((await response.json()) as { positions: number[] }).positions;
  }

  /** Holds back the answer to the first event after `position`; says when it has arrived. */
  function holdFirstAfter(position: number): {
    readonly arrived: Promise<Received>;
    release(): void;
  } {
    let release: () => void = () => undefined;
    const arrived = new Promise<Received>((resolve) => {
      receiver.hold = (received) => {
        if (received.position <= position) return undefined;
        receiver.hold = null;
        resolve(received);
        return new Promise<void>((settle) => (release = settle));
      };
    });
    return { arrived, release: () => release() };
  }

  it('delivers each event from one process only, and survives its death and a restart', async () => {
    // A starts first and takes the delivery lock; B starts once A holds it.
    const a = await serve();
    await vi.waitFor(async () => expect(await lockHeld()).toBe(true), eventually);
    const b = await serve();

    const registry = createWebhookRegistry(storyline.connection, storyline.reader, {
      allowHttp: true,
      allowPrivate: true,
    });
    const { secret } = await registry.add({ url: receiver.url() });
    receiver.secret = secret;

    // Both up, the receiver up: every event exactly once, whichever process appended it.
    const positions = await append(a.url, [opened('Relay')]);
    for (let index = 0; index < 10; index += 1) {
      positions.push(...(await append(index % 2 === 0 ? b.url : a.url, [development()])));
    }
    await vi.waitFor(() => expect(receiver.received).toHaveLength(11), eventually);
    expect(receiver.deduplicated()).toHaveLength(11);

    // The delivering process (A) dies in the middle of a request: B takes over from the cursor,
    // and the event whose answer A never saw arrives again.
    const interrupted = holdFirstAfter(positions.at(-1) as number);
    for (let index = 0; index < 5; index += 1) {
      positions.push(...(await append(b.url, [development()])));
    }
    const held = await interrupted.arrived;
    a.child.kill('SIGKILL');
    await exitOf(a.child);
    interrupted.release();
    await vi.waitFor(() => expect(receiver.deduplicated()).toHaveLength(16), eventually);
    expect(receiver.received.filter((item) => item.id === held.id)).toHaveLength(2);

    // B stops gracefully with a request in flight; C starts and carries on from the cursor.
    const stopped = holdFirstAfter(positions.at(-1) as number);
    for (let index = 0; index < 5; index += 1) {
      positions.push(...(await append(b.url, [development()])));
    }
    await stopped.arrived;
    b.child.kill('SIGTERM');
    expect(await exitOf(b.child)).toBe(0);
    stopped.release();
    const c = await serve();
    for (let index = 0; index < 3; index += 1) {
      positions.push(...(await append(c.url, [development()])));
    }
    await vi.waitFor(() => expect(receiver.deduplicated()).toHaveLength(24), eventually);

    expect(receiver.invalid).toEqual([]);
    expect(positions).toHaveLength(24);
    expect(receiver.deduplicated().map((item) => item.position)).toEqual(positions);
    // Duplicates only where a delivery was interrupted; never out of order.
    const raw = receiver.received.map((item) => item.position);
    expect(raw).toEqual([...raw].sort((x, y) => x - y));
    expect(raw.length - 24).toBeLessThanOrEqual(2);
    await vi.waitFor(async () => {
      const [endpoint] = await registry.list();
      expect(endpoint).toMatchObject({ lag: 0, state: 'active', failures: 0 });
    }, eventually);
  });
});
