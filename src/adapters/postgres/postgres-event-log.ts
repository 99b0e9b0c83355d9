/**
 * The event log's write side: one transaction per append batch, serialized on an advisory lock.
 *
 * Why a lock and not just a sequence: a sequence value is taken at insert but becomes visible at
 * commit, so a reader tailing `position > cursor` can pass over a lower position that commits
 * late and never see it. Taking a transaction-scoped lock before reading the head and allocating
 * positions means each append's positions come after every committed one, and the lock is only
 * released after the commit is visible. Position order is therefore commit order, and a single
 * integer is a safe cursor for every reader, in every process.
 *
 * The lock serializes every writer of every process, so a holder that stalls must not hold it for
 * long: waiting for it is bounded by `lock_timeout` (then `unavailable`, 503), and a holder that
 * idles in its transaction is ended by the server (`idle_in_transaction_session_timeout`), which
 * frees the lock. Both are set on every pool connection (connect.ts), so both append paths below
 * keep them.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type pg from 'pg';
import type {
  AppendAttempt,
  AppendExpectations,
  EventLog,
  LogChanges,
  LogTransaction,
} from '../../app/ports.ts';
import { entryKey } from '../../app/ports.ts';
import type { RecordedEvent } from '../../domain/event-types.ts';
import type { StoryView, TimelineEntry } from '../../domain/story-view.ts';
import type { Database } from './database.ts';
import { rethrowUnavailable } from './database-errors.ts';
import { eventFromRow } from './event-rows.ts';

/** The advisory lock every append takes (an arbitrary constant: "STOR"). */
const appendLockKey = 0x53544f52;
/** The channel woken after each append commit; the payload is the last position written. */
export const eventsChannel = 'storyline_events';

/** Prepared once per connection: the batch's one round trip (migrations/0003). */
const appendStatement = {
  name: 'storyline_append',
  text: 'select written, head, last_recorded_at from storyline_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
};

interface AppendRow {
  written: boolean;
  head: number;
  last_recorded_at: Date | null;
}

export class PostgresEventLog implements EventLog {
  readonly #db: Kysely<Database>;
  readonly #pool: pg.Pool;

  constructor(db: Kysely<Database>, pool: pg.Pool) {
    this.#db = db;
    this.#pool = pool;
  }

  async appendIfCurrent(expected: AppendExpectations, changes: LogChanges): Promise<AppendAttempt> {
    if (recordedRuns(changes).length > 1) {
      return this.#db
        .transaction()
        .execute((trx) => appendRuns(trx, expected, changes))
        .catch(rethrowUnavailable);
    }
    const result = await this.#pool
      .query<AppendRow>({ ...appendStatement, values: appendParameters(expected, changes) })
      .catch(rethrowUnavailable);
    return attemptOf(result.rows[0]);
  }

  withAppendLock<T>(work: (tx: LogTransaction) => Promise<T>): Promise<T> {
    return this.#db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${appendLockKey})`.execute(trx);
      // A fresh statement after the lock, so its snapshot holds every earlier commit. The
      // latest recorded time is rounded up to whole milliseconds (what a JavaScript time holds),
      // so a time chosen from it never sorts before it.
      const { rows } = await sql<{ head: number | null; last: Date | null }>`
        select position as head,
               date_trunc('milliseconds', recorded_at)
                 + case when recorded_at = date_trunc('milliseconds', recorded_at)
                        then interval '0' else interval '1 millisecond' end as last
          from events order by position desc limit 1
      `.execute(trx);
      const row = rows[0];
      return work(
        new PostgresLogTransaction(trx, row?.head ?? 0, row?.last?.toISOString() ?? null),
      );
    });
  }
}

/**
 * The batch's events in runs that share one recordedAt. The stored function gives every event of
 * a call one recorded time, so a batch whose events were recorded at different times (an import
 * keeping a story file's times) is written by one call per run, in one transaction.
 */
