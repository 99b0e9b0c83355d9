/**
 * The fold from a story's events to its views: given the events in the log, then the story view
 * and timeline read like this.
 */
import { correctionsLog } from '../../src/domain/corrections-log.ts';
import { describe, expect, it } from 'vitest';
import {
  compareTimeline,
  developmentIdOf,
  evolve,
  statementsKept,
} from '../../src/domain/story-fold.ts';
import {
  at,
  corrected,
  disputed,
  entryOf,
  fold,
  opened,
  pinned,
  record,
  recordedAtOf,
  reported,
  retracted,
  statusChanged,
  summaryRevised,
  unpinned,
} from './story-builders.ts';

// Moscow time, as the story's editors give it.
const monday = '2025-12-01T10:00:00+03:00';
const tuesday = '2025-12-02T10:00:00+03:00';
const wednesday = '2025-12-03T10:00:00+03:00';

const timelineIds = (projection: ReturnType<typeof fold>) =>
  projection.timeline.map((entry) => entry.developmentId);

describe('opening a story', () => {
  it('starts a live story with an empty timeline and zero counts', () => {
    const { story, timeline } = fold(
      at(monday, opened({ title: 'Kremlin talks', tags: ['russia', 'ukraine'] })),
    );

    expect(timeline).toEqual([]);
    expect(story).toMatchObject({
      storyId: 'kremlin-talks',
      version: 1,
      position: 1,
      title: 'Kremlin talks',
      summary: null,
      timeZone: 'Europe/Moscow',
      tags: ['russia', 'ukraine'],
      status: 'live',
      openedAt: monday,
      firstUpdateAt: recordedAtOf(1),
      lastUpdateAt: recordedAtOf(1),
      keyPoints: [],
      keyPointsRevisedAt: null,
      pinned: null,
      keyEvents: [],
      actors: [],
      claims: [],
    });
    expect(story.counts).toEqual({
      developments: 0,
      retracted: 0,
      corrections: 0,
      disputes: 0,
      keyEvents: 0,
    });
  });

  it('moves version, position and lastUpdateAt with every event, not firstUpdateAt', () => {
    const { story } = fold(opened(), reported('talks'), summaryRevised('Talks begin'));

    expect(story).toMatchObject({
      version: 3,
      position: 3,
      firstUpdateAt: recordedAtOf(1),
      lastUpdateAt: recordedAtOf(3),
    });
  });
});

describe('reporting a development', () => {
  it('puts it on the timeline with absent fields as null or empty, never missing', () => {
    const projection = fold(opened(), at(monday, reported('talks', { headline: 'Talks begin' })));

    expect(entryOf(projection, 'talks')).toEqual({
      developmentId: 'talks',
      kind: 'meeting',
      headline: 'Talks begin',
      body: null,
      actors: [],
      location: null,
      sources: [],
      quote: null,
      keyEvent: false,
      occurredAt: monday,
      reportedAt: recordedAtOf(2),
      reportedPosition: 2,
      updatedAt: recordedAtOf(2),
      updatedPosition: 2,
      retracted: null,
      corrections: [],
      disputes: [],
    });
    expect(projection.story.counts.developments).toBe(1);
  });

  it('lists key events by when they happened', () => {
    const { story } = fold(
      opened(),
      at(tuesday, reported('talks', { keyEvent: true })),
      at(monday, reported('arrival', { keyEvent: true })),
      at(wednesday, reported('dinner')),
    );

    expect(story.keyEvents.map((ref) => ref.developmentId)).toEqual(['arrival', 'talks']);
    expect(story.counts.keyEvents).toBe(2);
  });
});

