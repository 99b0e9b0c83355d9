/**
 * The Node HTTP server under the API, with what protects it below the routes:
 *
 * - **Timeouts.** A client has `headersTimeoutMs` to send its headers and `requestTimeoutMs` to
 *   send its whole request (body included), else Node answers 408 and closes the connection. They
 *   bound receiving only: a long response (an SSE stream) and an upgraded WebSocket are not cut.
 * - **A cap per remote address.** Connections are counted per address when they open, so plain
 *   requests, SSE streams and WebSocket upgrades all count. A connection past the cap is answered
 *   503 `unavailable` with `Retry-After` on its first request (or upgrade) and closed.
 * - **Requests it cannot read.** A malformed request (400), headers past Node's limit (431) or a
 *   request not sent in time (408) are answered before any route sees them, with the same JSON
 *   error body as the API's, and the connection is closed.
 * - **Drain.** `drain()` stops listening, closes idle keep-alive connections, answers the requests
 *   in flight with `Connection: close`, and refuses (503, `Retry-After`, `Connection: close`) any
 *   request that arrives afterwards on a connection opened before: a keep-alive client cannot
 *   keep a closing server busy. Whatever is still open at the deadline is cut.
 */
import {
  STATUS_CODES,
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { StorylineError } from '../../domain/errors.ts';
import { errorBody, httpStatusOf } from './error-responses.ts';
import { requestIdFrom, requestIdHeader } from './request-ids.ts';

export interface GuardedServerOptions {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** 0: no cap. */
  readonly maxConnectionsPerAddress: number;
}

/**
 * The cap's default is as many connections as one process takes WebSockets: behind a load
 * balancer or a NAT (a newsroom office) many readers share one address, and a low default would
 * turn them away. Lower it when clients connect directly.
 */
export const defaultGuardedServerOptions: GuardedServerOptions = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxConnectionsPerAddress: 10_000,
};

type RequestListener = (request: IncomingMessage, response: ServerResponse) => unknown;
type UpgradeListener = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

interface Refusal {
  readonly message: string;
  readonly retryAfterSeconds: number;
}

const shuttingDown: Refusal = {
  message: 'this server is shutting down; retry (appends with the same event ids)',
  retryAfterSeconds: 1,
};
const overCap: Refusal = {
  message: 'too many open connections from your address; close some and retry',
  retryAfterSeconds: 5,
};

export class GuardedServer {
  readonly server: Server;
  readonly #maxPerAddress: number;
  readonly #sockets = new Set<Socket>();
  readonly #openByAddress = new Map<string, number>();
  readonly #overCap = new WeakSet<Duplex>();
  readonly #inFlight = new Set<ServerResponse>();
  #draining: Promise<void> | null = null;

