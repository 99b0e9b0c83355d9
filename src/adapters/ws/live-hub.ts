/**
 * The WebSocket endpoint `/v1/live`, on the HTTP server's own port (`noServer` upgrade routing,
 * as the ws README shows). Each connection gets a LiveSession; this file only turns frames into
 * commands and session messages into frames, and enforces the connection-level limits.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { z } from 'zod';
import {
  LiveSession,
  type LiveSessionOptions,
  type LiveTransport,
  type SubscribeCommand,
} from '../../app/live-session.ts';
import type { LiveSessions } from '../../app/live-sessions.ts';
import { isStorylineError } from '../../domain/errors.ts';
import {
  closeCodes,
  encodeEventFrame,
  encodeSnapshotFrame,
  liveCommandSchema,
  subscribeFromQuery,
} from './live-protocol.ts';

export interface LiveHubOptions extends LiveSessionOptions {
  readonly path?: string;
  readonly maxConnections?: number;
  /** Largest frame a client may send, in bytes (larger: close 1009). */
  readonly maxFrameBytes?: number;
  readonly heartbeatMs?: number;
  /** Browser origins allowed to connect; null allows any (the stream is public). */
  readonly allowedOrigins?: readonly string[] | null;
  /** Invalid frames tolerated per minute before the connection is closed (1008). */
  readonly maxInvalidFramesPerMinute?: number;
}

interface Connection {
  readonly socket: WebSocket;
  readonly session: LiveSession;
  alive: boolean;
}

export class LiveHub {
  readonly #server: Server;
  readonly #sessions: LiveSessions;
  readonly #logger: Logger;
  readonly #options: LiveHubOptions;
  readonly #path: string;
  readonly #wss: WebSocketServer;
  readonly #connections = new Set<Connection>();
  readonly #heartbeat: NodeJS.Timeout;
  readonly #onUpgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

