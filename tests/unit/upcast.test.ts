/**
 * Upcasting: old event payloads are brought up to the current schema version before any fold
 * sees them; anything the code cannot read fails loudly with a stable code.
 */
import { describe, expect, it } from 'vitest';
import { StorylineError } from '../../src/domain/errors.ts';
import { currentSchemaVersion, eventTypes, type EventType } from '../../src/domain/event-types.ts';
import { isEventType, upcast } from '../../src/domain/upcast.ts';

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected it to throw');
}

const expectUnsupported = (action: () => unknown) => {
  const error = thrownBy(action);
  expect(error).toBeInstanceOf(StorylineError);
  expect((error as StorylineError).code).toBe('unsupported_schema_version');
};

/** One valid payload of each type, as the current schemas accept it. */
const currentData: Readonly<Record<EventType, Readonly<Record<string, unknown>>>> = {
  'story.opened': { title: 'Kremlin talks', timeZone: 'Europe/Moscow' },
  'development.reported': { developmentId: 'talks', kind: 'meeting', headline: 'Talks begin' },
  'development.corrected': {
    developmentId: 'talks',
    changes: { headline: 'Talks begin late' },
    note: 'time',
    severity: 'correction',
  },
  'development.retracted': { developmentId: 'talks', reason: 'the source withdrew it' },
  'development.pinned': { developmentId: 'talks' },
  'development.unpinned': { developmentId: 'talks' },
  'claim.disputed': { developmentId: 'talks', by: 'Kyiv', statement: 'No talks took place.' },
  'summary.revised': { keyPoints: ['Talks begin'] },
  'story.status_changed': { status: 'paused' },
};

describe('upcast', () => {
  it.each(eventTypes)('passes %s data at its current version through unchanged', (type) => {
    const data = currentData[type];

    expect(upcast(type, currentSchemaVersion[type], data)).toEqual(data);
  });

  it('gives data read back from jsonb, keys reordered, the key order of appended data', () => {
    // jsonb sorts keys by length, then bytes; the view built from it must serialize the same.
    const fromJsonb = { kind: 'meeting', headline: 'Talks begin', developmentId: 'talks' };

    expect(Object.keys(upcast('development.reported', 1, fromJsonb))).toEqual([
      'developmentId',
      'kind',
      'headline',
    ]);
  });

  it('rejects data that does not fit the current schema', () => {
    expectUnsupported(() => upcast('development.pinned', 1, { developmentId: 'talks', extra: 1 }));
    expectUnsupported(() => upcast('story.status_changed', 1, { status: 'deleted' }));
  });

  it('rejects an event type it does not know', () => {
    expectUnsupported(() => upcast('story.deleted', 1, {}));
  });

  it('rejects a schema version newer than this code: it was written by a later release', () => {
    expectUnsupported(() => upcast('development.reported', 2, {}));
  });

  it('rejects schema versions below 1', () => {
    expectUnsupported(() => upcast('development.reported', 0, {}));
    expectUnsupported(() => upcast('development.reported', -1, {}));
  });

  it('rejects a type the registry has no steps for', () => {
    expectUnsupported(() => upcast('development.reported', 1, {}, {}));
  });

  describe('with a registry of its own', () => {
    // v1 had `title`; v2 renamed it `headline`; v3 added `kind` with a default.
    const registry = {
      'development.reported': [
        ({ title, ...rest }: Readonly<Record<string, unknown>>) => ({ ...rest, headline: title }),
        (data: Readonly<Record<string, unknown>>) => ({ kind: 'meeting', ...data }),
      ],
    };
    const v1 = { developmentId: 'talks', title: 'Talks begin' };
    const v2 = { developmentId: 'talks', headline: 'Talks begin' };
    const v3 = { kind: 'meeting', developmentId: 'talks', headline: 'Talks begin' };

    it('chains the steps from the stored version to the latest: v1 → v2 → v3', () => {
      expect(upcast('development.reported', 1, v1, registry)).toEqual(v3);
      expect(upcast('development.reported', 2, v2, registry)).toEqual(v3);
      expect(upcast('development.reported', 3, v3, registry)).toEqual(v3);
    });
  });
});

describe('isEventType', () => {
  it('knows every event type and nothing else', () => {
    for (const type of eventTypes) expect(isEventType(type)).toBe(true);
    expect(isEventType('story.deleted')).toBe(false);
    expect(isEventType('toString')).toBe(false);
  });
});
