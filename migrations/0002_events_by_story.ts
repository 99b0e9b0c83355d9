/**
 * One story's events in log order (story feeds, time travel, live catch-up for a few stories)
 * without walking the whole log. Frozen in time.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('events_story_position')
    .on('events')
    .columns(['story_id', 'position'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('events_story_position').execute();
}