  constructor(
    server: Server,
    sessions: LiveSessions,
    logger: Logger,
    options: LiveHubOptions = {},
  ) {
    this.#server = server;
    this.#sessions = sessions;
    this.#logger = logger;
    this.#options = options;
    this.#path = options.path ?? '/v1/live';
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxFrameBytes ?? 64 * 1024,
      // One encoding per event for every subscriber: per-message compression would undo it.
      perMessageDeflate: false,
    });
    this.#onUpgrade = (request, socket, head) => {
      this.#upgrade(request, socket, head);
    };
    server.on('upgrade', this.#onUpgrade);
    this.#heartbeat = setInterval(() => {
      this.#beat();
    }, options.heartbeatMs ?? 30_000);
    this.#heartbeat.unref();
  }

  get connections(): number {
    return this.#connections.size;
  }

  /** Closes every connection with 1001 and the position to resume after. */
  async close(): Promise<void> {
    clearInterval(this.#heartbeat);
    this.#server.off('upgrade', this.#onUpgrade);
    const closed = [...this.#connections].map(
      ({ socket }) =>
        new Promise<void>((resolve) => {
          if (socket.readyState === WebSocket.CLOSED) resolve();
          else socket.once('close', () => resolve());
        }),
    );
    this.#sessions.endAll('going_away');
    // A client that does not answer the close handshake is cut off rather than waited for.
    const cutOff = setTimeout(() => {
      for (const { socket } of this.#connections) socket.terminate();
    }, 2000);
    await Promise.all(closed);
    clearTimeout(cutOff);
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== this.#path) {
      refuse(socket, 404, 'route_not_found', `WebSocket connections go to ${this.#path}`);
      return;
    }
    const origin = request.headers.origin;
    const allowed = this.#options.allowedOrigins ?? null;
    if (origin !== undefined && allowed !== null && !allowed.includes(origin)) {
      refuse(socket, 403, 'forbidden', `origin ${origin} is not allowed`);
      return;
    }
    if (this.#connections.size >= (this.#options.maxConnections ?? 10_000)) {
      refuse(socket, 503, 'unavailable', 'this server has no room for more connections');
      return;
    }
    const initial = subscribeFromQuery(url);
    if (initial instanceof Error) {
      refuse(socket, 400, 'invalid_request', initial.message);
      return;
    }
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      this.#connected(ws, socket, initial);
    });
  }

  /** `stream`: the connection under the WebSocket (the upgrade's), to batch frames in a write. */
  #connected(socket: WebSocket, stream: Duplex, initial: SubscribeCommand | null): void {
    const transport: LiveTransport = {
      // The same Buffer for every subscriber: ws frames it without copying or re-encoding.
      sendEvent: (entry, written) => {
        socket.send(entry.encoded('ws', encodeEventFrame), textFrame, written);
      },
      sendSnapshot: (snapshot) => {
        socket.send(snapshot.encoded('ws', encodeSnapshotFrame), textFrame);
      },
      sendMessage: (message, written) => {
        socket.send(JSON.stringify(message), written);
      },
      cork: () => {
        stream.cork();
      },
      uncork: () => {
        stream.uncork();
      },
      get bufferedBytes() {
        return socket.bufferedAmount;
      },
      get isOpen() {
        return socket.readyState === WebSocket.OPEN;
      },
      close: (reason, after) => {
        if (reason === 'slow_consumer') {
          socket.close(closeCodes.slowConsumer, `too slow; resume with after=${after}`);
        } else {
          socket.close(closeCodes.goingAway, `going away; resume with after=${after}`);
        }
      },
    };
    const session = new LiveSession(this.#sessions, transport, this.#options);
    const connection: Connection = { socket, session, alive: true };
    this.#connections.add(connection);
    const remove = this.#sessions.add(session);

    // Subscriptions run one after another, so a later command sees the earlier one done.
    let queue: Promise<void> = Promise.resolve();
    const run = (work: () => Promise<void>) => {
      queue = queue.then(work).catch((error: unknown) => {
        this.#reportError(socket, error);
      });
    };
    const invalid: number[] = [];
    const limit = this.#options.maxInvalidFramesPerMinute ?? 20;

    socket.on('pong', () => {
      connection.alive = true;
    });
    socket.on('message', (data: RawData, isBinary: boolean) => {
      const command = parseCommand(data, isBinary);
      if (command instanceof Error) {
        const now = Date.now();
        invalid.push(now);
        while ((invalid[0] ?? now) < now - 60_000) invalid.shift();
        if (invalid.length > limit) {
          socket.close(
            closeCodes.policyViolation,
            `too many invalid frames; resume with after=${session.position}`,
          );
          return;
        }
        send(socket, { type: 'error', code: 'invalid_command', message: command.message });
        return;
      }
      switch (command.type) {
        case 'subscribe':
          run(() => session.subscribe(command));
          return;
        case 'unsubscribe':
          run(() => {
            session.unsubscribe(command.stories);
            return Promise.resolve();
          });
          return;
        case 'replay':
          session.replay(command).catch((error: unknown) => {
            this.#reportError(socket, error);
          });
          return;
        case 'ping':
          send(socket, { type: 'pong', position: session.position });
          return;
      }
    });
    socket.on('error', (error) => {
      this.#logger.debug({ err: error }, 'websocket error');
    });
    socket.on('close', () => {
      remove();
      this.#connections.delete(connection);
    });
    if (initial !== null) run(() => session.subscribe(initial));
  }

  #reportError(socket: WebSocket, error: unknown): void {
    if (isStorylineError(error)) {
      send(socket, { type: 'error', code: error.code, message: error.message, ...error.details });
      return;
    }
    this.#logger.error({ err: error }, 'live session failed');
    send(socket, { type: 'error', code: 'internal', message: 'something went wrong on our side' });
  }

  /** Ping every connection; one that did not answer the last ping is gone. */
  #beat(): void {
    for (const connection of this.#connections) {
      if (!connection.alive) {
        connection.socket.terminate();
        continue;
      }
      connection.alive = false;
      connection.socket.ping();
    }
  }
}

/** Encoded frames are Buffers, sent as text frames (they are JSON). */
const textFrame = { binary: false } as const;

function parseCommand(data: RawData, isBinary: boolean) {
  if (isBinary) return new Error('send commands as JSON text frames');
  let json: unknown;
  try {
    json = JSON.parse(rawText(data));
  } catch {
    return new Error('a frame must be a JSON object');
  }
  const parsed = liveCommandSchema.safeParse(json);
  return parsed.success ? parsed.data : new Error(z.prettifyError(parsed.error));
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

function send(socket: WebSocket, message: Record<string, unknown>): void {
  if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

/** Answers an upgrade request with a JSON error instead of switching protocols. */
function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  const reason = {
    400: 'Bad Request',
    403: 'Forbidden',
    404: 'Not Found',
    503: 'Service Unavailable',
  }[status];
  socket.end(
    `HTTP/1.1 ${status} ${reason ?? 'Error'}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