describe('timeline order', () => {
  it('places an event reported late by when it happened: Monday before Tuesday', () => {
    const projection = fold(
      opened(),
      at(tuesday, reported('talks')),
      at(monday, reported('arrival')), // recorded after Tuesday's
    );

    expect(timelineIds(projection)).toEqual(['arrival', 'talks']);
  });

  it('compares instants, not the text of their offsets', () => {
    // 12:00 in Moscow is 09:00 UTC: earlier, although it sorts later as a string.
    const projection = fold(
      opened(),
      at('2025-12-01T10:00:00Z', reported('london')),
      at('2025-12-01T12:00:00+03:00', reported('moscow')),
    );

    expect(timelineIds(projection)).toEqual(['moscow', 'london']);
  });

  it('orders developments that happened at the same instant as the log learned of them', () => {
    const projection = fold(
      opened(),
      at('2025-12-01T07:00:00Z', reported('second')),
      at('2025-12-01T10:00:00+03:00', reported('first-in-moscow-time')),
    );

    expect(timelineIds(projection)).toEqual(['second', 'first-in-moscow-time']);
    const [a, b] = projection.timeline;
    if (a === undefined || b === undefined) throw new Error('two entries expected');
    expect(compareTimeline(a, b)).toBeLessThan(0);
    expect(compareTimeline(b, a)).toBeGreaterThan(0);
    expect(compareTimeline(a, a)).toBe(0);
  });

  it('moves a development when a correction changes when it happened', () => {
    const projection = fold(
      opened(),
      at(monday, reported('arrival', { keyEvent: true })),
      at(tuesday, reported('talks', { keyEvent: true })),
      corrected('arrival', { occurredAt: wednesday }),
    );

    expect(timelineIds(projection)).toEqual(['talks', 'arrival']);
    expect(entryOf(projection, 'arrival').occurredAt).toBe(wednesday);
    expect(projection.story.keyEvents.map((ref) => ref.developmentId)).toEqual([
      'talks',
      'arrival',
    ]);
  });
});

describe('correcting a development', () => {
  const history = [
    opened(),
    at(
      monday,
      reported('talks', {
        headline: 'Talks last three hours',
        body: 'Putin met Witkoff and Kushner.',
      }),
    ),
    corrected('talks', { headline: 'Talks last five hours', location: 'Kremlin' }, 'length'),
  ];

  it('applies the changes and keeps the fields it does not name', () => {
    const entry = entryOf(fold(...history), 'talks');

    expect(entry).toMatchObject({
      headline: 'Talks last five hours',
      location: 'Kremlin',
      kind: 'meeting',
      body: 'Putin met Witkoff and Kushner.',
      occurredAt: monday,
      reportedAt: recordedAtOf(2),
      reportedPosition: 2,
      updatedAt: recordedAtOf(3),
      updatedPosition: 3,
    });
  });

  it('records what was wrong, with null for a field that was unset, on the entry and in the log', () => {
    const { story, timeline } = fold(...history);
    const correction = {
      severity: 'correction',
      note: 'length',
      changes: { headline: 'Talks last five hours', location: 'Kremlin' },
      previous: { headline: 'Talks last three hours', location: null },
      correctedAt: recordedAtOf(3),
      position: 3,
    };

    expect(timeline[0]?.corrections).toEqual([correction]);
    expect(correctionsLog(timeline)).toEqual([{ developmentId: 'talks', ...correction }]);
    expect(story.counts.corrections).toBe(1);
  });

  it('keeps every correction, oldest first, each with the value it replaced', () => {
    const { story, timeline } = fold(
      ...history,
      corrected('talks', { headline: 'Talks last nearly five hours' }, 'precision'),
    );

    expect(correctionsLog(timeline).map((c) => [c.note, c.previous])).toEqual([
      ['length', { headline: 'Talks last three hours', location: null }],
      ['precision', { headline: 'Talks last five hours' }],
    ]);
    expect(story.counts.corrections).toBe(2);
  });

  it('updates the pin and the key events that show the development', () => {
    const { story } = fold(
      opened(),
      at(monday, reported('talks', { headline: 'Talks begin', keyEvent: true })),
      pinned('talks'),
      corrected('talks', { headline: 'Talks begin late' }),
    );

    const ref = { developmentId: 'talks', headline: 'Talks begin late', occurredAt: monday };
    expect(story.pinned).toEqual(ref);
    expect(story.keyEvents).toEqual([ref]);
  });

  it('adds and removes key events when keyEvent is corrected', () => {
    const promoted = fold(opened(), reported('talks'), corrected('talks', { keyEvent: true }));
    const demoted = fold(
      opened(),
      reported('talks', { keyEvent: true }),
      corrected('talks', { keyEvent: false }),
    );

    expect(promoted.story.keyEvents.map((ref) => ref.developmentId)).toEqual(['talks']);
    expect(demoted.story.keyEvents).toEqual([]);
    expect(demoted.story.counts.keyEvents).toBe(0);
  });

  it('moves the development from the actors it no longer names to the ones it now names', () => {
    const { story } = fold(
      opened(),
      reported('arrival', { actors: [{ name: 'Witkoff' }] }),
      reported('talks', { actors: [{ name: 'Witkoff' }, { name: 'Putin' }] }),
      corrected('talks', { actors: [{ name: 'Kushner' }, { name: 'Putin' }] }),
    );

    expect(story.actors.map((actor) => [actor.name, actor.developments])).toEqual([
      ['Witkoff', 1],
      ['Putin', 1],
      ['Kushner', 1],
    ]);
  });
});

