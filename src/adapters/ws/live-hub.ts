/**
 * The WebSocket endpoint `/v1/live`, on the HTTP server's own port (`noServer` upgrade routing,
 * as the ws README shows). Each connection gets a LiveSession; this file only turns frames into
 * commands and session messages into frames, and enforces the connection-level limits: how
 * many connections, how big a frame, how many commands a second (a token bucket per connection:
 * `commandsPerSecond`, bursts of twice that; past it the connection is closed with 1008 and the
 * cursor), and how many invalid frames a minute.
 */
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
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
import { StorylineError, isStorylineError } from '../../domain/errors.ts';
import { clientText, errorBody, httpStatusOf } from '../http/error-responses.ts';
import { requestIdFrom, requestIdHeader } from '../http/request-ids.ts';
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
  /** Commands a connection may send per second, on average (bursts of twice as many). */
  readonly commandsPerSecond?: number;
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
    // Node removes the HTTP server's error listener before it emits 'upgrade': without one of
    // our own, a client resetting the connection while we answer is an uncaught exception.
    socket.on('error', onUpgradeError);
    const url = new URL(request.url ?? '/', 'http://localhost');
    const refuseWith = (error: StorylineError) => {
      refuse(socket, error, requestIdFrom(request.headers['x-request-id']));
    };
    if (url.pathname !== this.#path) {
      refuseWith(
        new StorylineError('route_not_found', `WebSocket connections go to ${this.#path}`),
      );
      return;
    }
    const origin = request.headers.origin;
    const allowed = this.#options.allowedOrigins ?? null;
    if (origin !== undefined && allowed !== null && !allowed.includes(origin)) {
      refuseWith(new StorylineError('forbidden', `origin ${clientText(origin)} is not allowed`));
      return;
    }
    if (this.#connections.size >= (this.#options.maxConnections ?? 10_000)) {
      refuseWith(new StorylineError('unavailable', 'this server has no room for more connections'));
      return;
    }
    const initial = subscribeFromQuery(url);
    if (initial instanceof Error) {
      refuseWith(new StorylineError('invalid_request', initial.message));
      return;
    }
    // ws listens for the socket's errors itself from here on, as its README shows.
    socket.removeListener('error', onUpgradeError);
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
      sendSnapshot: (snapshot, written) => {
        socket.send(snapshot.encoded('ws', encodeSnapshotFrame), textFrame, written);
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
        switch (reason) {
          case 'slow_consumer':
            socket.close(closeCodes.slowConsumer, `too slow; resume with after=${after}`);
            return;
          case 'going_away':
            socket.close(closeCodes.goingAway, `going away; resume with after=${after}`);
            return;
          case 'unavailable':
            socket.close(closeCodes.tryAgainLater, `try again later; resume with after=${after}`);
            return;
          case 'log_replaced':
            socket.close(closeCodes.logReplaced, `log replaced; resume with after=${after}`);
            return;
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
    const perSecond = this.#options.commandsPerSecond ?? 20;
    const bucket = new TokenBucket(perSecond / 1000, perSecond * 2);

    socket.on('pong', () => {
      connection.alive = true;
    });
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (socket.readyState !== WebSocket.OPEN) return;
      if (!bucket.take(Date.now())) {
        socket.close(
          closeCodes.policyViolation,
          `too many commands; resume with after=${session.position}`,
        );
        return;
      }
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

  /**
   * An error the client caused becomes an error frame. Anything else has ended the session
   * already when it failed a subscription (closed with 1013 and the cursor); it is logged, and
   * the client told if the connection is still open (a replay that failed).
   */
  #reportError(socket: WebSocket, error: unknown): void {
    if (isStorylineError(error) && error.code !== 'unavailable' && error.code !== 'internal') {
      send(socket, { type: 'error', code: error.code, message: error.message, ...error.details });
      return;
    }
    this.#logger.warn({ err: error }, 'live session failed');
    if (isStorylineError(error)) {
      send(socket, { type: 'error', code: error.code, message: error.message });
    } else {
      send(socket, {
        type: 'error',
        code: 'internal',
        message: 'something went wrong on our side',
      });
    }
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

/**
 * Allows `capacity` commands at once and `perMs` more every millisecond: bursts are fine, a
 * sustained flood is not.
 */
class TokenBucket {
  readonly #perMs: number;
  readonly #capacity: number;
  #tokens: number;
  #at = 0;

  constructor(perMs: number, capacity: number) {
    this.#perMs = perMs;
    this.#capacity = Math.max(capacity, 1);
    this.#tokens = this.#capacity;
  }

  take(now: number): boolean {
    if (this.#at !== 0) {
      this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#at) * this.#perMs);
    }
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** Until ws takes the socket over, its errors (a client reset) are expected and ignored. */
const onUpgradeError = () => undefined;

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

/**
 * Answers an upgrade request with a JSON error instead of switching protocols, and lets the
 * connection go once the answer is out (a client that never closes its side holds nothing).
 */
function refuse(socket: Duplex, error: StorylineError, requestId: string): void {
  const status = httpStatusOf[error.code];
  const body = JSON.stringify(errorBody(error, requestId));
  const retryAfter = status === 503 ? 'Retry-After: 5\r\n' : '';
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n${retryAfter}` +
      `${requestIdHeader}: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}
