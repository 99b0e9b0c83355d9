/**
 * Sessions of the newsroom desk (`/desk`): a browser signs in with a publish token once and then
 * holds only a random session id in a cookie. The table keeps a SHA-256 of that id (a leaked
 * database does not leak sessions), the hash of the token it was opened with (so the session has
 * the token's name, scope and stories, and ends when the token is revoked), the session's CSRF
 * token, and when it expires. Frozen in time.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('desk_sessions')
    .addColumn('session_hash', 'text', (col) => col.primaryKey())
    .addColumn('token_hash', 'text', (col) =>
      col.notNull().references('api_tokens.token_hash').onDelete('cascade'),
    )
    .addColumn('csrf_token', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('desk_sessions_expires_at')
    .on('desk_sessions')
    .column('expires_at')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('desk_sessions').execute();
}
