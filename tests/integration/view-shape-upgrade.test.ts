/**
 * A database whose views were written in an older shape (the story view carrying the whole
 * corrections log and every claim's disputes) is brought to the current shape on start: the
 * migration drops the views and the service rebuilds them from the log.
 */
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index.ts';
import { connect } from '../../src/adapters/postgres/connect.ts';
import { openStoryline } from '../../src/composition.ts';
import { silentLogger } from '../support/harness.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

describe('views of an older shape', () => {
  let database: TestDatabase;
  afterAll(() => database.drop());

  it('are rebuilt from the log when the service starts', async () => {
    database = await createTestDatabase();
    const config = { databaseUrl: database.url, dataDir: '/nonexistent', poolSize: 4 };
    const first = await openStoryline(config, silentLogger);
    await first.appender.append({
      storyId: 'upgrade',
      author: 'test',
      events: [
        { type: 'story.opened', data: { title: 'Upgrade', timeZone: 'UTC' } },
        {
          type: 'development.reported',
          data: { developmentId: 'a', kind: 'claim', headline: 'A claim' },
        },
        {
          type: 'development.corrected',
          data: {
            developmentId: 'a',
            severity: 'correction',
            note: 'n',
            changes: { headline: 'B' },
          },
        },
      ],
    });
    const current = await first.reader.getStory('upgrade');
    await first.close();

    // What the previous version stored, and its migration history without 0004 (and without
    // the migrations that came after it, undone).
    const connection = connect(database.url);
    try {
      const old = { ...current, corrections: [{ note: 'n' }], claims: [{ disputes: [] }] };
      await sql`update stories set view = ${JSON.stringify(old)}::json`.execute(connection.db);
      const later = Object.entries(migrations)
        .filter(([name]) => name > '0004_bounded_story_view')
        .reverse();
      for (const [, migration] of later) await migration.down?.(connection.db);
      await sql`delete from kysely_migration where name >= '0004_bounded_story_view'`.execute(
        connection.db,
      );
    } finally {
      await connection.close();
    }

    const second = await openStoryline(config, silentLogger);
    try {
      expect(await second.reader.getStory('upgrade')).toEqual(current);
      expect(await second.queries.snapshot('upgrade')).toMatchObject({
        projection: { story: current },
      });
    } finally {
      await second.close();
    }
  });

  it('are rebuilt when actors lack their statements (written before the fold kept them)', async () => {
    const config = { databaseUrl: database.url, dataDir: '/nonexistent', poolSize: 4 };
    const first = await openStoryline(config, silentLogger);
    await first.appender.append({
      storyId: 'actors',
      author: 'test',
      events: [
        { type: 'story.opened', data: { title: 'Actors', timeZone: 'UTC' } },
        {
          type: 'development.reported',
          data: {
            developmentId: 'a',
            kind: 'statement',
            headline: 'Peskov speaks',
            actors: [{ name: 'Peskov' }],
          },
        },
        { type: 'development.retracted', data: { developmentId: 'a', reason: 'withdrawn' } },
      ],
    });
    const current = await first.reader.getStory('actors');
    await first.close();
    expect(current?.actors).toMatchObject([{ name: 'Peskov', latestStatement: null }]);

    // What the previous fold stored: the retracted statement kept as the latest, no statements.
    const connection = connect(database.url);
    try {
      const old = {
        ...current,
        actors: [
          {
            name: 'Peskov',
            role: null,
            developments: 1,
            latestStatement: {
              developmentId: 'a',
              headline: 'Peskov speaks',
              occurredAt: current?.openedAt,
              quote: null,
              retracted: true,
            },
          },
        ],
      };
      await sql`update stories set view = ${JSON.stringify(old)}::json where story_id = 'actors'`.execute(
        connection.db,
      );
    } finally {
      await connection.close();
    }

    const second = await openStoryline(config, silentLogger);
    try {
      expect(await second.reader.getStory('actors')).toEqual(current);
    } finally {
      await second.close();
    }
  });
});
