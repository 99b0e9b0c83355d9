/** The schema as TypeScript sees it: declared once here, inferred by every query. */
import type { ColumnType, Generated } from 'kysely';

type Json = ColumnType<unknown, string, string>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface EventsTable {
  position: number;
  story_id: string;
  version: number;
  id: string;
  type: string;
  schema_version: number;
  data: Json;
  metadata: Json;
  occurred_at: Timestamp;
  occurred_at_text: string;
  recorded_at: Timestamp;
}

export interface StoriesTable {
  story_id: string;
  version: number;
  position: number;
  title: string;
  status: string;
  updated_at: Timestamp;
  view: Json;
}

export interface TimelineEntriesTable {
  story_id: string;
  development_id: string;
  occurred_at: Timestamp;
  reported_position: number;
  entry: Json;
}

export interface ApiTokensTable {
  name: string;
  token_hash: string;
  stories: string[] | null;
  scope: Generated<'publish' | 'admin'>;
  created_at: Generated<Date>;
  revoked_at: Date | null;
}

export interface DeskSessionsTable {
  session_hash: string;
  token_hash: string;
  csrf_token: string;
  created_at: Generated<Date>;
  expires_at: Timestamp;
}

export interface LogMetaTable {
  singleton: Generated<boolean>;
  log_epoch: Generated<string>;
  created_at: Generated<Date>;
}

export interface DraftsTable {
  id: string;
  story_id: string;
  status: 'draft' | 'scheduled' | 'publishing' | 'published' | 'cancelled' | 'failed';
  events: Json;
  publish_at: Timestamp | null;
  author: string;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  claimed_until: Timestamp | null;
  attempts: Generated<number>;
  published_at: Timestamp | null;
  version: number | null;
  /** int8[]: pg reads its elements as strings. */
  positions: ColumnType<string[] | null, number[] | null, number[] | null>;
  last_error: ColumnType<unknown, string | null, string | null>;
}

export interface Database {
  events: EventsTable;
  stories: StoriesTable;
  timeline_entries: TimelineEntriesTable;
  api_tokens: ApiTokensTable;
  log_meta: LogMetaTable;
  desk_sessions: DeskSessionsTable;
  drafts: DraftsTable;
}
