/**
 * The event log's write side: one transaction per append batch, serialized on an advisory lock.
 *
 * Why a lock and not just a sequence: a sequence value is taken at insert but becomes visible at
 * commit, so a reader tailing `position > cursor` can pass over a lower position that commits
 * late and never see it. Taking a transaction-scoped lock before reading the head and allocating
 * positions means each append's positions come after every committed one, and the lock is only
 * released after the commit is visible. Position order is therefore commit order, and a single
 * integer is a safe cursor for every reader, in every process.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { LogChanges, LogTransaction, EventLog } from '../../app/ports.ts';
import { entryKey } from '../../app/ports.ts';
import type { RecordedEvent } from '../../domain/event-types.ts';
import type { StoryView, TimelineEntry } from '../../domain/story-view.ts';
import type { Database } from './database.ts';
import { chunks, eventFromRow, rowFromEvent } from './event-rows.ts';

/** The advisory lock every append takes (an arbitrary constant: "STOR"). */
const appendLockKey = 0x53544f52;
/** The channel woken after each append commit; the payload is the last position written. */
export const eventsChannel = 'storyline_events';

export class PostgresEventLog implements EventLog {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  withAppendLock<T>(work: (tx: LogTransaction) => Promise<T>): Promise<T> {
    return this.#db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${appendLockKey})`.execute(trx);
      // A fresh statement after the lock, so its snapshot holds every earlier commit. The clock
      // never runs behind the last recorded event, so recordedAt grows with position and
      // "as of a time" is always a prefix of the log.
      const { rows } = await sql<{ head: number; now: Date }>`
        select coalesce((select max(position) from events), 0)::int8 as head,
               greatest(clock_timestamp(), (select max(recorded_at) from events)) as now
      `.execute(trx);
      const row = rows[0];
      if (row === undefined) throw new Error('the head query returned no row');
      return work(new PostgresLogTransaction(trx, row.head, row.now.toISOString()));
    });
  }
}

class PostgresLogTransaction implements LogTransaction {
  readonly #trx: Transaction<Database>;
  readonly head: number;
  readonly recordedAt: string;

  constructor(trx: Transaction<Database>, head: number, recordedAt: string) {
    this.#trx = trx;
    this.head = head;
    this.recordedAt = recordedAt;
  }

  async findEvents(ids: readonly string[]): Promise<ReadonlyMap<string, RecordedEvent>> {
    if (ids.length === 0) return new Map();
    const rows = await this.#trx
      .selectFrom('events')
      .selectAll()
      .where('id', 'in', [...ids])
      .execute();
    return new Map(rows.map((row) => [row.id, eventFromRow(row)]));
  }

  async loadStories(storyIds: readonly string[]): Promise<ReadonlyMap<string, StoryView>> {
    if (storyIds.length === 0) return new Map();
    const rows = await this.#trx
      .selectFrom('stories')
      .select(['story_id', 'view'])
      .where('story_id', 'in', [...storyIds])
      .execute();
    return new Map(rows.map((row) => [row.story_id, row.view as StoryView]));
  }

  async loadEntries(
    keys: readonly { storyId: string; developmentId: string }[],
  ): Promise<ReadonlyMap<string, TimelineEntry>> {
    if (keys.length === 0) return new Map();
    const rows = await this.#trx
      .selectFrom('timeline_entries')
      .select(['story_id', 'entry'])
      .where((eb) =>
        eb(
          eb.refTuple('story_id', 'development_id'),
          'in',
          keys.map((key) => eb.tuple(key.storyId, key.developmentId)),
        ),
      )
      .execute();
    return new Map(
      rows.map((row) => {
        const entry = row.entry as TimelineEntry;
        return [entryKey(row.story_id, entry.developmentId), entry];
      }),
    );
  }

  async write(changes: LogChanges): Promise<void> {
    for (const part of chunks(changes.events, 1000)) {
      await this.#trx.insertInto('events').values(part.map(rowFromEvent)).execute();
    }
    for (const story of changes.stories) {
      const row = {
        story_id: story.storyId,
        version: story.version,
        position: story.position,
        title: story.title,
        status: story.status,
        updated_at: story.lastUpdateAt,
        view: JSON.stringify(story),
      };
      await this.#trx
        .insertInto('stories')
        .values(row)
        .onConflict((oc) => oc.column('story_id').doUpdateSet(row))
        .execute();
    }
    for (const part of chunks(changes.entries, 1000)) {
      await this.#trx
        .insertInto('timeline_entries')
        .values(
          part.map(({ storyId, entry }) => ({
            story_id: storyId,
            development_id: entry.developmentId,
            occurred_at: entry.occurredAt,
            reported_position: entry.reportedPosition,
            entry: JSON.stringify(entry),
          })),
        )
        .onConflict((oc) =>
          oc.columns(['story_id', 'development_id']).doUpdateSet((eb) => ({
            occurred_at: eb.ref('excluded.occurred_at'),
            entry: eb.ref('excluded.entry'),
          })),
        )
        .execute();
    }
    const last = changes.events.at(-1);
    if (last !== undefined) {
      // Delivered at commit, and only if the transaction commits.
      await sql`select pg_notify(${eventsChannel}, ${String(last.position)})`.execute(this.#trx);
    }
  }

  async storyIds(): Promise<readonly string[]> {
    const rows = await this.#trx
      .selectFrom('events')
      .select('story_id')
      .groupBy('story_id')
      .orderBy(sql`min(position)`)
      .execute();
    return rows.map((row) => row.story_id);
  }

  async storyEvents(storyId: string): Promise<readonly RecordedEvent[]> {
    const rows = await this.#trx
      .selectFrom('events')
      .selectAll()
      .where('story_id', '=', storyId)
      .orderBy('position')
      .execute();
    return rows.map(eventFromRow);
  }

  async clearViews(): Promise<void> {
    await this.#trx.deleteFrom('timeline_entries').execute();
    await this.#trx.deleteFrom('stories').execute();
  }
}
