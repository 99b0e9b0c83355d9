/**
 * Fan-out. Baseline: a bare `ws` WebSocketServer on loopback sending K messages of ~500 bytes,
 * the same string to each of S connected `ws` clients, in rounds of 20 like Storyline's appends.
 * Storyline: the real server (startHttpServer), S clients subscribed to one story through
 * `/v1/live?stories=bench&after=<head>`, K events of about the same size appended 20 per request.
 * Both clocks run from the first send (append) until every client holds all K messages, with
 * clients and server in this one process, so both pay for receiving too. Storyline's time also
 * includes committing the events and learning of them through PostgreSQL's LISTEN/NOTIFY.
 */
import type { AddressInfo } from 'node:net';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import WebSocket, { WebSocketServer } from 'ws';
import { startHttpServer, type Storyline } from '../src/composition.ts';
import { readConfig } from '../src/config.ts';
import {
  development,
  runWorkers,
  scaled,
  sectionCapMs,
  waitFor,
  warmUpOf,
  type Section,
} from './common.ts';

const subscribers = 100;
const perRequest = 20;
const payloadBytes = 500;

interface Clients {
  readonly sockets: WebSocket[];
  readonly received: number[];
  closedEarly: number;
  close(): Promise<void>;
}

async function openClients(
  url: string,
  count: (text: string) => boolean,
  ready: (text: string) => boolean,
  deadline: number,
): Promise<Clients> {
  const clients: Clients = {
    sockets: [],
    received: [],
    closedEarly: 0,
    close: async () => {
      await Promise.all(
        clients.sockets.map(
          (socket) =>
            new Promise<void>((resolve) => {
              if (socket.readyState === WebSocket.CLOSED) resolve();
              else {
                socket.once('close', () => resolve());
                socket.close();
              }
            }),
        ),
      );
    },
  };
  let readyCount = 0;
  let closing = false;
  const opened = Array.from({ length: subscribers }, (_, index) => {
    clients.received.push(0);
    const socket = new WebSocket(url);
    clients.sockets.push(socket);
    socket.on('message', (data) => {
      const text = (data as Buffer).toString();
      if (count(text)) clients.received[index] = (clients.received[index] ?? 0) + 1;
      else if (ready(text)) readyCount++;
    });
    socket.on('close', () => {
      if (!closing) clients.closedEarly++;
    });
    return new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
  });
  await Promise.all(opened);
  const closeAll = clients.close.bind(clients);
  clients.close = () => {
    closing = true;
    return closeAll();
  };
  if (!(await waitFor(() => readyCount === subscribers, deadline))) {
    await clients.close();
    throw new Error('the fan-out clients did not all subscribe in time');
  }
  return clients;
}

const allHave = (clients: Clients, count: number) => () =>
  clients.closedEarly > 0 || clients.received.every((received) => received >= count);

async function baselineFanOut(total: number, warmUp: number, deadline: number, notes: string[]) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  let connected = 0;
  server.on('connection', (socket) => {
    connected++;
    socket.send('ready');
  });
  const payload = JSON.stringify({ type: 'message', body: 'x'.repeat(payloadBytes - 28) });
  const clients = await openClients(
    `ws://127.0.0.1:${port}`,
    (text) => text !== 'ready',
    () => true,
    deadline,
  );
  try {
    const broadcast = async (count: number) => {
      for (let sent = 0; sent < count; sent += perRequest) {
        const round = Math.min(perRequest, count - sent);
        for (let i = 0; i < round; i++) for (const socket of server.clients) socket.send(payload);
        await yieldToLoop();
      }
    };
    if (connected !== subscribers) throw new Error('not every baseline client connected');
    await broadcast(warmUp);
    await waitFor(allHave(clients, warmUp), deadline);
    const start = performance.now();
    await broadcast(total);
    const complete = await waitFor(allHave(clients, warmUp + total), deadline);
    const seconds = (performance.now() - start) / 1000;
    if (!complete || clients.closedEarly > 0) notes.push('fan-out baseline aborted (time cap)');
    const delivered = clients.received.reduce((sum, n) => sum + n, 0) - warmUp * subscribers;
    return delivered / seconds;
  } finally {
    await clients.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function storylineFanOut(
  storyline: Storyline,
  logger: Logger,
  total: number,
  warmUp: number,
  deadline: number,
  notes: string[],
) {
  const storyId = 'bench';
  await storyline.appender.append({
    storyId,
    expectedVersion: 0,
    events: [{ type: 'story.opened', data: { title: 'Fan-out benchmark', timeZone: 'UTC' } }],
    author: 'bench',
  });
  const { head } = await storyline.queries.logInfo();
  const defaults = readConfig({}).live;
  const running = await startHttpServer(
    storyline,
    {
      host: '127.0.0.1',
      port: 0,
      bodyLimit: 1024 * 1024,
      // Room for the whole run in each socket's buffer: this measures throughput, not the
      // slow-consumer cut-off.
      live: { ...defaults, maxBufferedBytes: 256 * 1024 * 1024 },
    },
    logger,
  );
  try {
    const clients = await openClients(
      `${running.url.replace(/^http/, 'ws')}/v1/live?stories=${storyId}&after=${head}`,
      (text) => (JSON.parse(text) as { type: string }).type === 'event',
      (text) => (JSON.parse(text) as { type: string }).type === 'subscribed',
      deadline,
    );
    try {
      const append = async (count: number) => {
        const requests = Math.ceil(count / perRequest);
        await runWorkers(requests, 8, deadline, async (index) => {
          const size = Math.min(perRequest, count - index * perRequest);
          await storyline.appender.append({
            storyId,
            events: Array.from({ length: size }, () => development(payloadBytes)),
            author: 'bench',
          });
        });
      };
      await append(warmUp);
      await waitFor(allHave(clients, warmUp), deadline);
      const start = performance.now();
      await append(total);
      const complete = await waitFor(allHave(clients, warmUp + total), deadline);
      const seconds = (performance.now() - start) / 1000;
      if (!complete) notes.push('fan-out Storyline aborted (time cap)');
      if (clients.closedEarly > 0) {
        notes.push(`fan-out Storyline: ${clients.closedEarly} clients were closed early`);
      }
      const delivered = clients.received.reduce((sum, n) => sum + n, 0) - warmUp * subscribers;
      return delivered / seconds;
    } finally {
      await clients.close();
    }
  } finally {
    await running.close();
  }
}

export async function benchFanOut(storyline: Storyline, logger: Logger): Promise<Section> {
  const total = scaled(2000);
  const warmUp = warmUpOf(total);
  const notes: string[] = [];
  const baseline = await baselineFanOut(total, warmUp, performance.now() + sectionCapMs, notes);
  const measured = await storylineFanOut(
    storyline,
    logger,
    total,
    warmUp,
    performance.now() + sectionCapMs,
    notes,
  );
  notes.push(
    `fan-out: K = ${total} messages of ~${payloadBytes} bytes to S = ${subscribers} clients, ` +
      `${perRequest} per send round / append request`,
  );
  return {
    rows: [
      {
        benchmark: 'fan-out',
        metric: 'messages delivered/s',
        baseline,
        storyline: measured,
        ratio: true,
      },
    ],
    notes,
  };
}
