/**
 * Tokens get a scope: `publish` (every token made so far, and the default) may append; `admin`
 * may also manage tokens. Frozen in time.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('api_tokens')
    .addColumn('scope', 'text', (col) =>
      col
        .notNull()
        .defaultTo('publish')
        .check(sql`scope in ('publish', 'admin')`),
    )
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('api_tokens').dropColumn('scope').execute();
}
