/**
 * The event log, its projections and the publish tokens. Frozen in time: this file never imports
 * application code, and once shipped it is never edited; later changes are new migrations.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Identifies this log, so a client holding a cursor can tell it belongs to another database.
  await db.schema
    .createTable('log_meta')
    .addColumn('singleton', 'boolean', (col) =>
      col
        .primaryKey()
        .defaultTo(true)
        .check(sql`singleton`),
    )
    .addColumn('log_epoch', 'uuid', (col) => col.notNull().defaultTo(sql`gen_random_uuid()`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`insert into log_meta default values`.execute(db);

  // position: global and in commit order (appends hold an advisory lock from before they
  // allocate a position until commit), so `position > cursor` never skips an event.
  await db.schema
    .createTable('events')
    .addColumn('position', 'bigint', (col) => col.primaryKey())
    .addColumn('story_id', 'text', (col) => col.notNull())
    .addColumn('version', 'integer', (col) => col.notNull().check(sql`version >= 1`))
    .addColumn('id', 'uuid', (col) => col.notNull().unique())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('schema_version', 'integer', (col) => col.notNull())
    .addColumn('data', 'jsonb', (col) => col.notNull())
    .addColumn('metadata', 'jsonb', (col) => col.notNull())
    .addColumn('occurred_at', 'timestamptz', (col) => col.notNull())
    // The instant exactly as the editor gave it, offset included (timestamptz keeps only UTC).
    .addColumn('occurred_at_text', 'text', (col) => col.notNull())
    .addColumn('recorded_at', 'timestamptz', (col) => col.notNull())
    .addUniqueConstraint('events_story_version', ['story_id', 'version'])
    .execute();
  await db.schema.createIndex('events_recorded_at').on('events').column('recorded_at').execute();

  // Immutability is the database's job too: no application path updates or deletes events.
  await sql`
    create function events_are_immutable() returns trigger language plpgsql as $$
    begin
      raise exception 'the event log is append-only' using errcode = 'P0001';
    end $$`.execute(db);
  await sql`
    create trigger events_append_only before update or delete on events
    for each row execute function events_are_immutable()`.execute(db);

  // The story view, one row per story: everything but the timeline.
  await db.schema
    .createTable('stories')
    .addColumn('story_id', 'text', (col) => col.primaryKey())
    .addColumn('version', 'integer', (col) => col.notNull())
    .addColumn('position', 'bigint', (col) => col.notNull())
    .addColumn('title', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    .addColumn('view', 'json', (col) => col.notNull())
    .execute();

  // The timeline, one row per development, so an append rewrites only what it touches.
  await db.schema
    .createTable('timeline_entries')
    .addColumn('story_id', 'text', (col) => col.notNull())
    .addColumn('development_id', 'text', (col) => col.notNull())
    .addColumn('occurred_at', 'timestamptz', (col) => col.notNull())
    .addColumn('reported_position', 'bigint', (col) => col.notNull())
    .addColumn('entry', 'json', (col) => col.notNull())
    .addPrimaryKeyConstraint('timeline_entries_pk', ['story_id', 'development_id'])
    .execute();
  await db.schema
    .createIndex('timeline_entries_order')
    .on('timeline_entries')
    .columns(['story_id', 'occurred_at', 'reported_position'])
    .execute();

  await db.schema
    .createTable('api_tokens')
    .addColumn('token_hash', 'text', (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull())
    // null: every story; otherwise the only stories this token may publish to.
    .addColumn('stories', sql`text[]`)
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('revoked_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('api_tokens').execute();
  await db.schema.dropTable('timeline_entries').execute();
  await db.schema.dropTable('stories').execute();
  await db.schema.dropTable('events').execute();
  await sql`drop function events_are_immutable()`.execute(db);
  await db.schema.dropTable('log_meta').execute();
}
