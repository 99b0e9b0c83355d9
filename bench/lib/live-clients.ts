/**
 * Many WebSocket clients of `/v1/live` (README, "Live updates: WebSocket"), or of the bare `ws`
 * baseline, in the bench process. Frames are classified by their top-level `type` without a full
 * JSON parse where the frame starts with it (Storyline's do), so that counting a million
 * deliveries costs the client little and the same for both sides.
 */
import WebSocket from 'ws';
import type { Scope } from './scenario.ts';

const typePrefix = '{"type":"';

/** The frame's top-level `type` (`subscribed`, `snapshot`, `event`, …). */
export function frameType(data: Buffer): string {
  if (data.toString('latin1', 0, typePrefix.length) === typePrefix) {
    const end = data.indexOf(34 /* " */, typePrefix.length);
    if (end > 0 && end < 64) return data.toString('latin1', typePrefix.length, end);
  }
  const parsed = JSON.parse(data.toString()) as unknown;
  const type =
    typeof parsed === 'object' && parsed !== null ? (parsed as { type?: unknown }).type : null;
  return typeof type === 'string' ? type : 'unknown';
}

export interface LiveClient {
  readonly index: number;
  readonly socket: WebSocket;
  /** `event` frames received. */
  events: number;
  subscribed: boolean;
  /** performance.now() of the last `event` frame. */
  lastEventAt: number;
  closeCode: number | null;
  failed: string | null;
}

export type FrameListener = (client: LiveClient, type: string, data: Buffer, now: number) => void;

export interface OpenOptions {
  readonly count: number;
  readonly url: (index: number) => string;
  /** Handshakes in flight at once (ignored with spreadMs). */
  readonly concurrency?: number;
  /** Start connection i at i × spreadMs / count after the first, whatever is in flight. */
  readonly spreadMs?: number;
  readonly onFrame?: FrameListener;
  /** Until when to wait for the handshakes. */
  readonly deadline: number;
}

export class LiveClients {
  readonly clients: LiveClient[] = [];
  #closing = false;

  private constructor(scope: Scope) {
    scope.defer(() => this.close());
  }

  /** Opens `count` clients; resolves when every handshake has succeeded or failed. */
  static async open(scope: Scope, options: OpenOptions): Promise<LiveClients> {
    const set = new LiveClients(scope);
    await set.#open(options);
    return set;
  }

  get failed(): number {
    return this.clients.filter((client) => client.failed !== null).length;
  }

  /** Clients closed by the other side (a 4008 slow-consumer close, a crash). */
  get closedEarly(): number {
    return this.#closing ? 0 : this.clients.filter((client) => client.closeCode !== null).length;
  }

  get subscribed(): number {
    return this.clients.filter((client) => client.subscribed).length;
  }

  get events(): number {
    return this.clients.reduce((sum, client) => sum + client.events, 0);
  }

  /** Polls `condition` every few milliseconds until it holds or the deadline passes. */
  async waitUntil(condition: () => boolean, deadline: number): Promise<boolean> {
    while (!condition()) {
      if (performance.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return true;
  }

  /** Every client that opened has `count` events (or some were closed by the server). */
  allHave(count: number): () => boolean {
    return () =>
      this.clients.every(
        (client) => client.failed !== null || client.closeCode !== null || client.events >= count,
      );
  }

  /** Closes every client and waits for the close handshakes (cut off after 5 s). */
  async close(): Promise<void> {
    this.#closing = true;
    const open = this.clients.filter((client) => client.socket.readyState !== WebSocket.CLOSED);
    const closed = open.map(
      ({ socket }) => new Promise<void>((resolve) => socket.once('close', () => resolve())),
    );
    for (const { socket } of open) {
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      else socket.close();
    }
    const timer = setTimeout(() => {
      for (const { socket } of open) socket.terminate();
    }, 5000);
    await Promise.all(closed);
    clearTimeout(timer);
  }

  async #open(options: OpenOptions): Promise<void> {
    const connect = (index: number) =>
      new Promise<void>((resolve) => {
        const socket = new WebSocket(options.url(index), {
          perMessageDeflate: false,
          maxPayload: 1024 * 1024 * 1024,
        });
        const client: LiveClient = {
          index,
          socket,
          events: 0,
          subscribed: false,
          lastEventAt: 0,
          closeCode: null,
          failed: null,
        };
        this.clients[index] = client;
        socket.on('message', (data: Buffer) => {
          const now = performance.now();
          const type = frameType(data);
          if (type === 'event') {
            client.events++;
            client.lastEventAt = now;
          } else if (type === 'subscribed') {
            client.subscribed = true;
          }
          options.onFrame?.(client, type, data, now);
        });
        socket.once('open', () => resolve());
        socket.once('error', (error) => {
          client.failed ??= error.message;
          resolve();
        });
        socket.once('close', (code) => {
          client.closeCode = code;
          resolve();
        });
      });
    if (options.spreadMs !== undefined) {
      const start = performance.now();
      const step = options.spreadMs / options.count;
      const opened: Promise<void>[] = [];
      for (let index = 0; index < options.count; index++) {
        const wait = start + index * step - performance.now();
        if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
        opened.push(connect(index));
      }
      await Promise.all(opened);
      return;
    }
    let next = 0;
    const worker = async () => {
      while (next < options.count && performance.now() < options.deadline) {
        await connect(next++);
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(options.concurrency ?? 100, options.count) }, worker),
    );
    if (next < options.count) {
      throw new Error(`opened only ${next} of ${options.count} WebSocket clients in time`);
    }
  }
}