describe('retracting a development', () => {
  const { story, timeline } = fold(
    opened(),
    at(monday, reported('talks', { kind: 'claim', keyEvent: true, actors: [{ name: 'Ushakov' }] })),
    at(tuesday, reported('dinner', { keyEvent: true })),
    pinned('talks'),
    retracted('talks', 'the Kremlin denied the meeting took place'),
  );

  it('keeps it on the timeline, marked retracted with the reason', () => {
    expect(timeline.map((entry) => entry.developmentId)).toEqual(['talks', 'dinner']);
    expect(timeline[0]?.retracted).toEqual({
      reason: 'the Kremlin denied the meeting took place',
      at: recordedAtOf(5),
      position: 5,
    });
    expect(timeline[0]).toMatchObject({ updatedAt: recordedAtOf(5), updatedPosition: 5 });
  });

  it('takes it out of the key events and off the pin', () => {
    expect(story.keyEvents.map((ref) => ref.developmentId)).toEqual(['dinner']);
    expect(story.pinned).toBeNull();
  });

  it('marks it retracted among the claims, and no longer counts it as its actors’ statement', () => {
    expect(story.claims).toEqual([
      {
        developmentId: 'talks',
        headline: 'headline of talks',
        occurredAt: monday,
        claimedBy: ['Ushakov'],
        retracted: true,
        disputeCount: 0,
      },
    ]);
    expect(story.actors[0]).toMatchObject({ name: 'Ushakov', developments: 1 });
    expect(story.actors[0]?.latestStatement).toBeNull();
  });

  it('counts it as retracted, and still as a development', () => {
    expect(story.counts).toEqual({
      developments: 2,
      retracted: 1,
      corrections: 0,
      disputes: 0,
      keyEvents: 1,
    });
  });

  it('leaves another pinned development pinned', () => {
    const other = fold(
      opened(),
      reported('talks'),
      reported('dinner'),
      pinned('dinner'),
      retracted('talks'),
    );

    expect(other.story.pinned?.developmentId).toBe('dinner');
  });
});

describe('pinning', () => {
  it('pins a reference to the development and unpins it', () => {
    const pin = fold(
      opened(),
      at(monday, reported('talks', { headline: 'Talks' })),
      pinned('talks'),
    );
    const unpin = fold(opened(), reported('talks'), pinned('talks'), unpinned('talks'));

    expect(pin.story.pinned).toEqual({
      developmentId: 'talks',
      headline: 'Talks',
      occurredAt: monday,
    });
    expect(unpin.story.pinned).toBeNull();
  });

  it('leaves the timeline entry untouched', () => {
    const before = fold(opened(), reported('talks'));
    const after = fold(opened(), reported('talks'), pinned('talks'), unpinned('talks'));

    expect(after.timeline).toEqual(before.timeline);
  });
});

