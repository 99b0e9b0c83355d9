/**
 * LISTEN on one dedicated connection, used only as a wake-up: for the live feed, and for any
 * other channel given (token revocations). When the connection drops (a restart,
 * pg_terminate_backend, a network cut) it reconnects with backoff and calls every wake-up once
 * more, since notifications sent meanwhile are gone: the feed reads the log by position, so
 * nothing is lost, only delayed.
 */
import pg from 'pg';
import type { ChangeSignal } from '../../app/live-feed.ts';
import { defaultConnectionTimeouts } from './connect.ts';
import { eventsChannel } from './postgres-event-log.ts';

export const listenerApplicationName = 'storyline-listen';

export interface ListenerOptions {
  /**
   * Gives up on a connection attempt after this long and tries again: a server that accepts the
   * connection and never answers must not leave the feed without its wake-ups for ever.
   */
  readonly connectTimeoutMs?: number;
}

export class PostgresListener implements ChangeSignal {
  readonly #connectionString: string;
  readonly #onError: (error: unknown) => void;
  readonly #channels: ReadonlyMap<string, () => void>;
  readonly #connectTimeoutMs: number;
  #client: pg.Client | null = null;
  #onChange: (position?: number) => void = () => undefined;
  #closed = false;
  #retryMs = 100;
  #timer: NodeJS.Timeout | null = null;

  /** @param channels other channels to LISTEN on, each with what to call when it fires */
  constructor(
    connectionString: string,
    onError: (error: unknown) => void = () => undefined,
    channels: ReadonlyMap<string, () => void> = new Map(),
    options: ListenerOptions = {},
  ) {
    this.#connectTimeoutMs = options.connectTimeoutMs ?? defaultConnectionTimeouts.connectMs;
    this.#connectionString = connectionString;
    this.#onError = onError;
    this.#channels = channels;
  }

  start(onChange: (position?: number) => void): void {
    this.#onChange = onChange;
    void this.#connect();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({
      connectionString: this.#connectionString,
      application_name: listenerApplicationName,
      connectionTimeoutMillis: this.#connectTimeoutMs,
      // The connection idles between notifications: a server that vanished without a reset (a
      // cut network) is then noticed by TCP keepalive, and the listener reconnects.
      keepAlive: true,
    });
    const lost = (error?: unknown) => {
      if (error !== undefined) this.#onError(error);
      if (this.#client !== client) return;
      this.#client = null;
      client.removeAllListeners('notification');
      void client.end().catch(() => undefined);
      this.#retry();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (message) => {
      const other = this.#channels.get(message.channel);
      if (other !== undefined) {
        other();
        return;
      }
      // The payload is the last position the commit wrote (storyline_append).
      const position = Number(message.payload);
      this.#onChange(Number.isSafeInteger(position) && position > 0 ? position : undefined);
    });
    this.#client = client;
    try {
      await client.connect();
      for (const channel of [eventsChannel, ...this.#channels.keys()]) {
        await client.query(`LISTEN ${channel}`);
      }
      this.#retryMs = 100;
      // Whatever was committed or sent while we were not listening.
      this.#onChange();
      for (const other of this.#channels.values()) other();
    } catch (error) {
      lost(error);
    }
  }

  #retry(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => void this.#connect(), this.#retryMs);
    this.#timer.unref();
    this.#retryMs = Math.min(this.#retryMs * 2, 5000);
  }
}
