/**
 * The log's epoch rotated under a running server (the last step of restoring a backup, as the
 * README's procedure says): live clients are closed (1012) instead of being left on a feed that
 * follows positions of another log, and the SDK comes back with `recovered: false` and fresh
 * snapshots.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribe, type StatusDetail } from '../../src/client/index.ts';
import { LiveClient, until } from '../support/live-client.ts';
import { development, opened, startLiveServer, type LiveServer } from '../support/live-server.ts';

describe('a log replaced under a running server', () => {
  let live: LiveServer;
  beforeAll(async () => {
    live = await startLiveServer({ pollIntervalMs: 100 });
    await live.post('restored', [opened('Restored'), development()]);
  });
  afterAll(() => live.close());

  it('ends every live session; clients come back to fresh snapshots', async () => {
    const { body } = await live.h.getJson('/v1/events?limit=1');
    const oldEpoch = body.epoch as string;
    const client = await LiveClient.open(live.url, `?stories=restored&after=0&epoch=${oldEpoch}`);
    await until(() => client.of('event').length === 2, 'the catch-up');
    const lives: StatusDetail[] = [];
    const snapshots: number[] = [];
    const subscription = subscribe(live.url, {
      stories: ['restored'],
      WebSocket,
      backoff: { minMs: 10, maxMs: 100 },
      onStatus: (status, detail) => {
        if (status === 'live') lives.push(detail);
      },
      onSnapshot: (_storyId, _state, position) => snapshots.push(position),
    });
    try {
      await until(() => snapshots.length === 1, 'the first snapshot');

      await live.h.storyline.connection.pool.query(
        'update log_meta set log_epoch = gen_random_uuid()',
      );
      await until(() => client.closed !== null, 'the close');
      expect(client.closed).toEqual({ code: 1012, reason: 'log replaced; resume with after=2' });
      await until(() => lives.length === 2, 'the SDK back');
      expect(lives[1]).toMatchObject({ recovered: false });

      const resumed = await LiveClient.open(
        live.url,
        `?stories=restored&after=2&epoch=${oldEpoch}`,
      );
      await until(() => resumed.of('snapshot').length === 1, 'a fresh snapshot');
      const subscribed = resumed.of('subscribed')[0];
      expect(subscribed).toMatchObject({ recovered: false });
      expect(subscribed?.epoch).not.toBe(oldEpoch);

      const { positions } = await live.post('restored', [development()]);
      await until(() => resumed.of('event').length === 1, 'a live event');
      expect(resumed.eventPositions()).toEqual(positions);
      await until(() => subscription.position === positions[0], 'the SDK to apply it');
      await resumed.close();
    } finally {
      subscription.close();
    }
  });
});
