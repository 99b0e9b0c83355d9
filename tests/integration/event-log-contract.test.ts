/**
 * One contract for every EventLog: the in-memory log and PostgreSQL run the same suite through
 * the Appender, the app layer that decides batches in memory and writes each in one round trip.
 * Two appenders on one log stand for two server processes: each remembers the head and the
 * stories it appended to, and must notice when the other has moved the log on.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type PostgresConnection } from '../../src/adapters/postgres/connect.ts';
import { PostgresEventLog } from '../../src/adapters/postgres/postgres-event-log.ts';
import { PostgresReader } from '../../src/adapters/postgres/postgres-reader.ts';
import { Appender } from '../../src/app/appender.ts';
import type { AppendRequest } from '../../src/app/decide-appends.ts';
import type { EventLog } from '../../src/app/ports.ts';
import { rebuildViews } from '../../src/app/rebuild-views.ts';
import { isStorylineError } from '../../src/domain/errors.ts';
import type { NewEvent, RecordedEvent } from '../../src/domain/event-types.ts';
import { foldStory } from '../../src/domain/story-fold.ts';
import type { StoryView } from '../../src/domain/story-view.ts';
import { InMemoryEventLog } from '../support/in-memory-event-log.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

/** What the suite needs of a log besides the port: its events and views, read back. */
interface Subject {
  readonly log: EventLog;
  events(): Promise<readonly RecordedEvent[]>;
  story(storyId: string): Promise<StoryView | null>;
  close(): Promise<void>;
}

const opened = (title = 'Talks'): NewEvent => ({
  type: 'story.opened',
  data: { title, timeZone: 'Europe/Moscow' },
});
const reported = (developmentId: string, id: string = randomUUID()): NewEvent => ({
  id,
  type: 'development.reported',
  data: { developmentId, kind: 'statement', headline: `about ${developmentId}` },
});
const corrected = (developmentId: string, headline: string): NewEvent => ({
  type: 'development.corrected',
  data: { developmentId, severity: 'correction', note: 'fixed', changes: { headline } },
});
const request = (storyId: string, events: NewEvent[], expectedVersion?: number): AppendRequest => ({
  storyId,
  events,
  author: 'contract',
  ...(expectedVersion === undefined ? {} : { expectedVersion }),
});

async function attempt(appender: Appender, append: AppendRequest) {
  try {
    return await appender.append(append);
  } catch (error) {
    if (isStorylineError(error)) return error;
    throw error;
  }
}

