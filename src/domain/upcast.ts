/**
 * Where old event payloads are brought up to date. The log is immutable, so when an event type's
 * data changes shape its schema version is bumped and a step is added here that turns version
 * n's data into version n+1's. Readers always fold current-version data.
 *
 * The result is parsed by the current schema, as appended data was. Besides checking the log,
 * that gives data read back from jsonb (which reorders keys) the same key order as data that
 * was just appended, so a rebuilt view serializes to exactly the bytes of the live one.
 */
import { StorylineError } from './errors.ts';
import {
  currentSchemaVersion,
  eventDataSchemas,
  eventTypes,
  type EventType,
} from './event-types.ts';

type Upcaster = (data: Readonly<Record<string, unknown>>) => Record<string, unknown>;

/** `steps[type][n - 1]` upcasts version n to n + 1. Every type is at version 1 so far. */
const steps: Readonly<Record<EventType, readonly Upcaster[]>> = {
  'story.opened': [],
  'development.reported': [],
  'development.corrected': [],
  'development.retracted': [],
  'development.pinned': [],
  'development.unpinned': [],
  'claim.disputed': [],
  'summary.revised': [],
  'story.status_changed': [],
};

// The steps and the versions appends are written at must agree: n - 1 steps reach version n.
for (const type of eventTypes) {
  if (steps[type].length + 1 !== currentSchemaVersion[type]) {
    throw new Error(
      `${type}: ${steps[type].length} upcast steps for schema version ${currentSchemaVersion[type]}`,
    );
  }
}

export const isEventType = (type: string): type is EventType =>
  (eventTypes as readonly string[]).includes(type);

export function upcast(
  type: string,
  schemaVersion: number,
  data: Readonly<Record<string, unknown>>,
  registry: Readonly<Record<string, readonly Upcaster[]>> = steps,
): Readonly<Record<string, unknown>> {
  // The registry decides the latest version: n - 1 steps reach version n.
  const chain = isEventType(type) ? registry[type] : undefined;
  const current = chain === undefined ? 0 : chain.length + 1;
  if (chain === undefined || schemaVersion < 1 || schemaVersion > current) {
    throw new StorylineError(
      'unsupported_schema_version',
      `no upcast for ${type} at schema version ${schemaVersion}`,
    );
  }
  let upcasted = data;
  for (let version = schemaVersion; version < current; version += 1) {
    const step = chain[version - 1];
    if (step === undefined) {
      throw new StorylineError('unsupported_schema_version', `no upcast for ${type} v${version}`);
    }
    upcasted = step(upcasted);
  }
  const parsed = eventDataSchemas[type as EventType].safeParse(upcasted);
  if (!parsed.success) {
    throw new StorylineError(
      'unsupported_schema_version',
      `${type} v${schemaVersion} data does not fit the current schema after upcasting`,
    );
  }
  return parsed.data;
}
