/**
 * One round trip per append batch. `storyline_append` takes the append lock, checks that what
 * the caller decided from is still true (the head, each story's version, that the development
 * entries it took as absent are absent, that no event id is in the log yet, that recorded times
 * still grow), and only then writes the events, the story views and the timeline entries and
 * queues the notification, all in the caller's transaction. When a check fails it writes nothing
 * and reports the head, so the caller can reload and decide again.
 *
 * It is volatile PL/pgSQL under READ COMMITTED: each statement takes a fresh snapshot, so the
 * statements after the lock see every commit made before the lock was granted. The lock is the
 * one the earlier, multi-statement append path takes, so both can run side by side during a
 * rolling upgrade. Frozen in time.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function storyline_append(
      p_head bigint,
      p_recorded_at timestamptz,
      p_story_ids text[],
      p_story_versions int[],
      p_absent_story_ids text[],
      p_absent_development_ids text[],
      p_event_ids uuid[],
      p_events json,
      p_stories json,
      p_entries json,
      out written boolean,
      out head bigint,
      out last_recorded_at timestamptz
    ) language plpgsql volatile as $$
    declare
      v_count bigint;
    begin
      -- The append lock ("STOR"), the same key as the multi-statement path's.
      perform pg_advisory_xact_lock(1398034258);
      select e.position, e.recorded_at into head, last_recorded_at
        from events e order by e.position desc limit 1;
      head := coalesce(head, 0);
      written := false;
      if head <> p_head
         or last_recorded_at > p_recorded_at
         or exists (
           select 1 from unnest(p_story_ids, p_story_versions) as x(story_id, version)
           left join stories s on s.story_id = x.story_id
           where coalesce(s.version, 0) <> x.version)
         or exists (
           select 1 from unnest(p_absent_story_ids, p_absent_development_ids) as a(story_id, development_id)
           join timeline_entries t
             on t.story_id = a.story_id and t.development_id = a.development_id)
         or exists (select 1 from events e where e.id = any(p_event_ids))
      then
        return;
      end if;

      insert into events (position, story_id, version, id, type, schema_version, data, metadata,
                          occurred_at, occurred_at_text, recorded_at)
      select e.position, e.story_id, e.version, e.id, e.type, e.schema_version, e.data, e.metadata,
             e.occurred_at::timestamptz, e.occurred_at, p_recorded_at
        from json_to_recordset(p_events) as e(position bigint, story_id text, version int,
             id uuid, type text, schema_version int, data jsonb, metadata jsonb, occurred_at text)
       order by e.position;
      get diagnostics v_count = row_count;

      insert into stories (story_id, version, position, title, status, updated_at, view)
      select s.story_id, s.version, s.position, s.title, s.status, s.updated_at, s.view
        from json_to_recordset(p_stories) as s(story_id text, version int, position bigint,
             title text, status text, updated_at timestamptz, view json)
      on conflict (story_id) do update
        set version = excluded.version, position = excluded.position, title = excluded.title,
            status = excluded.status, updated_at = excluded.updated_at, view = excluded.view;

      insert into timeline_entries (story_id, development_id, occurred_at, reported_position, entry)
      select t.story_id, t.development_id, t.occurred_at, t.reported_position, t.entry
        from json_to_recordset(p_entries) as t(story_id text, development_id text,
             occurred_at timestamptz, reported_position bigint, entry json)
      on conflict (story_id, development_id) do update
        set occurred_at = excluded.occurred_at, entry = excluded.entry;

      if v_count > 0 then
        -- Delivered at commit, and only if the transaction commits.
        perform pg_notify('storyline_events', (p_head + v_count)::text);
      end if;
      written := true;
    end $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function storyline_append(bigint, timestamptz, text[], int[], text[], text[], uuid[], json, json, json)`.execute(
    db,
  );
}
