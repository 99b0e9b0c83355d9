/**
 * Views stored by an older fold whose shape the current fold no longer writes. A migration that
 * changes the shape drops the views (see `viewsRebuiltBy` in migrate.ts); a change that needs no
 * migration of its own is detected here instead, from the stored views themselves, so a database
 * written by an older version is rebuilt on start all the same.
 */
import { sql, type Kysely } from 'kysely';
import { statementsKept } from '../../domain/story-fold.ts';
import type { Database } from './database.ts';

/** Whether any stored story view lacks something the current fold always writes. */
export async function viewsOutOfShape(db: Kysely<Database>): Promise<boolean> {
  // Each actor carries its latest statements since the fold keeps latest statements right after
  // corrections and retractions, and at most `statementsKept` of them since that was bounded.
  const { rows } = await sql<{ stale: boolean }>`
    select exists (
      select 1 from stories s, json_array_elements(s.view -> 'actors') as actor
       where actor -> 'statements' is null
          or json_array_length(actor -> 'statements') > ${statementsKept}
    ) as stale
  `.execute(db);
  return rows[0]?.stale ?? false;
}