describe('disputing a claim', () => {
  it('adds the dispute to the entry and to the story’s claims', () => {
    const { story, timeline } = fold(
      opened(),
      at(monday, reported('deal', { kind: 'claim', actors: [{ name: 'Dmitriev' }] })),
      at(tuesday, disputed('deal', 'Kyiv', 'No deal was agreed.')),
    );
    const dispute = {
      by: 'Kyiv',
      statement: 'No deal was agreed.',
      sources: [],
      occurredAt: tuesday,
      recordedAt: recordedAtOf(3),
      position: 3,
    };

    expect(timeline[0]?.disputes).toEqual([dispute]);
    expect(story.claims).toEqual([
      {
        developmentId: 'deal',
        headline: 'headline of deal',
        occurredAt: monday,
        claimedBy: ['Dmitriev'],
        retracted: false,
        disputeCount: 1,
      },
    ]);
    expect(story.counts.disputes).toBe(1);
  });

  it('makes a disputed development of any kind one of the claims', () => {
    const { story } = fold(opened(), reported('talks'), disputed('talks', 'Kyiv'));

    expect(story.claims.map((claim) => [claim.developmentId, claim.disputeCount])).toEqual([
      ['talks', 1],
    ]);
  });

  it('lists claims in the order they were reported, not when they happened', () => {
    const { story } = fold(
      opened(),
      at(tuesday, reported('second-claim', { kind: 'claim' })),
      at(monday, reported('first-claim', { kind: 'claim' })),
    );

    expect(story.claims.map((claim) => claim.developmentId)).toEqual([
      'second-claim',
      'first-claim',
    ]);
  });

  it('drops a claim corrected into another kind, unless it is disputed', () => {
    const undisputed = fold(
      opened(),
      reported('deal', { kind: 'claim' }),
      corrected('deal', { kind: 'statement' }),
    );
    const contested = fold(
      opened(),
      reported('deal', { kind: 'claim' }),
      disputed('deal', 'Kyiv'),
      corrected('deal', { kind: 'statement' }),
    );

    expect(undisputed.story.claims).toEqual([]);
    expect(contested.story.claims.map((claim) => claim.developmentId)).toEqual(['deal']);
  });
});

describe('revising the summary', () => {
  it('sets the key points, replacing the earlier ones', () => {
    const { story } = fold(
      opened(),
      summaryRevised('Talks begin'),
      summaryRevised('Talks end', 'No deal yet'),
    );

    expect(story.keyPoints).toEqual(['Talks end', 'No deal yet']);
    expect(story.keyPointsRevisedAt).toBe(recordedAtOf(3));
  });
});

describe('changing the status', () => {
  it('follows the latest status change', () => {
    expect(fold(opened(), statusChanged('paused')).story.status).toBe('paused');
    expect(fold(opened(), statusChanged('closed')).story.status).toBe('closed');
    expect(fold(opened(), statusChanged('closed'), statusChanged('live')).story.status).toBe(
      'live',
    );
  });
});

describe('counts', () => {
  it('count developments, retractions, corrections, disputes and key events', () => {
    const { story, timeline } = fold(
      opened(),
      reported('arrival', { keyEvent: true }),
      reported('talks', { keyEvent: true, kind: 'claim' }),
      reported('dinner', { keyEvent: true }),
      reported('briefing'),
      corrected('talks', { headline: 'Talks run late' }),
      corrected('briefing', { body: 'Peskov spoke to reporters.' }),
      corrected('briefing', { keyEvent: true }),
      disputed('talks', 'Kyiv'),
      disputed('talks', 'Brussels'),
      disputed('dinner', 'Kyiv'),
      retracted('dinner'),
      pinned('arrival'),
      summaryRevised('Talks run late'),
    );

    expect(story.counts).toEqual({
      developments: 4,
      retracted: 1,
      corrections: 3,
      disputes: 3,
      keyEvents: 3,
    });
    expect(timeline).toHaveLength(4);
  });
});

