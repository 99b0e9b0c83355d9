/** The read side: views, pages of the log, and the events time travel folds. */
import { sql, type Kysely } from 'kysely';
import type {
  EventPage,
  EventQuery,
  LogReader,
  StoryListItem,
  TimelineQuery,
} from '../../app/ports.ts';
import type { RecordedEvent } from '../../domain/event-types.ts';
import type {
  StoryCounts,
  StoryProjection,
  StoryView,
  TimelineEntry,
} from '../../domain/story-view.ts';
import type { Database } from './database.ts';
import { eventFromRow, type EventRow } from './event-rows.ts';
import { migrationsApplied } from './migrate.ts';

export class PostgresReader implements LogReader {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async logInfo(): Promise<{ epoch: string; head: number }> {
    const row = await this.#db
      .selectFrom('log_meta')
      .select([
        'log_epoch',
        sql<number>`(select coalesce(max(position), 0) from events)::int8`.as('head'),
      ])
      .executeTakeFirstOrThrow();
    return { epoch: row.log_epoch, head: row.head };
  }

  async readEvents(query: EventQuery): Promise<EventPage> {
    // One statement, so the page and the head come from the same snapshot.
    const storyFilter =
      query.storyIds === undefined ? sql`` : sql`and story_id = any(${[...query.storyIds]})`;
    // Without events past the cursor, the one row has the head and nulls for the event.
    const { rows } = await sql<
      (EventRow | { [K in keyof EventRow]: null }) & { head: number; epoch: string }
    >`
      select page.*, head.head, head.epoch
      from (
        select coalesce(max(position), 0)::int8 as head, (select log_epoch from log_meta) as epoch
        from events
      ) head
      left join lateral (
        select * from events
        where position > ${query.after} ${storyFilter}
        order by position
        limit ${query.limit}
      ) page on true
    `.execute(this.#db);
    const head = rows[0]?.head ?? 0;
    const epoch = rows[0]?.epoch ?? '';
    const events = rows
      .filter((row): row is EventRow & { head: number; epoch: string } => row.position !== null)
      .map(eventFromRow);
    return { events, head, epoch };
  }

  async storyEvents(
    storyId: string,
    range: { after?: number; position?: number; recordedAt?: string },
  ): Promise<readonly RecordedEvent[]> {
    let query = this.#db
      .selectFrom('events')
      .selectAll()
      .where('story_id', '=', storyId)
      .orderBy('position');
    if (range.after !== undefined) query = query.where('position', '>', range.after);
    if (range.position !== undefined) query = query.where('position', '<=', range.position);
    if (range.recordedAt !== undefined)
      query = query.where('recorded_at', '<=', new Date(range.recordedAt));
    return (await query.execute()).map(eventFromRow);
  }

  async storySnapshot(
    storyId: string,
  ): Promise<{ projection: StoryProjection | null; head: number }> {
    // One statement: the view, its timeline and the head from the same snapshot.
    const { rows } = await sql<{
      view: StoryView | null;
      timeline: TimelineEntry[] | null;
      head: number;
    }>`
      select (select view from stories where story_id = ${storyId}) as view,
             (select json_agg(entry order by occurred_at, reported_position)
                from timeline_entries where story_id = ${storyId}) as timeline,
             (select coalesce(max(position), 0) from events)::int8 as head
    `.execute(this.#db);
    const row = rows[0];
    const story = row?.view ?? null;
    return {
      projection: story === null ? null : { story, timeline: row?.timeline ?? [] },
      head: row?.head ?? 0,
    };
  }

  async getStory(storyId: string): Promise<StoryView | null> {
    const row = await this.#db
      .selectFrom('stories')
      .select('view')
      .where('story_id', '=', storyId)
      .executeTakeFirst();
    return row === undefined ? null : (row.view as StoryView);
  }

  async listStories(): Promise<readonly StoryListItem[]> {
    const rows = await this.#db
      .selectFrom('stories')
      .select(['story_id', 'title', 'status', 'version', 'position', 'updated_at'])
      // Two small members of the view, not the view itself.
      .select(sql<string>`view ->> 'timeZone'`.as('time_zone'))
      .select(sql<StoryCounts>`view -> 'counts'`.as('counts'))
      .orderBy('updated_at', 'desc')
      .orderBy('story_id')
      .execute();
    return rows.map((row) => ({
      storyId: row.story_id,
      title: row.title,
      status: row.status,
      version: row.version,
      position: row.position,
      updatedAt: row.updated_at.toISOString(),
      timeZone: row.time_zone,
      counts: row.counts,
    }));
  }

  async timeline(storyId: string, query: TimelineQuery): Promise<readonly TimelineEntry[]> {
    let select = this.#db
      .selectFrom('timeline_entries')
      .select('entry')
      .where('story_id', '=', storyId)
      .orderBy('occurred_at', query.order)
      .orderBy('reported_position', query.order)
      .limit(query.limit);
    const { after } = query;
    if (after !== undefined) {
      const comparison = query.order === 'asc' ? sql`>` : sql`<`;
      select = select.where(
        sql<boolean>`(occurred_at, reported_position) ${comparison} (${after.occurredAt}::timestamptz, ${after.reportedPosition})`,
      );
    }
    return (await select.execute()).map((row) => row.entry as TimelineEntry);
  }

  async correctedEntries(storyId: string): Promise<readonly TimelineEntry[]> {
    const rows = await this.#db
      .selectFrom('timeline_entries')
      .select('entry')
      .where('story_id', '=', storyId)
      .where(sql<boolean>`json_array_length(entry -> 'corrections') > 0`)
      .execute();
    return rows.map((row) => row.entry as TimelineEntry);
  }

  async ready(): Promise<boolean> {
    try {
      return await migrationsApplied(this.#db);
    } catch {
      return false;
    }
  }
}
