/**
 * Publish tokens. Only a SHA-256 of each token is stored: a leaked database does not leak
 * tokens, and the token is high-entropy, so no slow hash is needed.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Publisher, TokenStore } from '../../app/ports.ts';
import { StorylineError } from '../../domain/errors.ts';
import { storyIdSchema } from '../../domain/event-types.ts';
import type { Database } from './database.ts';

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

export class PostgresTokens implements TokenStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async create(name: string, stories?: readonly string[]): Promise<string> {
    if (!/^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$/.test(name)) {
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
        revoked_at: null,
      })
      .execute();
    return token;
  }

  async verify(token: string): Promise<Publisher | null> {
    const row = await this.#db
      .selectFrom('api_tokens')
      .select(['name', 'stories'])
      .where('token_hash', '=', hash(token))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return row === undefined ? null : { name: row.name, stories: row.stories };
  }

  async revoke(name: string): Promise<number> {
    const result = await this.#db
      .updateTable('api_tokens')
      .set({ revoked_at: new Date() })
      .where('name', '=', name)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}
