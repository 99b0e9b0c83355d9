/**
 * The client SDK (src/client) against a real server and a real PostgreSQL: its state is the
 * server's, it survives connections cut under it and a server restart without losing or
 * repeating an event, and close() means closed.
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import path from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  subscribe,
  type LiveError,
  type LiveStatus,
  type StatusDetail,
  type SubscribeOptions,
  type Subscription,
} from '../../src/client/index.ts';
import { seedIfEmpty, startHttpServer, type RunningServer } from '../../src/composition.ts';
import { readConfig } from '../../src/config.ts';
import type { RecordedEvent } from '../../src/domain/event-types.ts';
import type { StoryProjection } from '../../src/domain/story-view.ts';
import { silentLogger } from '../support/harness.ts';
import { until } from '../support/live-client.ts';
import { development, opened, startLiveServer, type LiveServer } from '../support/live-server.ts';

const eventsDir = path.resolve(import.meta.dirname, '../../events');
const backoff = { minMs: 10, maxMs: 100 };

/** What one subscription reported, and every socket it opened (with the frames each received). */
function recorder() {
  const statuses: { status: LiveStatus; detail: StatusDetail }[] = [];
  const events: RecordedEvent[] = [];
  const snapshots: { storyId: string; position: number; state: StoryProjection | null }[] = [];
  const errors: LiveError[] = [];
  const sockets: { socket: WebSocket; frames: any[] }[] = [];
  class RecordingWebSocket extends WebSocket {
    constructor(url: string) {
      super(url);
      const frames: any[] = [];
      sockets.push({ socket: this, frames });
      this.on('message', (data) => frames.push(JSON.parse((data as Buffer).toString())));
    }
  }
  const options = {
    WebSocket: RecordingWebSocket,
    backoff,
    onStatus: (status, detail) => statuses.push({ status, detail }),
    onEvent: (event) => events.push(event),
    onSnapshot: (storyId, state, position) => snapshots.push({ storyId, state, position }),
    onError: (error) => errors.push(error),
  } satisfies Partial<SubscribeOptions>;
  return {
    options,
    statuses,
    events,
    snapshots,
    errors,
    sockets,
    /** How many times the subscription went live after resuming from its cursor. */
    resumed: () => statuses.filter((s) => s.status === 'live' && s.detail.recovered).length,
  };
}