function contract(name: string, open: () => Promise<Subject>) {
  describe(`the event log contract: ${name}`, () => {
    let subject: Subject;
    beforeAll(async () => {
      subject = await open();
    });
    afterAll(() => subject.close());

    it('gives gapless positions in commit order and folds to the stored view', async () => {
      const appender = new Appender(subject.log);
      await appender.append(request('gapless', [opened()], 0));
      await Promise.all(
        Array.from({ length: 30 }, (_, index) =>
          appender.append(request('gapless', [reported(`d${index}`)])),
        ),
      );
      const events = await subject.events();
      expect(events.map((event) => event.position)).toEqual(events.map((_, index) => index + 1));
      const story = await subject.story('gapless');
      expect(story).toEqual(foldStory(events.filter((e) => e.storyId === 'gapless'))?.story);
      expect(story?.version).toBe(31);
    });

    it('notices another writer: versions, entries and ids it did not write', async () => {
      const first = new Appender(subject.log);
      const second = new Appender(subject.log);
      await first.append(request('shared', [opened()], 0));
      await first.append(request('shared', [reported('a')]));
      // The second writer moves the story on; the first still remembers version 2.
      await second.append(request('shared', [reported('b'), corrected('a', 'a, corrected')]));

      const conflict = await attempt(first, request('shared', [reported('c')], 2));
      expect(isStorylineError(conflict) && conflict.code).toBe('version_conflict');

      // Entry b exists though the first writer never saw it.
      const again = await attempt(first, request('shared', [reported('b')]));
      expect(isStorylineError(again) && again.code).toBe('development_already_reported');

      // A correction of an entry the first writer holds in an older state.
      await first.append(request('shared', [corrected('a', 'a, corrected twice')], 4));
      const story = await subject.story('shared');
      expect(story?.version).toBe(5);

      // An id appended by the second writer is an idempotent retry for the first.
      const id = randomUUID();
      const original = await second.append(request('shared', [reported('d', id)]));
      const retry = await first.append(request('shared', [reported('d', id)]));
      expect(retry).toEqual({ ...original, appended: false });

      const events = await subject.events();
      expect(events.map((event) => event.position)).toEqual(events.map((_, index) => index + 1));
      expect(await subject.story('shared')).toEqual(
        foldStory(events.filter((e) => e.storyId === 'shared'))?.story,
      );
    });

    it('rejects on a story it never loaded without writing, and opens new ones', async () => {
      const appender = new Appender(subject.log);
      const before = (await subject.events()).length;
      const missing = await attempt(appender, request('never-opened', [reported('x')]));
      expect(isStorylineError(missing) && missing.code).toBe('story_not_opened');
      expect((await subject.events()).length).toBe(before);
      await appender.append(request('never-opened', [opened()], 0));
      const twice = await attempt(appender, request('never-opened', [opened()]));
      expect(isStorylineError(twice) && twice.code).toBe('story_already_opened');
    });

    it('keeps one request of a batch from sinking the others', async () => {
      const appender = new Appender(subject.log);
      await appender.append(request('batch', [opened()], 0));
      const outcomes = await Promise.all([
        attempt(appender, request('batch', [reported('one')])),
        attempt(appender, request('batch', [reported('one')])),
        attempt(appender, request('batch', [reported('two'), corrected('nope', 'x')])),
        attempt(appender, request('batch', [reported('three')])),
      ]);
      expect(outcomes.map((outcome) => (isStorylineError(outcome) ? outcome.code : 'ok'))).toEqual([
        'ok',
        'development_already_reported',
        'development_not_found',
        'ok',
      ]);
      expect((await subject.story('batch'))?.version).toBe(3);
    });

    it('keeps recorded times growing with position', async () => {
      const appender = new Appender(subject.log, { now: () => Date.parse('2001-01-01T00:00:00Z') });
      await appender.append(request('clock', [opened()], 0));
      await appender.append(request('clock', [reported('late')]));
      const events = await subject.events();
      const times = events.map((event) => Date.parse(event.recordedAt));
      expect(times).toEqual([...times].sort((a, b) => a - b));
    });
  });
}

contract('in memory', () => {
  const log = new InMemoryEventLog();
  return Promise.resolve({
    log,
    events: () => Promise.resolve(log.events),
    story: (storyId: string) => Promise.resolve(log.stories.get(storyId) ?? null),
    close: () => Promise.resolve(),
  });
});

contract('PostgreSQL', async () => {
  const database: TestDatabase = await createTestDatabase();
  const connection: PostgresConnection = connect(database.url);
  const log = new PostgresEventLog(connection.db, connection.pool);
  const reader = new PostgresReader(connection.db);
  return {
    log,
    events: async () => (await reader.readEvents({ after: 0, limit: 100_000 })).events,
    story: (storyId) => reader.getStory(storyId),
    close: async () => {
      // The views the fast path wrote equal a rebuild from the log.
      const before = await reader.listStories();
      await rebuildViews(log);
      expect(await reader.listStories()).toEqual(before);
      await connection.close();
      await database.drop();
    },
  };
});

describe('an append whose commit answer is lost', () => {
  it('is retried with the same ids and appended once', async () => {
    const log = new InMemoryEventLog();
    const appender = new Appender(log);
    await appender.append(request('lost', [opened()], 0));
    log.loseNextCommitAnswer = true;
    const [first, second] = await Promise.allSettled([
      appender.append(request('lost', [{ ...reported('a'), id: undefined }])),
      appender.append(request('lost', [{ ...reported('b'), id: undefined }])),
    ]);
    expect(first.status).toBe('fulfilled');
    expect(second.status).toBe('fulfilled');
    // Both events once each, though the batch that held them failed after committing.
    expect(log.events.map((event) => event.type)).toEqual([
      'story.opened',
      'development.reported',
      'development.reported',
    ]);
  });
});