function recordedRuns(changes: LogChanges): RecordedEvent[][] {
  const runs: RecordedEvent[][] = [];
  for (const event of changes.events) {
    const run = runs.at(-1);
    if (run?.[0]?.recordedAt === event.recordedAt) run.push(event);
    else runs.push([event]);
  }
  return runs;
}

/**
 * Writes a batch of several recorded times in the caller's transaction: the first call checks
 * every expectation and takes the append lock, which the transaction then holds, so the calls
 * after it (one per run, the views with the last) find the log as the first left it.
 */
async function appendRuns(
  trx: Transaction<Database>,
  expected: AppendExpectations,
  changes: LogChanges,
): Promise<AppendAttempt> {
  const runs = recordedRuns(changes);
  if (runs.length === 0) runs.push([]); // views alone (a rebuild)
  let head = expected.head;
  for (const [index, events] of runs.entries()) {
    const last = index === runs.length - 1;
    const parameters = appendParameters(
      index === 0
        ? expected
        : { head, recordedAt: '', storyVersions: new Map(), absentEntries: [], eventIds: [] },
      {
        events,
        stories: last ? changes.stories : [],
        entries: last ? changes.entries : [],
      },
    );
    const { rows } = await sql<AppendRow>`
      select written, head, last_recorded_at
        from storyline_append(${sql.join(parameters.map((value) => sql`${value}`))})
    `.execute(trx);
    const attempt = attemptOf(rows[0]);
    if (!attempt.written) {
      if (index === 0) return attempt;
      throw new Error('the append lock did not hold the log still');
    }
    head += events.length;
  }
  return { written: true };
}

/**
 * The batch as the stored function's parameters: one JSON document per table. Its events share
 * one recorded time (see `recordedRuns`), which the function checks is not before the log's.
 */
function appendParameters(expected: AppendExpectations, changes: LogChanges): unknown[] {
  return [
    expected.head,
    changes.events[0]?.recordedAt ?? expected.recordedAt,
    [...expected.storyVersions.keys()],
    [...expected.storyVersions.values()],
    expected.absentEntries.map((entry) => entry.storyId),
    expected.absentEntries.map((entry) => entry.developmentId),
    expected.eventIds,
    JSON.stringify(
      changes.events.map((event) => ({
        position: event.position,
        story_id: event.storyId,
        version: event.version,
        id: event.id,
        type: event.type,
        schema_version: event.schemaVersion,
        data: event.data,
        metadata: event.metadata,
        occurred_at: event.occurredAt,
      })),
    ),
    JSON.stringify(
      changes.stories.map((story) => ({
        story_id: story.storyId,
        version: story.version,
        position: story.position,
        title: story.title,
        status: story.status,
        updated_at: story.lastUpdateAt,
        view: story,
      })),
    ),
    JSON.stringify(
      changes.entries.map(({ storyId, entry }) => ({
        story_id: storyId,
        development_id: entry.developmentId,
        occurred_at: entry.occurredAt,
        reported_position: entry.reportedPosition,
        entry,
      })),
    ),
  ];
}

function attemptOf(row: AppendRow | undefined): AppendAttempt {
  if (row === undefined) throw new Error('storyline_append returned no row');
  if (row.written) return { written: true };
  return {
    written: false,
    head: row.head,
    lastRecordedAt: row.last_recorded_at?.toISOString() ?? null,
  };
}

class PostgresLogTransaction implements LogTransaction {
  readonly #trx: Transaction<Database>;
  readonly head: number;
  readonly lastRecordedAt: string | null;

  constructor(trx: Transaction<Database>, head: number, lastRecordedAt: string | null) {
    this.#trx = trx;
    this.head = head;
    this.lastRecordedAt = lastRecordedAt;
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
    // Under the lock already, so the checks hold by construction; the stored function is the
    // one place rows are written.
    const expected = {
      head: this.head,
      recordedAt: 'infinity',
      storyVersions: new Map(),
      absentEntries: [],
      eventIds: [],
    };
    const attempt = await appendRuns(this.#trx, expected, changes);
    if (!attempt.written) throw new Error('the append lock did not hold the log still');
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