describe('the client SDK', () => {
  let live: LiveServer;
  /** The server now serving; test 2 replaces it with a new one on the same port. */
  let server: RunningServer;
  /** The server side of every /v1/live connection, to cut them as a network failure would. */
  const serverSockets: Duplex[] = [];
  const subscriptions: Subscription[] = [];
  const open = (url: string, options: SubscribeOptions) => {
    const subscription = subscribe(url, options);
    subscriptions.push(subscription);
    return subscription;
  };

  const watch = (http: Server) =>
    http.on('upgrade', (_request, socket: Duplex) => serverSockets.push(socket));
  /** Destroys the server's end of every open /v1/live connection: no close frame, no reason. */
  const cutConnections = () => {
    for (const socket of serverSockets.splice(0)) socket.destroy();
  };

  const getJson = async (route: string) => {
    const response = await fetch(`${live.url}${route}`);
    expect(response.status).toBe(200);
    return (await response.json()) as any;
  };
  /** The story as the server has it: GET /v1/stories/{id} and its whole timeline, page by page. */
  const serverState = async (storyId: string) => {
    const story = await getJson(`/v1/stories/${storyId}`);
    const timeline: unknown[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const page = await getJson(`/v1/stories/${storyId}/timeline?limit=500${query}`);
      timeline.push(...page.entries);
      cursor = page.next;
    } while (cursor !== null);
    return { story, timeline };
  };
  /** The story's events from the log, GET /v1/stories/{id}/events page by page. */
  const storyEvents = async (storyId: string, after = 0) => {
    const events: RecordedEvent[] = [];
    let next: number | null = after;
    while (next !== null) {
      const page = await getJson(`/v1/stories/${storyId}/events?after=${next}&limit=1000`);
      events.push(...page.events);
      next = page.next;
    }
    return events;
  };

  beforeAll(async () => {
    live = await startLiveServer();
    server = live.server;
    watch(server.server);
    await seedIfEmpty(live.h.storyline, eventsDir, silentLogger);
  });
  afterEach(() => {
    for (const subscription of subscriptions.splice(0)) subscription.close();
  });
  afterAll(async () => {
    await server.close();
    await live.h.close();
  });

  it('without a cursor: a snapshot, then live events folded into the same state as the server', async () => {
    const seen = recorder();
    const subscription = open(live.url, { ...seen.options, stories: ['kremlin-talks'] });
    await until(() => seen.snapshots.length === 1, 'the snapshot');
    expect(seen.statuses.map((s) => s.status)).toEqual(['connecting', 'live']);
    expect(seen.statuses[1]?.detail).toMatchObject({ recovered: false });
    expect(subscription.state('kremlin-talks')).toEqual(await serverState('kremlin-talks'));

    const timeline = subscription.state('kremlin-talks')?.timeline ?? [];
    const [corrected, retracted] = timeline.filter((entry) => entry.retracted === null);
    if (corrected === undefined || retracted === undefined) throw new Error('a seeded timeline');
    const reported = development('Peskov: no date yet for the next round');
    const { positions } = await live.post('kremlin-talks', [
      reported,
      {
        type: 'development.corrected',
        data: {
          developmentId: corrected.developmentId,
          changes: {
            headline: `${corrected.headline} (corrected)`,
            actors: [{ name: 'Yuri Ushakov', role: 'Kremlin aide' }],
            occurredAt: '2025-12-03T09:00:00+03:00',
          },
          note: 'The readout came from Ushakov, the next morning.',
          severity: 'correction',
        },
      },
      {
        type: 'development.retracted',
        data: { developmentId: retracted.developmentId, reason: 'Not confirmed.' },
      },
      {
        type: 'claim.disputed',
        data: {
          developmentId: reported.data.developmentId,
          by: 'Ukrainian foreign ministry',
          statement: 'A date was agreed.',
        },
      },
      { type: 'development.pinned', data: { developmentId: reported.data.developmentId } },
    ]);
    const last = positions.at(-1) ?? 0;
    await until(() => subscription.position === last, 'the five events');

    expect(seen.events.map((event) => event.position)).toEqual(positions);
    expect(subscription.state('kremlin-talks')).toEqual(await serverState('kremlin-talks'));
    expect(subscription.state('kremlin-talks')?.story.counts).toMatchObject({
      retracted: 1,
      corrections: 3,
    });
    expect(seen.errors).toEqual([]);
  });

  it('connections cut and a server restart: recovering, then live from the cursor, every event once', async () => {
    await live.post('sdk-quiet', [opened('A quiet story'), development()]);
    await live.post('sdk-busy', [opened('A busy story'), development(), development()]);
    const seen = recorder();
    const subscription = open(live.url, { ...seen.options, stories: ['sdk-quiet', 'sdk-busy'] });
    await until(() => seen.snapshots.length === 2, 'two snapshots');
    const snapshotAt = new Map(seen.snapshots.map((s) => [s.storyId, s.position]));
    const quietAt = snapshotAt.get('sdk-quiet') ?? 0;
    const busyAt = snapshotAt.get('sdk-busy') ?? 0;
    expect(quietAt).toBeLessThan(busyAt);

    // The first cut comes before any event: the SDK resumes after the quiet story's snapshot,
    // the older one, so the server re-sends the busy story's events and the SDK drops them.
    cutConnections();
    await until(() => seen.resumed() === 1, 'resuming after the first cut');
    const [, second] = seen.sockets;
    const url = new URL(second?.socket.url ?? '');
    expect(url.searchParams.get('after')).toBe(String(quietAt));
    expect(url.searchParams.get('epoch')).toBe(seen.sockets[0]?.frames[0].epoch);
    await until(
      () => second?.frames.some((f) => f.type === 'event' && f.event.position === busyAt) ?? false,
      'the re-sent events',
    );
    expect(seen.events).toEqual([]);

    // A writer appends to both stories and to one nobody here follows, a few events at a time,
    // while the connections are cut again and again (at least 8 times, and until it is done):
    // right after a commit, in the middle of a catch-up, and with events missed while away.
    await live.post('sdk-other', [opened('A story nobody here follows')]);
    const written = new AbortController();
    const writer = (async () => {
      for (let index = 0; index < 150; index += 1) {
        const storyId = ['sdk-busy', 'sdk-other', 'sdk-quiet'][index % 3] ?? '';
        await live.post(storyId, [development(), development()]);
      }
      written.abort();
    })();
    let cuts = 1;
    while (cuts < 9 || !written.signal.aborted) {
      await live.post('sdk-busy', [development()]);
      cutConnections();
      cuts += 1;
      await live.post('sdk-quiet', [development()]);
      await until(() => seen.resumed() === cuts, `resuming after cut ${cuts}`);
    }
    await writer;

    // A restart: the server closes every connection (1001, "resume with after=…"), an event is
    // appended while no server runs, and a new server takes over the port.
    const first = subscription.state('sdk-busy')?.timeline[0];
    await live.post('sdk-busy', [
      {
        type: 'development.corrected',
        data: {
          developmentId: first?.developmentId,
          changes: { headline: 'Corrected before the restart' },
          note: 'n',
          severity: 'typo',
        },
      },
      { type: 'development.retracted', data: { developmentId: first?.developmentId, reason: 'r' } },
    ]);
    await server.close();
    await live.h.append('sdk-quiet', { events: [development('while the server is down')] });
    server = await startHttpServer(
      live.h.storyline,
      {
        host: '127.0.0.1',
        port: Number(new URL(live.url).port),
        bodyLimit: 1024 * 1024,
        live: readConfig({}).live,
      },
      silentLogger,
    );
    watch(server.server);
    await until(() => seen.resumed() === cuts + 1, 'resuming after the restart');

    const [busy, quiet] = [await storyEvents('sdk-busy'), await storyEvents('sdk-quiet')];
    const head = Math.max(busy.at(-1)?.position ?? 0, quiet.at(-1)?.position ?? 0);
    await until(() => subscription.position === head, 'every event');

    const received = seen.events.map((event) => event.position);
    expect(received).toEqual([...received].sort((a, b) => a - b));
    expect(new Set(received).size).toBe(received.length);
    const of = (storyId: string) =>
      seen.events.filter((event) => event.storyId === storyId).map((event) => event.position);
    expect(of('sdk-busy')).toEqual(busy.filter((e) => e.position > busyAt).map((e) => e.position));
    expect(of('sdk-quiet')).toEqual(
      quiet.filter((e) => e.position > quietAt).map((e) => e.position),
    );
    expect(of('sdk-other')).toEqual([]);

    // Every cut was followed by recovering (once per attempt), then live from the cursor.
    const statuses = seen.statuses.map((s) => s.status);
    expect(statuses.slice(0, 2)).toEqual(['connecting', 'live']);
    expect(statuses.slice(2).join(' ')).toMatch(/^(?:(?:recovering )+live ?)+$/);
    const resumes = seen.statuses.slice(2).filter((s) => s.status === 'live');
    expect(resumes).toHaveLength(cuts + 1);
    expect(resumes.every((s) => s.detail.recovered === true)).toBe(true);
    expect(seen.snapshots).toHaveLength(2);
    expect(seen.sockets.length).toBeGreaterThanOrEqual(cuts + 2);

    expect(subscription.state('sdk-busy')).toEqual(await serverState('sdk-busy'));
    expect(subscription.state('sdk-quiet')).toEqual(await serverState('sdk-quiet'));
    expect(subscription.state('sdk-other')).toBeNull();
    expect(seen.errors).toEqual([]);
  });

  /**
   * A reconnection is a timer of at most backoff.maxMs. Node runs timers in the order they fall
   * due, so one set afterwards for twice as long fires after it would have: if no socket was
   * opened by then, none was scheduled.
   */
  const pastAnyReconnect = () => new Promise((resolve) => setTimeout(resolve, 2 * backoff.maxMs));

  it('close() reports offline and stops reconnecting, when live and while recovering', async () => {
    const endpoint = `${live.url.replace(/^http/, 'ws')}/v1/live`;
    const seen = recorder();
    const subscription = open(endpoint, { ...seen.options, stories: ['kremlin-talks'] });
    await until(() => seen.snapshots.length === 1, 'the snapshot');
    subscription.close();
    expect(seen.statuses.at(-1)?.status).toBe('offline');
    const first = seen.sockets[0]?.socket;
    await until(() => first?.readyState === WebSocket.CLOSED, 'the socket closed');
    await pastAnyReconnect();
    expect(seen.sockets).toHaveLength(1);
    expect(seen.statuses.map((s) => s.status)).toEqual(['connecting', 'live', 'offline']);

    // Closed from inside the 'recovering' report, when the reconnection is already scheduled.
    const dropped = recorder();
    const recovering = open(live.url, {
      ...dropped.options,
      stories: ['kremlin-talks'],
      onStatus: (status, detail) => {
        dropped.options.onStatus(status, detail);
        if (status === 'recovering') recovering.close();
      },
    });
    await until(() => dropped.snapshots.length === 1, 'the snapshot');
    cutConnections();
    await until(() => dropped.statuses.some((s) => s.status === 'offline'), 'offline');
    await pastAnyReconnect();
    expect(dropped.sockets).toHaveLength(1);
    expect(dropped.statuses.map((s) => s.status)).toEqual([
      'connecting',
      'live',
      'recovering',
      'offline',
    ]);
  });

  it('pings, and drops a connection on which nothing arrives', async () => {
    // A server that accepts connections and never says anything.
    const silent = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => silent.once('listening', resolve));
    const received: string[] = [];
    let connections = 0;
    silent.on('connection', (socket) => {
      connections += 1;
      socket.on('message', (data) => received.push((data as Buffer).toString()));
    });
    const { port } = silent.address() as { port: number };
    const seen = recorder();
    open(`ws://127.0.0.1:${port}/v1/live`, {
      ...seen.options,
      stories: ['kremlin-talks'],
      heartbeat: { intervalMs: 20, timeoutMs: 200 },
    });
    await until(() => connections >= 2, 'a second connection');
    expect(received).toContain('{"type":"ping"}');
    expect(seen.statuses[0]).toMatchObject({ status: 'connecting', detail: { attempt: 0 } });
    expect(seen.statuses.some((s) => s.status === 'connecting' && s.detail.attempt === 1)).toBe(
      true,
    );
    for (const subscription of subscriptions.splice(0)) subscription.close();
    for (const client of silent.clients) client.terminate();
    await new Promise((resolve) => silent.close(resolve));
  });
});
