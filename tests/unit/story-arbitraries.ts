/**
 * fast-check arbitraries for whole, valid story histories. Candidates are generated freely and
 * kept only when the rules accept them against the story as it stands, so every history is one
 * the appender could have written.
 */
import fc from 'fast-check';
import type {
  Actor,
  DevelopmentChanges,
  Quote,
  RecordedEvent,
  Source,
  StoryEventBody,
} from '../../src/domain/event-types.ts';
import { applyLive, at, brokenRule, emptyState, record, type Happening } from './story-builders.ts';

/** A handful of ids, so later events often name a development that exists. */
const developmentIds = ['arrival', 'talks', 'dinner', 'readout', 'deal'] as const;
const actorNames = ['Putin', 'Witkoff', 'Kushner', 'Ushakov', 'Zelenskyy'] as const;
const kinds = ['meeting', 'statement', 'readout', 'claim', 'denial', 'military', 'press_pool'];

/** Text as the schemas keep it: trimmed, non-empty, any Unicode (quotes, newlines, emoji). */
export const text = (maxLength = 40) =>
  fc
    .string({ unit: 'grapheme', minLength: 1, maxLength })
    .map((value) => value.trim())
    .filter((value) => value.length > 0);

const offsets = [0, 180, 60, -300, 345, -210];

/** An ISO instant with one of several UTC offsets; shared instants make timeline ties likely. */
export const instant = fc.oneof(
  fc.constantFrom(
    '2025-12-01T10:00:00+03:00',
    '2025-12-01T07:00:00Z',
    '2025-12-01T08:00:00+01:00',
    '2025-12-02T10:00:00+03:00',
  ),
  fc
    .tuple(
      fc.integer({
        min: Date.parse('2025-11-20T00:00:00Z'),
        max: Date.parse('2025-12-10T00:00:00Z'),
      }),
      fc.constantFrom(...offsets),
    )
    .map(([ms, offsetMinutes]) => {
      const local = new Date(Math.floor(ms / 1000) * 1000 + offsetMinutes * 60_000)
        .toISOString()
        .slice(0, 19);
      if (offsetMinutes === 0) return `${local}Z`;
      const sign = offsetMinutes < 0 ? '-' : '+';
      const hours = String(Math.floor(Math.abs(offsetMinutes) / 60)).padStart(2, '0');
      const minutes = String(Math.abs(offsetMinutes) % 60).padStart(2, '0');
      return `${local}${sign}${hours}:${minutes}`;
    }),
);

/** fast-check may make null-prototype objects; events parsed from JSON never are. */
const plain = { noNullPrototype: true } as const;

const developmentId = fc.constantFrom(...developmentIds);

const actors: fc.Arbitrary<Actor[]> = fc.uniqueArray(
  fc.record(
    { name: fc.constantFrom(...actorNames), role: text(20) },
    { requiredKeys: ['name'], noNullPrototype: true },
  ),
  { selector: (actor) => actor.name, maxLength: 3 },
);

const sources: fc.Arbitrary<Source[]> = fc.array(
  fc.record(
    {
      name: text(20),
      url: fc.constantFrom('https://tass.ru/politika/1', 'https://www.reuters.com/'),
    },
    { requiredKeys: ['name'], noNullPrototype: true },
  ),
  { maxLength: 2 },
);

const quote: fc.Arbitrary<Quote> = fc.record(
  { text: text(), by: fc.constantFrom(...actorNames) },
  { requiredKeys: ['text'], noNullPrototype: true },
);

const developmentFields = {
  kind: fc.constantFrom(...kinds),
  headline: text(),
  body: text(80),
  actors,
  location: text(20),
  sources,
  quote,
  keyEvent: fc.boolean(),
};

const reportedEvent: fc.Arbitrary<StoryEventBody> = fc
  .record(
    { developmentId, ...developmentFields },
    { requiredKeys: ['developmentId', 'kind', 'headline'], noNullPrototype: true },
  )
  .map((data) => ({ type: 'development.reported', data }));

