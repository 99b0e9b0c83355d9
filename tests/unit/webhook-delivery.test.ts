/**
 * The delivery worker on its own, over an in-memory log, store, lease and a scripted receiver:
 * order, retries, pausing, the lease, and the backoff's bounds. (The real network, database and
 * processes are in tests/integration/webhooks*.test.ts.)
 */
import { describe, expect, it, vi } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { retryDelayMs, WebhookDelivery } from '../../src/app/webhook-delivery.ts';
import type {
  DeliveryLease,
  NewWebhook,
  WebhookEndpoint,
  WebhookOutcome,
  WebhookRequest,
  WebhookStore,
  WebhookTarget,
} from '../../src/app/webhook-ports.ts';
import { newWebhookSecret, signWebhook } from '../../src/adapters/webhooks/webhook-signature.ts';
import { MemoryReader } from '../support/memory-reader.ts';

class MemoryWebhooks implements WebhookStore {
  readonly rows = new Map<string, WebhookTarget>();

  add(target: Partial<WebhookTarget> & { id: string }): void {
    this.rows.set(target.id, {
      url: 'https://receiver.example/hooks',
      secret: newWebhookSecret(),
      stories: null,
      state: 'active',
      cursor: 0,
      failures: 0,
      lastError: null,
      lastErrorAt: null,
      createdAt: '2026-01-01T00:00:00.000Z',
      ...target,
    });
  }

  create(_webhook: NewWebhook): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    throw new Error('not used');
  }
  list(): Promise<readonly WebhookEndpoint[]> {
    return Promise.resolve([...this.rows.values()]);
  }
  remove(id: string): Promise<boolean> {
    return Promise.resolve(this.rows.delete(id));
  }
  resume(id: string): Promise<WebhookEndpoint | null> {
    const row = this.rows.get(id);
    if (row === undefined) return Promise.resolve(null);
    this.rows.set(id, { ...row, state: 'active', failures: 0 });
    return Promise.resolve(this.rows.get(id) ?? null);
  }
  active(): Promise<readonly WebhookTarget[]> {
    return Promise.resolve([...this.rows.values()].filter((row) => row.state === 'active'));
  }
  advance(id: string, from: number, to: number): Promise<boolean> {
    const row = this.rows.get(id);
    if (row?.cursor !== from || row.state !== 'active') return Promise.resolve(false);
    this.rows.set(id, { ...row, cursor: to, failures: 0 });
    return Promise.resolve(true);
  }
  recordFailure(
    id: string,
    cursor: number,
    failure: { failures: number; error: string; pause: boolean },
  ): Promise<boolean> {
    const row = this.rows.get(id);
    if (row?.cursor !== cursor || row.state !== 'active') return Promise.resolve(false);
    this.rows.set(id, {
      ...row,
      failures: failure.failures,
      lastError: failure.error,
      lastErrorAt: new Date().toISOString(),
      state: failure.pause ? 'paused' : 'active',
    });
    return Promise.resolve(true);
  }
}

/** A receiver whose answers the test scripts: by default every request is a 204. */
class ScriptedSender {
  readonly requests: WebhookRequest[] = [];
  answer: (request: WebhookRequest) => WebhookOutcome = () => ({ delivered: true, status: 204 });

  send(request: WebhookRequest): Promise<WebhookOutcome> {
    this.requests.push(request);
    return Promise.resolve(this.answer(request));
  }
}

class SwitchLease implements DeliveryLease {
  free = true;
  lost: (() => void) | null = null;
  tryAcquire(onLost: () => void): Promise<boolean> {
    this.lost = onLost;
    return Promise.resolve(this.free);
  }
  release(): Promise<void> {
    return Promise.resolve();
  }
}

function setUp(options: { maxFailures?: number } = {}) {
  const reader = new MemoryReader();
  const store = new MemoryWebhooks();
  const sender = new ScriptedSender();
  const lease = new SwitchLease();
  const delivery = new WebhookDelivery(store, reader, sender, lease, {
    maxFailures: options.maxFailures ?? 5,
    retryBaseMs: 1,
    retryMaxMs: 4,
    syncIntervalMs: 10,
  });
  return { reader, store, sender, lease, delivery };
}

const eventually = { timeout: 10_000, interval: 5 };

