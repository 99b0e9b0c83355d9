/**
 * Webhook endpoints and their cursors in PostgreSQL (the `webhooks` table, migration 0006).
 *
 * The secret is stored as it is: signing needs it (Standard Webhooks' secrets are symmetric). It
 * leaves the database only to sign, and in the one answer that creates it.
 */
import { randomBytes } from 'node:crypto';
import type { ColumnType, Generated, Kysely, Selectable } from 'kysely';
import type {
  NewWebhook,
  WebhookEndpoint,
  WebhookState,
  WebhookStore,
  WebhookTarget,
} from '../../app/webhook-ports.ts';
import type { Database } from '../postgres/database.ts';
import { newWebhookSecret } from './webhook-signature.ts';

export interface WebhooksTable {
  id: string;
  url: string;
  secret: string;
  stories: string[] | null;
  cursor: number;
  state: Generated<WebhookState>;
  failures: Generated<number>;
  last_error: string | null;
  last_error_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: Generated<Date>;
}

type WebhookDatabase = Database & { webhooks: WebhooksTable };

const listed = [
  'id',
  'url',
  'stories',
  'cursor',
  'state',
  'failures',
  'last_error',
  'last_error_at',
  'created_at',
] as const;

export class PostgresWebhooks implements WebhookStore {
  readonly #db: Kysely<WebhookDatabase>;

  constructor(db: Kysely<Database>) {
    this.#db = db.withTables<{ webhooks: WebhooksTable }>();
  }

  async create(
    webhook: NewWebhook,
  ): Promise<{ readonly endpoint: WebhookEndpoint; readonly secret: string }> {
    const secret = newWebhookSecret();
    const row = await this.#db
      .insertInto('webhooks')
      .values({
        id: `wh_${randomBytes(9).toString('base64url')}`,
        url: webhook.url,
        secret,
        stories: webhook.stories === null ? null : [...webhook.stories],
        cursor: webhook.cursor,
        last_error: null,
      })
      .returning(listed)
      .executeTakeFirstOrThrow();
    return { endpoint: endpointOf(row), secret };
  }

  async list(): Promise<readonly WebhookEndpoint[]> {
    const rows = await this.#db
      .selectFrom('webhooks')
      .select(listed)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(endpointOf);
  }

  async remove(id: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async resume(id: string): Promise<WebhookEndpoint | null> {
    const row = await this.#db
      .updateTable('webhooks')
      .set({ state: 'active', failures: 0 })
      .where('id', '=', id)
      .returning(listed)
      .executeTakeFirst();
    return row === undefined ? null : endpointOf(row);
  }

  async active(): Promise<readonly WebhookTarget[]> {
    const rows = await this.#db
      .selectFrom('webhooks')
      .select([...listed, 'secret'])
      .where('state', '=', 'active')
      .orderBy('created_at')
      .execute();
    return rows.map((row) => ({ ...endpointOf(row), secret: row.secret }));
  }

  async advance(id: string, from: number, to: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('webhooks')
      .set({ cursor: to, failures: 0 })
      .where('id', '=', id)
      .where('cursor', '=', from)
      .where('state', '=', 'active')
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async recordFailure(
    id: string,
    cursor: number,
    failure: { readonly failures: number; readonly error: string; readonly pause: boolean },
  ): Promise<boolean> {
    const result = await this.#db
      .updateTable('webhooks')
      .set({
        failures: failure.failures,
        last_error: failure.error,
        last_error_at: new Date(),
        ...(failure.pause ? { state: 'paused' as const } : {}),
      })
      .where('id', '=', id)
      .where('cursor', '=', cursor)
      .where('state', '=', 'active')
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}

function endpointOf(
  row: Pick<Selectable<WebhooksTable>, (typeof listed)[number]>,
): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    stories: row.stories,
    state: row.state,
    cursor: row.cursor,
    failures: row.failures,
    lastError: row.last_error,
    lastErrorAt: row.last_error_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
  };
}
