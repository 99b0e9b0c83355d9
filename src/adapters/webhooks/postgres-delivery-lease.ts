/**
 * The delivery lease as a PostgreSQL session-level advisory lock, held by a connection of its
 * own. PostgreSQL frees the lock when that session ends for any reason (the process exits or is
 * killed, the connection drops, an operator terminates the backend), so another process can take
 * over; the holder learns of it from the connection's `error`/`end`, or at the latest when the
 * next `tryAcquire` finds the connection broken, and stops delivering.
 *
 * The lock is per database: every Storyline process on one database competes for the same one.
 */
import pg from 'pg';
import type { DeliveryLease } from '../../app/webhook-ports.ts';

/** An arbitrary constant ("WHOK"), distinct from the append lock's. */
export const deliveryLockKey = 1464356683;

export const deliveryLeaseApplicationName = 'storyline-webhooks';

export class PostgresDeliveryLease implements DeliveryLease {
  readonly #connectionString: string;
  readonly #connectMs: number;
  #client: pg.Client | null = null;
  #held = false;
  #onLost: () => void = () => undefined;

  constructor(connectionString: string, options: { readonly connectMs?: number } = {}) {
    this.#connectionString = connectionString;
    this.#connectMs = options.connectMs ?? 5000;
  }

  async tryAcquire(onLost: () => void): Promise<boolean> {
    this.#onLost = onLost;
    const client = await this.#connection();
    try {
      if (this.#held) {
        // Still ours as long as the session answers: the lock lives as long as the session.
        await client.query('select 1');
        return true;
      }
      const { rows } = await client.query<{ held: boolean }>(
        'select pg_try_advisory_lock($1) as held',
        [deliveryLockKey],
      );
      this.#held = rows[0]?.held === true;
      return this.#held;
    } catch (error) {
      this.#drop(client);
      throw error;
    }
  }

  async release(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    this.#held = false;
    // Ending the session frees the lock.
    await client?.end().catch(() => undefined);
  }

  async #connection(): Promise<pg.Client> {
    if (this.#client !== null) return this.#client;
    const client = new pg.Client({
      connectionString: this.#connectionString,
      application_name: deliveryLeaseApplicationName,
      connectionTimeoutMillis: this.#connectMs,
      // A database that stopped answering must not hold up a sync, or a shutdown, for long.
      query_timeout: this.#connectMs,
      keepAlive: true,
    });
    client.on('error', () => this.#drop(client));
    client.on('end', () => this.#drop(client));
    await client.connect().catch(async (error: unknown) => {
      await client.end().catch(() => undefined);
      throw error;
    });
    this.#client = client;
    return client;
  }

  /** The session is gone, and the lock with it. */
  #drop(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = null;
    void client.end().catch(() => undefined);
    if (this.#held) {
      this.#held = false;
      this.#onLost();
    }
  }
}
