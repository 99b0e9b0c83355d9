/**
 * Server-Sent Events resume exactly with Last-Event-ID; and the LISTEN connection can die
 * mid-stream without losing an event.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenerApplicationName } from '../../src/adapters/postgres/postgres-listener.ts';
import { openStoryline, type Storyline } from '../../src/composition.ts';
import { silentLogger } from '../support/harness.ts';
import { LiveClient, until } from '../support/live-client.ts';
import { openEventStream } from '../support/sse-stream.ts';
import { development, opened, startLiveServer, type LiveServer } from '../support/live-server.ts';

describe('Server-Sent Events', () => {
  let live: LiveServer;
  beforeAll(async () => {
    live = await startLiveServer();
    await live.post('sse-story', [opened('SSE')]);
  });
  afterAll(() => live.close());

  it('sends a snapshot, then events with their position as id, and resumes with Last-Event-ID', async () => {
    const streamUrl = `${live.url}/v1/stories/sse-story/live`;
    const first = openEventStream(streamUrl);
    await until(() => first.messages.some((message) => message.event === 'snapshot'), 'snapshot');
    const snapshot = first.messages.find((message) => message.event === 'snapshot');
    expect(snapshot?.id).toBe('1');

    const early = await live.post('sse-story', [development(), development(), development()]);
    await until(() => first.of('event').length === 3, 'three events');
    expect(first.of('event').map((message) => Number(message.id))).toEqual(early.positions);
    const lastId = first.of('event').at(-1)?.id ?? '';
    await first.close();

    const missed = await live.post('sse-story', [development(), development()]);
    const resumed = openEventStream(streamUrl, { 'Last-Event-ID': lastId });
    await until(() => resumed.of('event').length === 2, 'the missed events');
    const more = await live.post('sse-story', [development()]);
    await until(() => resumed.of('event').length === 3, 'a live event');
    expect(resumed.of('event').map((message) => message.data.position)).toEqual([
      ...missed.positions,
      ...more.positions,
    ]);
    expect(resumed.messages.some((message) => message.event === 'snapshot')).toBe(false);
    await resumed.close();
  });

  it('answers an unknown story with 404 and a bad Last-Event-ID with 400', async () => {
    const unknown = await fetch(`${live.url}/v1/stories/nope/live`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe(
      'story_not_found',
    );
    const bad = await fetch(`${live.url}/v1/stories/sse-story/live`, {
      headers: { 'Last-Event-ID': 'yesterday' },
    });
    expect(bad.status).toBe(400);
  });
});

describe('the LISTEN connection killed mid-stream', () => {
  let live: LiveServer;
  /** Another process's appends: only NOTIFY (or the poll) tells the server about them. */
  let writer: Storyline;
  beforeAll(async () => {
    // A poll so slow it cannot be what delivers: only the re-established LISTEN can.
    live = await startLiveServer({ pollIntervalMs: 600_000 });
    writer = await openStoryline(
      { databaseUrl: live.h.database.url, dataDir: '/nonexistent', poolSize: 2 },
      silentLogger,
    );
    await live.post('listen-story', [opened('LISTEN')]);
  });
  afterAll(async () => {
    await writer.close();
    await live.close();
  });

  const appendElsewhere = async () =>
    (
      await writer.appender.append({
        storyId: 'listen-story',
        author: 'other',
        events: [development()],
      })
    ).positions;

  it('delivers everything, before, during and after the cut', async () => {
    const client = await LiveClient.open(live.url, '?stories=listen-story&after=1');
    const admin = new pg.Client({ connectionString: live.h.database.url });
    await admin.connect();
    const listeners = async () =>
      (
        await admin.query(
          `select pid from pg_stat_activity
           where application_name = $1 and datname = current_database()`,
          [listenerApplicationName],
        )
      ).rows.length;
    const expected: number[] = [];
    try {
      expected.push(...(await appendElsewhere()), ...(await appendElsewhere()));
      await until(() => client.of('event').length === 2, 'events before the cut');

      for (let round = 0; round < 3; round += 1) {
        const deadline = Date.now() + 10_000;
        while ((await listeners()) !== 1 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const killed = await admin.query(
          `select pg_terminate_backend(pid) from pg_stat_activity
           where application_name = $1 and datname = current_database()`,
          [listenerApplicationName],
        );
        expect(killed.rowCount).toBe(1);
        // Appends while the listener is down or reconnecting: their notifications are lost.
        expected.push(...(await appendElsewhere()), ...(await appendElsewhere()));
        await until(() => client.of('event').length === expected.length, 'events after a cut');
      }
      expect(client.eventPositions()).toEqual(expected);
    } finally {
      await admin.end();
      await client.close();
    }
  });
});
