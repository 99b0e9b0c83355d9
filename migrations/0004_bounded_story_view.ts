/**
 * The story view no longer carries the corrections log or each claim's disputes (they stay on the
 * timeline entries), so its row stops growing with every correction. Views are projections: this
 * drops the old ones, and the service rebuilds them from the log with the current fold right
 * after migrating (see `viewsRebuiltBy` in src/adapters/postgres/migrate.ts). Frozen in time.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.deleteFrom('timeline_entries').execute();
  await db.deleteFrom('stories').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  // Views of the old shape come back with a rebuild by the old version.
  await db.deleteFrom('timeline_entries').execute();
  await db.deleteFrom('stories').execute();
}
