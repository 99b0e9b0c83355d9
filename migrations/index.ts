/** Every migration, in order. Listed statically so no loader has to import files by path. */
import type { Migration } from 'kysely';
import * as eventLog from './0001_event_log.ts';
import * as eventsByStory from './0002_events_by_story.ts';
import * as appendFunction from './0003_append_function.ts';
import * as boundedStoryView from './0004_bounded_story_view.ts';
import * as tokenScopes from './0005_token_scopes.ts';
import * as webhooks from './0006_webhooks.ts';
import * as drafts from './0007_drafts.ts';
import * as deskSessions from './0008_desk_sessions.ts';

export const migrations: Readonly<Record<string, Migration>> = {
  '0001_event_log': eventLog,
  '0002_events_by_story': eventsByStory,
  '0003_append_function': appendFunction,
  '0004_bounded_story_view': boundedStoryView,
  '0005_token_scopes': tokenScopes,
  '0006_webhooks': webhooks,
  '0007_drafts': drafts,
  '0008_desk_sessions': deskSessions,
};
