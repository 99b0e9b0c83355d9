/** Every migration, in order. Listed statically so no loader has to import files by path. */
import type { Migration } from 'kysely';
import * as eventLog from './0001_event_log.ts';

export const migrations: Readonly<Record<string, Migration>> = {
  '0001_event_log': eventLog,
};
