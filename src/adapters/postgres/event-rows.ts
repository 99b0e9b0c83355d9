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

export function rowFromEvent(event: RecordedEvent) {
  return {
    position: event.position,
    story_id: event.storyId,
    version: event.version,
    id: event.id,
    type: event.type,
    schema_version: event.schemaVersion,
    data: JSON.stringify(event.data),
    metadata: JSON.stringify(event.metadata),
    occurred_at: event.occurredAt,
    occurred_at_text: event.occurredAt,
    recorded_at: event.recordedAt,
  };
}

/** Splits rows so one statement stays well under PostgreSQL's 65,535 parameters. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    result.push(items.slice(start, start + size));
  }
  return result;
}
