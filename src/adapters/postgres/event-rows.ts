/** Between event rows and the domain's recorded events. */
import type { Selectable } from 'kysely';
import type { RecordedEvent } from '../../domain/event-types.ts';
import { upcast } from '../../domain/upcast.ts';
import type { EventsTable } from './database.ts';

export type EventRow = Selectable<EventsTable>;

export function eventFromRow(row: EventRow): RecordedEvent {
  return {
    position: row.position,
    storyId: row.story_id,
    version: row.version,
    id: row.id,
    type: row.type,
    schemaVersion: row.schema_version,
    data: upcast(row.type, row.schema_version, row.data as Record<string, unknown>),
    metadata: row.metadata as Record<string, unknown>,
    occurredAt: row.occurred_at_text,
    recordedAt: row.recorded_at.toISOString(),
  } as RecordedEvent;
}