  constructor(handle: RequestListener, options: Partial<GuardedServerOptions> = {}) {
    const settings = { ...defaultGuardedServerOptions, ...options };
    this.#maxPerAddress = settings.maxConnectionsPerAddress;
    this.server = createServer(
      {
        headersTimeout: settings.headersTimeoutMs,
        requestTimeout: settings.requestTimeoutMs,
        // How often Node looks for requests past those timeouts: 30 s by default, which would
        // let a client dribbling its body stay up to 30 s past them.
        connectionsCheckingInterval: Math.min(1000, settings.headersTimeoutMs),
      },
      (request, response) => {
        const refusal = this.#refusalFor(request.socket);
        if (refusal !== null) {
          answerRefusal(response, refusal, requestIdFrom(request.headers['x-request-id']));
          return;
        }
        this.#inFlight.add(response);
        response.once('close', () => this.#inFlight.delete(response));
        void handle(request, response);
      },
    );
    this.server.on('connection', (socket: Socket) => {
      this.#opened(socket);
    });
    this.server.on('clientError', answerClientError);
  }

  get draining(): boolean {
    return this.#draining !== null;
  }

  /**
   * Puts the cap and the drain in front of the 'upgrade' listeners registered so far (the
   * WebSocket hub's): they are called only for upgrades that pass.
   */
  guardUpgrades(): void {
    const listeners = this.server.listeners('upgrade') as UpgradeListener[];
    this.server.removeAllListeners('upgrade');
    this.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const refusal = this.#refusalFor(socket);
      if (refusal !== null) {
        refuseUpgrade(socket, refusal, requestIdFrom(request.headers['x-request-id']));
        return;
      }
      for (const listener of listeners) listener.call(this.server, request, socket, head);
    });
  }

  /**
   * Stops accepting and drains (see the header); resolves once every connection has closed, at
   * the latest `deadlineMs` from now, when the ones left are cut. Calling it again returns the
   * same drain.
   */
  drain(deadlineMs: number): Promise<void> {
    this.#draining ??= this.#drain(deadlineMs);
    return this.#draining;
  }

  async #drain(deadlineMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      this.server.close(() => resolve());
    });
    // A connection whose response is still on its way goes as soon as that response is done,
    // rather than waiting idle for a keep-alive request it would only refuse.
    const closeIdleSoon = () => setImmediate(() => this.server.closeIdleConnections());
    for (const response of this.#inFlight) {
      if (!response.headersSent) response.setHeader('Connection', 'close');
      response.once('finish', closeIdleSoon);
    }
    this.server.closeIdleConnections();
    const cut = setTimeout(() => {
      for (const socket of this.#sockets) socket.destroy();
    }, deadlineMs);
    try {
      await closed;
    } finally {
      clearTimeout(cut);
    }
  }

  #opened(socket: Socket): void {
    this.#sockets.add(socket);
    const address = socket.remoteAddress ?? 'unknown';
    const open = this.#openByAddress.get(address) ?? 0;
    if (this.#maxPerAddress > 0 && open >= this.#maxPerAddress) {
      // Not counted: it is refused on its first request, and closed after the answer.
      this.#overCap.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      return;
    }
    this.#openByAddress.set(address, open + 1);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      const left = (this.#openByAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.#openByAddress.delete(address);
      else this.#openByAddress.set(address, left);
    });
  }

  #refusalFor(socket: Duplex): Refusal | null {
    if (this.#draining !== null) return shuttingDown;
    if (this.#overCap.has(socket)) return overCap;
    return null;
  }
}

/**
 * What Node would answer (400, or 431, 413 and 408 for its own limits), as the API's JSON error.
 * As in Node's own handler, a socket that is gone, or whose response has begun (a later request
 * on a keep-alive connection), is only destroyed: nothing may be written into another answer.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  const response = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || response?.headersSent === true) {
    socket.destroy();
    return;
  }
  const refusal = clientErrorOf(error.code);
  const requestId = requestIdFrom(undefined);
  const status = httpStatusOf[refusal.code];
  const body = JSON.stringify(errorBody(refusal, requestId));
  socket.on('error', () => undefined);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n${requestIdHeader}: ${requestId}\r\n` +
      `Connection: close\r\n\r\n${body}`,
  );
}

function clientErrorOf(code: string | undefined): StorylineError {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new StorylineError('request_timeout', 'the request was not sent in time');
    case 'HPE_HEADER_OVERFLOW':
      return new StorylineError('headers_too_large', 'the request headers are too large');
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new StorylineError('payload_too_large', 'the chunk extensions are too large');
    default:
      return new StorylineError('invalid_request', 'the request is not valid HTTP/1.1');
  }
}

function refusalBody(
  refusal: Refusal,
  requestId: string,
): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({
    error: { code: 'unavailable', message: refusal.message, requestId },
  });
  return {
    body,
    headers: {
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(body)),
      'Retry-After': String(refusal.retryAfterSeconds),
      [requestIdHeader]: requestId,
      Connection: 'close',
    },
  };
}

function answerRefusal(response: ServerResponse, refusal: Refusal, requestId: string): void {
  const { body, headers } = refusalBody(refusal, requestId);
  response.writeHead(503, headers);
  response.end(body);
}

function refuseUpgrade(socket: Duplex, refusal: Refusal, requestId: string): void {
  const { body, headers } = refusalBody(refusal, requestId);
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.on('error', () => undefined);
  socket.end(`HTTP/1.1 503 Service Unavailable\r\n${lines.join('')}\r\n${body}`);
}
