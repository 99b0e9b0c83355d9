/**
 * Drafts in PostgreSQL (the `drafts` table, migration 0007). Every change is one statement whose
 * `where` names the states it may start from, so two processes (or a "publish now" and the
 * scheduler) can never both move a draft out of the same state; the database serializes them.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Draft, DraftClaim, DraftError, DraftStatus, DraftStore } from '../../app/drafts.ts';
import type { IdentifiedEvent } from '../../app/decide-appends.ts';
import type { Database, DraftsTable } from './database.ts';

type Row = Selectable<DraftsTable>;

const afterMs = (ms: number) => sql<Date>`now() + make_interval(secs => ${ms / 1000})`;

export class PostgresDrafts implements DraftStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async create(draft: {
    readonly id: string;
    readonly storyId: string;
    readonly events: readonly IdentifiedEvent[];
    readonly publishAt: string | null;
    readonly author: string;
  }): Promise<Draft> {
    const row = await this.#db
      .insertInto('drafts')
      .values({
        id: draft.id,
        story_id: draft.storyId,
        status: draft.publishAt === null ? 'draft' : 'scheduled',
        events: JSON.stringify(draft.events),
        publish_at: draft.publishAt,
        author: draft.author,
        claimed_until: null,
        published_at: null,
        version: null,
        positions: null,
        last_error: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return draftOf(row);
  }

  async get(storyId: string, draftId: string): Promise<Draft | null> {
    const row = await this.#db
      .selectFrom('drafts')
      .selectAll()
      .where('story_id', '=', storyId)
      .where('id', '=', draftId)
      .executeTakeFirst();
    return row === undefined ? null : draftOf(row);
  }

  async list(storyId: string, statuses: readonly DraftStatus[]): Promise<readonly Draft[]> {
    if (statuses.length === 0) return [];
    const rows = await this.#db
      .selectFrom('drafts')
      .selectAll()
      .where('story_id', '=', storyId)
      .where('status', 'in', statuses)
      .orderBy(sql`publish_at asc nulls last`)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(draftOf);
  }

  async update(
    storyId: string,
    draftId: string,
    changes: { readonly events?: readonly IdentifiedEvent[]; readonly publishAt?: string | null },
  ): Promise<Draft | null> {
    const row = await this.#db
      .updateTable('drafts')
      .set({
        updated_at: sql`now()`,
        ...(changes.events === undefined ? {} : { events: JSON.stringify(changes.events) }),
        ...(changes.publishAt === undefined
          ? {}
          : {
              publish_at: changes.publishAt,
              status: changes.publishAt === null ? 'draft' : 'scheduled',
            }),
      })
      .where('story_id', '=', storyId)
      .where('id', '=', draftId)
      .where('status', 'in', ['draft', 'scheduled'])
      .returningAll()
      .executeTakeFirst();
    return row === undefined ? null : draftOf(row);
  }

  async cancel(
    storyId: string,
    draftId: string,
    from: readonly DraftStatus[],
  ): Promise<Draft | null> {
    const row = await this.#db
      .updateTable('drafts')
      .set({ status: 'cancelled', claimed_until: null, updated_at: sql`now()` })
      .where('story_id', '=', storyId)
      .where('id', '=', draftId)
      .where('status', 'in', from)
      .returningAll()
      .executeTakeFirst();
    return row === undefined ? null : draftOf(row);
  }

  async claim(storyId: string, draftId: string, leaseMs: number): Promise<DraftClaim> {
    const row = await this.#db
      .updateTable('drafts')
      .set({
        status: 'publishing',
        claimed_until: afterMs(leaseMs),
        attempts: sql`attempts + 1`,
        updated_at: sql`now()`,
      })
      .where('story_id', '=', storyId)
      .where('id', '=', draftId)
      .where('status', 'in', ['draft', 'scheduled', 'failed', 'publishing'])
      .returningAll()
      .executeTakeFirst();
    if (row !== undefined) return { claimed: true, draft: draftOf(row) };
    return { claimed: false, draft: await this.get(storyId, draftId) };
  }

  /**
   * `for update skip locked`: a draft another process is claiming in this instant is left to
   * it, and once that claim commits the draft is `publishing` with a lease, so no longer due.
   *
   * A story's drafts are published in publishAt order, across processes too: a due draft is
   * left for a later tick while an earlier one of its story is still due or publishing outside
   * this claim (claimed by another process, or locked by its claim right now). Drafts claimed
   * together are appended in order by the caller.
   */
  async claimDue(limit: number, leaseMs: number): Promise<readonly Draft[]> {
    const result = await sql<Row>`
      with candidates as (
        select id, story_id, publish_at, created_at from drafts
        where (status = 'scheduled' and publish_at <= now())
           or (status = 'publishing' and claimed_until <= now())
        order by publish_at nulls first, created_at, id
        limit ${limit}
        for update skip locked
      ),
      ready as (
        select c.id from candidates c
        where not exists (
          select 1 from drafts earlier
          where earlier.story_id = c.story_id
            and earlier.id not in (select id from candidates)
            and (earlier.status = 'publishing'
                 or (earlier.status = 'scheduled' and earlier.publish_at <= now()))
            and (earlier.publish_at, earlier.created_at, earlier.id)
                < (c.publish_at, c.created_at, c.id)
        )
      )
      update drafts set
        status = 'publishing',
        claimed_until = ${afterMs(leaseMs)},
        attempts = attempts + 1,
        updated_at = now()
      where id in (select id from ready)
      returning *`.execute(this.#db);
    return result.rows.map(draftOf).sort(publishOrder);
  }

  async markPublished(
    draftId: string,
    result: { readonly version: number; readonly positions: readonly number[] },
  ): Promise<Draft> {
    // Whatever state the draft is in: its events are in the log, so it is published.
    const row = await this.#db
      .updateTable('drafts')
      .set({
        status: 'published',
        version: result.version,
        positions: [...result.positions],
        published_at: sql`coalesce(published_at, now())`,
        claimed_until: null,
        last_error: null,
        updated_at: sql`now()`,
      })
      .where('id', '=', draftId)
      .returningAll()
      .executeTakeFirstOrThrow();
    return draftOf(row);
  }

  async markFailed(draftId: string, error: DraftError): Promise<Draft | null> {
    const row = await this.#db
      .updateTable('drafts')
      .set({
        status: 'failed',
        last_error: JSON.stringify(error),
        claimed_until: null,
        updated_at: sql`now()`,
      })
      .where('id', '=', draftId)
      .where('status', '=', 'publishing')
      .returningAll()
      .executeTakeFirst();
    return row === undefined ? null : draftOf(row);
  }

  async noteRetry(draftId: string, error: DraftError, retryInMs: number): Promise<void> {
    await this.#db
      .updateTable('drafts')
      .set({
        last_error: JSON.stringify(error),
        claimed_until: afterMs(retryInMs),
        updated_at: sql`now()`,
      })
      .where('id', '=', draftId)
      .where('status', '=', 'publishing')
      .execute();
  }
}

function draftOf(row: Row): Draft {
  return {
    id: row.id,
    storyId: row.story_id,
    status: row.status,
    events: row.events as IdentifiedEvent[],
    publishAt: row.publish_at === null ? null : new Date(row.publish_at).toISOString(),
    author: row.author,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    publishedAt: row.published_at === null ? null : new Date(row.published_at).toISOString(),
    version: row.version,
    positions: row.positions === null ? null : row.positions.map(Number),
    attempts: row.attempts,
    lastError: (row.last_error ?? null) as DraftError | null,
  };
}

/** By publishAt (drafts published now first), then by when they were made. */
function publishOrder(a: Draft, b: Draft): number {
  return (
    compare(a.publishAt ?? '', b.publishAt ?? '') ||
    compare(a.createdAt, b.createdAt) ||
    compare(a.id, b.id)
  );
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
