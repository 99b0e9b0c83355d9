/**
 * Webhook endpoints, each with its own durable cursor: the last log position it has been given
 * (delivered with a 2xx, or passed over as not one of its stories). Delivery resumes from it
 * after a restart, so nothing is skipped. Frozen in time.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('webhooks')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('url', 'text', (col) => col.notNull())
    // Needed in the clear to sign each delivery (Standard Webhooks' symmetric `whsec_` secret).
    .addColumn('secret', 'text', (col) => col.notNull())
    // null: every story.
    .addColumn('stories', sql`text[]`)
    .addColumn('cursor', 'bigint', (col) => col.notNull().check(sql`cursor >= 0`))
    .addColumn('state', 'text', (col) =>
      col
        .notNull()
        .defaultTo('active')
        .check(sql`state in ('active', 'paused')`),
    )
    // Consecutive failed attempts since the last 2xx.
    .addColumn('failures', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('last_error_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('webhooks').execute();
}