describe('webhook delivery', () => {
  it('given events after the cursor, it sends them in order, once each, and moves the cursor', async () => {
    const { reader, store, sender, delivery } = setUp();
    reader.commit('a', 3);
    store.add({ id: 'wh_1', cursor: 1 });
    delivery.start();
    await vi.waitFor(() => expect(store.rows.get('wh_1')?.cursor).toBe(3), eventually);
    reader.commit('a', 2);
    delivery.wake();
    await vi.waitFor(() => expect(store.rows.get('wh_1')?.cursor).toBe(5), eventually);
    await delivery.close();
    expect(sender.requests.map((request) => request.messageId)).toEqual([
      'event-2',
      'event-3',
      'event-4',
      'event-5',
    ]);
    expect(JSON.parse(sender.requests[0]?.body ?? '')).toEqual(reader.events[1]);
  });

  it('given a failing receiver, it retries the same event until a 2xx, never the next one first', async () => {
    const { reader, store, sender, delivery } = setUp();
    reader.commit('a', 2);
    store.add({ id: 'wh_1' });
    let failures = 0;
    sender.answer = () =>
      failures++ < 3 ? { delivered: false, error: 'HTTP 503' } : { delivered: true, status: 200 };
    delivery.start();
    await vi.waitFor(() => expect(store.rows.get('wh_1')?.cursor).toBe(2), eventually);
    await delivery.close();
    expect(sender.requests.map((request) => request.messageId)).toEqual([
      'event-1',
      'event-1',
      'event-1',
      'event-1',
      'event-2',
    ]);
    expect(store.rows.get('wh_1')).toMatchObject({ failures: 0, lastError: 'HTTP 503' });
  });

  it('given max failures in a row, it pauses the endpoint with its last error and stops sending', async () => {
    const { reader, store, sender, delivery } = setUp({ maxFailures: 3 });
    reader.commit('a', 2);
    store.add({ id: 'wh_1' });
    let attempt = 0;
    sender.answer = () => ({ delivered: false, error: `refused ${++attempt}` });
    delivery.start();
    await vi.waitFor(() => expect(store.rows.get('wh_1')?.state).toBe('paused'), eventually);
    expect(store.rows.get('wh_1')).toMatchObject({
      cursor: 0,
      failures: 3,
      lastError: 'refused 3',
    });
    reader.commit('a');
    delivery.wake();
    delivery.refresh();
    await delivery.close();
    expect(sender.requests).toHaveLength(3);
  });

  it('given stories, it sends only theirs and passes over the rest up to the head', async () => {
    const { reader, store, sender, delivery } = setUp();
    reader.commit('a');
    reader.commit('b');
    reader.commit('a');
    reader.commit('b');
    store.add({ id: 'wh_1', stories: ['a'] });
    delivery.start();
    await vi.waitFor(() => expect(store.rows.get('wh_1')?.cursor).toBe(4), eventually);
    await delivery.close();
    expect(sender.requests.map((request) => request.messageId)).toEqual(['event-1', 'event-3']);
  });

  it('given the lease is held elsewhere, it sends nothing until it gets it, and stops when it is lost', async () => {
    const { reader, store, sender, lease, delivery } = setUp();
    lease.free = false;
    reader.commit('a');
    store.add({ id: 'wh_1' });
    delivery.start();
    await vi.waitFor(() => expect(lease.lost).not.toBeNull(), eventually);
    expect(delivery.leader).toBe(false);
    expect(sender.requests).toEqual([]);

    lease.free = true;
    await vi.waitFor(() => expect(store.rows.get('wh_1')?.cursor).toBe(1), eventually);
    expect(delivery.leader).toBe(true);

    lease.free = false;
    lease.lost?.();
    expect(delivery.leader).toBe(false);
    reader.commit('a');
    delivery.wake();
    await vi.waitFor(() => expect(delivery.leader).toBe(false), eventually);
    await delivery.close();
    expect(sender.requests).toHaveLength(1);
  });
});

describe('retry delays (full jitter over a capped exponential)', () => {
  const options = { retryBaseMs: 1000, retryMaxMs: 60_000 };
  it.each([
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [6, 32_000],
    [7, 60_000],
    [50, 60_000],
  ])('after %i failures, waits from 0 up to %i ms', (failures, ceiling) => {
    expect(retryDelayMs(failures, options, () => 0)).toBe(0);
    expect(retryDelayMs(failures, options, () => 0.5)).toBe(ceiling / 2);
    expect(retryDelayMs(failures, options, () => 0.999999)).toBe(Math.floor(ceiling * 0.999999));
  });
});

describe('signatures', () => {
  it('are the ones the standardwebhooks package makes and accepts', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const body = JSON.stringify({ position: 1, text: 'ünïcode' });
    const now = new Date();
    const timestamp = Math.floor(now.getTime() / 1000);
    const signature = signWebhook(secret, 'msg_1', timestamp, body);
    const reference = new Webhook(secret);
    expect(signature).toBe(reference.sign('msg_1', now, body));
    expect(
      reference.verify(body, {
        'webhook-id': 'msg_1',
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signature,
      }),
    ).toEqual({ position: 1, text: 'ünïcode' });
  });
});
