/**
 * A webhook receiver as a customer would write one: a real HTTP server on 127.0.0.1 that
 * verifies every request with the `standardwebhooks` package, and that a test can take down
 * (answering 503, or not listening at all: connection refused) and bring back on the same port.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  /** The `webhook-id` header. */
  readonly id: string;
  readonly position: number;
  readonly envelope: Record<string, unknown>;
}

export type ReceiverMode = 'up' | 'unavailable';

export class WebhookReceiver {
  /** Verified requests, in arrival order, duplicates included, whatever the answer. */
  readonly received: Received[] = [];
  /** Requests whose signature did not verify (the test expects none). */
  readonly invalid: string[] = [];
  /** Requests answered 503 while `unavailable`. */
  unavailableAnswers = 0;
  mode: ReceiverMode = 'up';
  /** Called before answering; a promise it returns holds the answer back. */
  hold: ((received: Received) => Promise<void> | undefined) | null = null;
  secret: string | null = null;
  #server: http.Server | null = null;
  #port = 0;

  get port(): number {
    return this.#port;
  }

  url(host = '127.0.0.1'): string {
    return `http://${host}:${this.#port}/hooks`;
  }

  async start(): Promise<this> {
    const server = http.createServer((request, response) => void this.#handle(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
    return this;
  }

  /** Stops listening and cuts every connection: senders get "connection refused" until start. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The first arrival of each id, in arrival order. */
  deduplicated(): Received[] {
    const seen = new Set<string>();
    return this.received.filter((item) => {
      if (seen.has(item.id)) return false;
      seen.add(item.id);
      return true;
    });
  }

  async #handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = Object.fromEntries(
      Object.entries(request.headers).map(([name, value]) => [name, String(value)]),
    );
    let envelope: Record<string, unknown>;
    try {
      if (this.secret === null) throw new Error('no secret yet');
      envelope = new Webhook(this.secret).verify(body, headers) as Record<string, unknown>;
    } catch (error) {
      this.invalid.push(`${headers['webhook-id']}: ${String(error)}`);
      response.writeHead(400).end();
      return;
    }
    const received = {
      id: headers['webhook-id'] as string,
      position: envelope['position'] as number,
      envelope,
    };
    if (this.mode === 'unavailable') {
      this.unavailableAnswers += 1;
      response.writeHead(503, { 'Content-Type': 'text/plain' }).end('down for maintenance');
      return;
    }
    this.received.push(received);
    await this.hold?.(received);
    response.writeHead(204).end();
  }
}
