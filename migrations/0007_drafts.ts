/**
 * Drafts and scheduled events, kept outside the public log: nothing here is ever read by a public
 * route, the live feed or an export. A draft holds a list of new events with their ids fixed, so
 * publishing it is an idempotent append. Frozen in time.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('drafts')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('story_id', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) =>
      col
        .notNull()
        .check(
          sql`status in ('draft', 'scheduled', 'publishing', 'published', 'cancelled', 'failed')`,
        ),
    )
    // The events as the append endpoint takes them, each with its id.
    .addColumn('events', 'jsonb', (col) => col.notNull())
    .addColumn('publish_at', 'timestamptz')
    .addColumn('author', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    // While publishing: no other process takes the draft over before this time.
    .addColumn('claimed_until', 'timestamptz')
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('published_at', 'timestamptz')
    .addColumn('version', 'integer')
    .addColumn('positions', sql`bigint[]`)
    .addColumn('last_error', 'jsonb')
    .addCheckConstraint(
      'drafts_scheduled_have_a_time',
      sql`status <> 'scheduled' or publish_at is not null`,
    )
    .addCheckConstraint('drafts_drafts_have_no_time', sql`status <> 'draft' or publish_at is null`)
    .addCheckConstraint(
      'drafts_published_have_positions',
      sql`status <> 'published' or (positions is not null and version is not null)`,
    )
    .execute();
  await db.schema
    .createIndex('drafts_by_story')
    .on('drafts')
    .columns(['story_id', 'status'])
    .execute();
  // What the scheduler looks for on every tick: due scheduled drafts, and abandoned claims.
  await db.schema
    .createIndex('drafts_due')
    .on('drafts')
    .column('publish_at')
    .where(sql.ref('status'), '=', 'scheduled')
    .execute();
  await db.schema
    .createIndex('drafts_claimed')
    .on('drafts')
    .column('claimed_until')
    .where(sql.ref('status'), '=', 'publishing')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('drafts').execute();
}
