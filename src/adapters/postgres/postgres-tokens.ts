/**
 * Tokens, each with a scope (`publish`, or `admin`, which also manages tokens). Only a SHA-256 of each token is stored: a leaked database does not leak
 * tokens, and the token is high-entropy, so no slow hash is needed.
 *
 * Checks are cached briefly so an append does not cost a query for its token. A revocation
 * notifies every process on `tokensChannel` in the same transaction, and each drops its cache
 * (see `forgetCached`); the time limit bounds how long a revoked token can still work should that
 * notification be lost.
 */
import { createHash, randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import {
  tokenNamePattern,
  type Publisher,
  type TokenInfo,
  type TokenScope,
  type TokenStore,
} from '../../app/ports.ts';
import { StorylineError } from '../../domain/errors.ts';
import { storyIdSchema } from '../../domain/event-types.ts';
import type { Database } from './database.ts';

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/** Notified when a token is revoked. */
export const tokensChannel = 'storyline_tokens';

export interface TokenCacheOptions {
  /** How long a known token is trusted without asking the database. */
  readonly ttlMs?: number;
  /** How long an unknown token is remembered as unknown. */
  readonly negativeTtlMs?: number;
  readonly maxEntries?: number;
}

interface CachedCheck {
  readonly publisher: Publisher | null;
  readonly until: number;
}

export class PostgresTokens implements TokenStore {
  readonly #db: Kysely<Database>;
  readonly #ttlMs: number;
  readonly #negativeTtlMs: number;
  readonly #maxEntries: number;
  readonly #checks = new Map<string, CachedCheck>();

  constructor(db: Kysely<Database>, options: TokenCacheOptions = {}) {
    this.#db = db;
    this.#ttlMs = options.ttlMs ?? 10_000;
    this.#negativeTtlMs = options.negativeTtlMs ?? 1000;
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  /** A revocation somewhere (or a lost notification): check every token again. */
  forgetCached(): void {
    this.#checks.clear();
  }

  async create(
    name: string,
    stories?: readonly string[],
    scope: TokenScope = 'publish',
  ): Promise<string> {
    if (!tokenNamePattern.test(name)) {
      throw new StorylineError(
        'invalid_request',
        'a token name is 1-64 letters, digits, spaces, dots, dashes, underscores or @',
      );
    }
    const bad = stories?.find((storyId) => !storyIdSchema.safeParse(storyId).success);
    if (bad !== undefined) throw new StorylineError('invalid_request', `bad story id "${bad}"`);
    const token = `sl_${randomBytes(32).toString('base64url')}`;
    await this.#db
      .insertInto('api_tokens')
      .values({
        name,
        token_hash: hash(token),
        stories: stories === undefined || stories.length === 0 ? null : [...stories],
        scope,
        revoked_at: null,
      })
      .execute();
    return token;
  }

  async verify(token: string): Promise<Publisher | null> {
    const key = hash(token);
    const now = Date.now();
    const cached = this.#checks.get(key);
    if (cached !== undefined && cached.until > now) return cached.publisher;
    const row = await this.#db
      .selectFrom('api_tokens')
      .select(['name', 'stories', 'scope'])
      .where('token_hash', '=', key)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    const publisher =
      row === undefined ? null : { name: row.name, stories: row.stories, scope: row.scope };
    if (this.#checks.size >= this.#maxEntries) this.#checks.clear();
    this.#checks.set(key, {
      publisher,
      until: now + (publisher === null ? this.#negativeTtlMs : this.#ttlMs),
    });
    return publisher;
  }

  async revoke(name: string): Promise<number> {
    const revoked = await this.#db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('api_tokens')
        .set({ revoked_at: new Date() })
        .where('name', '=', name)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      // Delivered at commit, to every process's listener.
      await sql`select pg_notify(${tokensChannel}, '')`.execute(trx);
      return Number(result.numUpdatedRows);
    });
    this.forgetCached();
    return revoked;
  }

  async list(): Promise<readonly TokenInfo[]> {
    const rows = await this.#db
      .selectFrom('api_tokens')
      .select(['name', 'scope', 'stories', 'created_at', 'revoked_at'])
      .orderBy('created_at')
      .orderBy('name')
      .execute();
    return rows.map((row) => ({
      name: row.name,
      scope: row.scope,
      stories: row.stories,
      createdAt: row.created_at.toISOString(),
      revokedAt: row.revoked_at?.toISOString() ?? null,
    }));
  }
}
