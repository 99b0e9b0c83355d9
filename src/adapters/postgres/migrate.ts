import { Migrator, type Kysely, type MigrationResultSet } from 'kysely';

// Migrations see the database untyped, as they did when they were written.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDatabase = Kysely<any>;
import { migrations } from '../../../migrations/index.ts';

const provider = { getMigrations: () => Promise.resolve({ ...migrations }) };

/**
 * Applies every pending migration. Kysely's migrator takes its own lock, so processes starting
 * together migrate once.
 */
export async function migrateToLatest(db: AnyDatabase): Promise<readonly string[]> {
  const result: MigrationResultSet = await new Migrator({ db, provider }).migrateToLatest();
  if (result.error !== undefined) {
    const failed = result.results?.find((item) => item.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed`, { cause: result.error });
  }
  return (result.results ?? []).map((item) => item.migrationName);
}

/**
 * Migrations that drop the views because their shape changed: once one has run, the caller
 * rebuilds the views from the log with the current fold (the log is the source of truth; views
 * are projections a migration cannot compute, since migrations never import the fold).
 */
export const viewsRebuiltBy: ReadonlySet<string> = new Set(['0004_bounded_story_view']);

/** Whether every known migration has been applied. */
export async function migrationsApplied(db: AnyDatabase): Promise<boolean> {
  const known = await new Migrator({ db, provider }).getMigrations();
  return known.every((migration) => migration.executedAt !== undefined);
}