describe('actors', () => {
  it('counts the developments naming each actor, in order of first appearance', () => {
    const { story } = fold(
      opened(),
      reported('arrival', { actors: [{ name: 'Witkoff', role: 'U.S. envoy' }] }),
      reported('talks', { actors: [{ name: 'Putin' }, { name: 'Witkoff' }] }),
    );

    expect(story.actors).toEqual([
      {
        name: 'Witkoff',
        role: 'U.S. envoy',
        developments: 2,
        latestStatement: null,
        statements: [],
      },
      { name: 'Putin', role: null, developments: 1, latestStatement: null, statements: [] },
    ]);
  });

  it('gives each actor the statement that happened last, however late it was reported', () => {
    const { story } = fold(
      opened(),
      at(tuesday, reported('readout', { kind: 'readout', actors: [{ name: 'Ushakov' }] })),
      at(monday, reported('early-remark', { kind: 'statement', actors: [{ name: 'Ushakov' }] })),
      at(wednesday, reported('talks', { kind: 'meeting', actors: [{ name: 'Ushakov' }] })),
    );

    expect(story.actors[0]?.latestStatement).toEqual({
      developmentId: 'readout',
      headline: 'headline of readout',
      occurredAt: tuesday,
      quote: null,
      retracted: false,
      reportedPosition: 2,
    });
    expect(story.actors[0]?.statements.map((ref) => ref.developmentId)).toEqual([
      'early-remark',
      'readout',
    ]);
  });

  it('counts a development with a quote as a statement whatever its kind', () => {
    const { story } = fold(
      opened(),
      at(monday, reported('readout', { kind: 'readout', actors: [{ name: 'Ushakov' }] })),
      at(
        tuesday,
        reported('talks', {
          kind: 'meeting',
          actors: [{ name: 'Ushakov' }],
          quote: { text: 'Useful talks', by: 'Ushakov' },
        }),
      ),
    );

    expect(story.actors[0]?.latestStatement).toMatchObject({
      developmentId: 'talks',
      quote: 'Useful talks',
    });
  });

  it('counts a development once for an actor it names twice', () => {
    const { story } = fold(
      opened(),
      reported('talks', { actors: [{ name: 'Putin' }, { name: 'Putin', role: 'President' }] }),
    );

    expect(story.actors.map((actor) => [actor.name, actor.developments])).toEqual([['Putin', 1]]);
  });

  it('makes a development corrected into a statement its actors’ latest statement', () => {
    const { story } = fold(
      opened(),
      at(monday, reported('remark', { kind: 'statement', actors: [{ name: 'Peskov' }] })),
      at(tuesday, reported('briefing', { kind: 'meeting', actors: [{ name: 'Peskov' }] })),
      corrected('briefing', { kind: 'statement' }),
    );

    expect(story.actors[0]?.latestStatement?.developmentId).toBe('briefing');
  });
});

