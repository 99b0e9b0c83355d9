/**
 * Desk sessions in PostgreSQL (`desk_sessions`, migration 0008). The session id is 32 random
 * bytes; only its SHA-256 is stored, like the tokens'. A session lives `ttlMs` from sign-in and
 * ends early when its token is revoked: every lookup joins the token and checks it, so a
 * revocation on any process ends the session everywhere at its next request.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DeskSession, DeskSessionStore } from '../../app/ports.ts';
import type { Database } from './database.ts';

const hash = (text: string) => createHash('sha256').update(text).digest('hex');

export class PostgresDeskSessions implements DeskSessionStore {
  readonly #db: Kysely<Database>;
  readonly #ttlMs: number;

  constructor(db: Kysely<Database>, options: { readonly ttlMs?: number } = {}) {
    this.#db = db;
    this.#ttlMs = options.ttlMs ?? 12 * 60 * 60 * 1000;
  }

  async open(token: string): Promise<{ id: string; session: DeskSession } | null> {
    const tokenHash = hash(token);
    const row = await this.#db
      .selectFrom('api_tokens')
      .select(['name', 'stories', 'scope'])
      .where('token_hash', '=', tokenHash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (row === undefined) return null;
    const id = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + this.#ttlMs);
    // Expired sessions go as new ones come: the table stays as small as its live sessions.
    await this.#db.deleteFrom('desk_sessions').where('expires_at', '<', new Date()).execute();
    await this.#db
      .insertInto('desk_sessions')
      .values({
        session_hash: hash(id),
        token_hash: tokenHash,
        csrf_token: csrfToken,
        expires_at: expiresAt,
      })
      .execute();
    const publisher = { name: row.name, stories: row.stories, scope: row.scope };
    return { id, session: { publisher, csrfToken, tokenKey: tokenHash, expiresAt } };
  }

  async find(id: string): Promise<DeskSession | null> {
    const row = await this.#db
      .selectFrom('desk_sessions')
      .innerJoin('api_tokens', 'api_tokens.token_hash', 'desk_sessions.token_hash')
      .select([
        'api_tokens.name',
        'api_tokens.stories',
        'api_tokens.scope',
        'desk_sessions.token_hash',
        'desk_sessions.csrf_token',
        'desk_sessions.expires_at',
      ])
      .where('desk_sessions.session_hash', '=', hash(id))
      .where('desk_sessions.expires_at', '>', new Date())
      .where('api_tokens.revoked_at', 'is', null)
      .executeTakeFirst();
    if (row === undefined) return null;
    return {
      publisher: { name: row.name, stories: row.stories, scope: row.scope },
      csrfToken: row.csrf_token,
      tokenKey: row.token_hash,
      expiresAt: row.expires_at,
    };
  }

  async end(id: string): Promise<void> {
    await this.#db.deleteFrom('desk_sessions').where('session_hash', '=', hash(id)).execute();
  }
}
