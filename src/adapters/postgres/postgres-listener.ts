/**
 * LISTEN on one dedicated connection, used only as a wake-up for the live feed. When the
 * connection drops (a restart, pg_terminate_backend, a network cut) it reconnects with backoff
 * and wakes the feed once more, since notifications sent meanwhile are gone: the feed reads the
 * log by position, so nothing is lost, only delayed.
 */
import pg from 'pg';
import type { ChangeSignal } from '../../app/live-feed.ts';
import { eventsChannel } from './postgres-event-log.ts';

export const listenerApplicationName = 'storyline-listen';

export class PostgresListener implements ChangeSignal {
  readonly #connectionString: string;
  readonly #onError: (error: unknown) => void;
  #client: pg.Client | null = null;
  #onChange: () => void = () => undefined;
  #closed = false;
  #retryMs = 100;
  #timer: NodeJS.Timeout | null = null;

  constructor(connectionString: string, onError: (error: unknown) => void = () => undefined) {
    this.#connectionString = connectionString;
    this.#onError = onError;
  }

  start(onChange: () => void): void {
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
    client.on('notification', () => this.#onChange());
    this.#client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${eventsChannel}`);
      this.#retryMs = 100;
      // Whatever was committed while we were not listening.
      this.#onChange();
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