describe('actors after corrections and retractions', () => {
  it('no longer lists an actor corrected out of the only development that named them', () => {
    const { story } = fold(
      opened(),
      reported('talks', { actors: [{ name: 'Witkoff' }, { name: 'Putin' }] }),
      corrected('talks', { actors: [{ name: 'Kushner' }, { name: 'Putin' }] }),
    );

    expect(story.actors.map((actor) => [actor.name, actor.developments])).toEqual([
      ['Putin', 1],
      ['Kushner', 1],
    ]);
  });

  it('gives an actor corrected out of a statement their statement before it', () => {
    const { story } = fold(
      opened(),
      at(monday, reported('remark', { kind: 'statement', actors: [{ name: 'Peskov' }] })),
      at(tuesday, reported('briefing', { kind: 'statement', actors: [{ name: 'Peskov' }] })),
      corrected('briefing', { actors: [{ name: 'Ushakov' }] }),
    );

    const peskov = story.actors.find((actor) => actor.name === 'Peskov');
    expect(peskov?.developments).toBe(1);
    expect(peskov?.latestStatement?.developmentId).toBe('remark');
    expect(story.actors.find((actor) => actor.name === 'Ushakov')?.latestStatement).toMatchObject({
      developmentId: 'briefing',
    });
  });

  it('falls back to the statement before a retracted one', () => {
    const { story } = fold(
      opened(),
      at(monday, reported('remark', { kind: 'statement', actors: [{ name: 'Peskov' }] })),
      at(tuesday, reported('briefing', { kind: 'statement', actors: [{ name: 'Peskov' }] })),
      retracted('briefing'),
    );

    expect(story.actors[0]?.latestStatement).toMatchObject({
      developmentId: 'remark',
      retracted: false,
    });
  });

  it('has no latest statement when the only one is retracted, and still lists the actor', () => {
    const { story } = fold(
      opened(),
      at(monday, reported('remark', { kind: 'statement', actors: [{ name: 'Peskov' }] })),
      retracted('remark'),
    );

    expect(story.actors).toMatchObject([
      { name: 'Peskov', developments: 1, latestStatement: null },
    ]);
  });

  it('falls back when the latest statement is corrected into something that is not one', () => {
    const { story } = fold(
      opened(),
      at(monday, reported('remark', { kind: 'statement', actors: [{ name: 'Peskov' }] })),
      at(tuesday, reported('briefing', { kind: 'statement', actors: [{ name: 'Peskov' }] })),
      corrected('briefing', { kind: 'meeting' }),
    );

    expect(story.actors[0]?.latestStatement?.developmentId).toBe('remark');
  });

  it('falls back when the latest statement is corrected to have happened earlier', () => {
    const { story } = fold(
      opened(),
      at(tuesday, reported('remark', { kind: 'statement', actors: [{ name: 'Peskov' }] })),
      at(wednesday, reported('briefing', { kind: 'statement', actors: [{ name: 'Peskov' }] })),
      corrected('briefing', { occurredAt: monday }),
    );

    expect(story.actors[0]?.latestStatement?.developmentId).toBe('remark');
  });

  it('keeps only an actor’s latest statements, so the story row does not grow with them', () => {
    const count = statementsKept * 3;
    const { story } = fold(
      opened(),
      ...Array.from({ length: count }, (_, index) =>
        at(
          new Date(Date.parse(monday) + index * 60_000).toISOString(),
          reported(`remark-${index}`, { kind: 'statement', actors: [{ name: 'Peskov' }] }),
        ),
      ),
      retracted(`remark-${count - 1}`),
    );

    const [peskov] = story.actors;
    expect(peskov?.developments).toBe(count);
    expect(peskov?.statements).toHaveLength(statementsKept - 1);
    expect(peskov?.statements.at(0)?.developmentId).toBe(`remark-${count - statementsKept}`);
    expect(peskov?.latestStatement?.developmentId).toBe(`remark-${count - 2}`);
  });
});

describe('evolve on a log that breaks the rules', () => {
  // Only possible with a hand-edited log: the fold refuses to invent state.
  it('throws for an event before story.opened', () => {
    expect(() => evolve(null, null, record(reported('talks'), 1))).toThrow(/precedes story.opened/);
  });

  it('throws for an event naming an unknown development', () => {
    const { story } = fold(opened());

    expect(() => evolve(story, null, record(retracted('ghost'), 2))).toThrow(/unknown development/);
  });
});

describe('developmentIdOf', () => {
  it('names the development an event is about', () => {
    for (const event of [
      reported('talks'),
      corrected('talks', { headline: 'Talks' }),
      retracted('talks'),
      pinned('talks'),
      unpinned('talks'),
      disputed('talks', 'Kyiv'),
    ]) {
      expect(developmentIdOf(event)).toBe('talks');
    }
  });

  it('is null for story-wide events', () => {
    for (const event of [opened(), summaryRevised('Talks'), statusChanged('paused')]) {
      expect(developmentIdOf(event)).toBeNull();
    }
  });
});