const changes: fc.Arbitrary<DevelopmentChanges> = fc
  .record(
    { ...developmentFields, occurredAt: instant },
    { requiredKeys: [], noNullPrototype: true },
  )
  .filter((partial) => Object.keys(partial).length > 0);

const correctedEvent: fc.Arbitrary<StoryEventBody> = fc
  .record(
    {
      developmentId,
      changes,
      note: text(),
      severity: fc.constantFrom('typo', 'clarification', 'correction'),
    },
    plain,
  )
  .map((data) => ({ type: 'development.corrected', data }));

const retractedEvent: fc.Arbitrary<StoryEventBody> = fc
  .record({ developmentId, reason: text() }, plain)
  .map((data) => ({ type: 'development.retracted', data }));

const pinnedEvent: fc.Arbitrary<StoryEventBody> = developmentId.map((id) => ({
  type: 'development.pinned',
  data: { developmentId: id },
}));

const unpinnedEvent: fc.Arbitrary<StoryEventBody> = developmentId.map((id) => ({
  type: 'development.unpinned',
  data: { developmentId: id },
}));

const disputedEvent: fc.Arbitrary<StoryEventBody> = fc
  .record(
    { developmentId, by: fc.constantFrom(...actorNames), statement: text(), sources },
    { requiredKeys: ['developmentId', 'by', 'statement'], noNullPrototype: true },
  )
  .map((data) => ({ type: 'claim.disputed', data }));

const summaryEvent: fc.Arbitrary<StoryEventBody> = fc
  .array(text(), { minLength: 1, maxLength: 3 })
  .map((keyPoints) => ({ type: 'summary.revised', data: { keyPoints } }));

const statusEvent: fc.Arbitrary<StoryEventBody> = fc
  .constantFrom('live', 'paused', 'closed')
  .map((status) => ({ type: 'story.status_changed', data: { status } }));

export const openedEvent: fc.Arbitrary<StoryEventBody> = fc
  .record(
    {
      title: text(),
      summary: text(80),
      timeZone: fc.constantFrom('Europe/Moscow', 'UTC', 'America/New_York', 'Asia/Kathmandu'),
      tags: fc.array(text(10), { maxLength: 3 }),
    },
    { requiredKeys: ['title', 'timeZone'], noNullPrototype: true },
  )
  .map((data) => ({ type: 'story.opened', data }));

/** Any event body, valid on its own, whether or not the story as it stands accepts it. */
export const candidateEvent: fc.Arbitrary<StoryEventBody> = fc.oneof(
  { arbitrary: reportedEvent, weight: 6 },
  { arbitrary: correctedEvent, weight: 4 },
  { arbitrary: retractedEvent, weight: 2 },
  { arbitrary: pinnedEvent, weight: 2 },
  { arbitrary: unpinnedEvent, weight: 2 },
  { arbitrary: disputedEvent, weight: 2 },
  { arbitrary: summaryEvent, weight: 1 },
  { arbitrary: statusEvent, weight: 1 },
  { arbitrary: openedEvent, weight: 1 },
);

const happening = (event: fc.Arbitrary<StoryEventBody>): fc.Arbitrary<Happening> =>
  fc
    .tuple(event, fc.option(instant))
    .map(([body, occurredAt]) => (occurredAt === null ? body : at(occurredAt, body)));

/** Keeps, in order, the candidates the rules accept; the first must open the story. */
export function acceptedHistory(candidates: readonly Happening[]): RecordedEvent[] {
  const state = emptyState();
  const events: RecordedEvent[] = [];
  for (const candidate of candidates) {
    if (brokenRule(state, candidate) !== null) continue;
    const event = record(candidate, events.length + 1);
    applyLive(state, event);
    events.push(event);
  }
  return events;
}

/** A valid story history: opened, then up to `maxLength` more candidates, the invalid dropped. */
export const storyHistory = (maxLength = 60): fc.Arbitrary<RecordedEvent[]> =>
  fc
    .tuple(happening(openedEvent), fc.array(happening(candidateEvent), { maxLength, size: 'max' }))
    .map(([first, rest]) => acceptedHistory([first, ...rest]));
