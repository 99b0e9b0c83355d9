/**
 * A database recreated from a backup under a running server (drop it, create it again from the
 * backup, the backup's epoch rotated as the README's restore procedure says). Once the server's
 * feed sees the new epoch, everything it serves from memory is the new log's: the story view,
 * timeline pages, time travel, pages of the log, and what the appender decides from.
 *
 * The two logs are made alike on purpose: the same story, the same head and version, differing
 * only in their content, so that nothing but the epoch can tell them apart.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openStoryline } from '../../src/composition.ts';
import { adminQuery } from '../support/global-setup.ts';
import { expectError } from '../support/api-errors.ts';
import { silentLogger } from '../support/harness.ts';
import { until } from '../support/live-client.ts';
import { opened, startLiveServer, type LiveServer } from '../support/live-server.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

const reported = (developmentId: string, headline: string) => ({
  type: 'development.reported' as const,
  data: { developmentId, kind: 'statement' as const, headline },
});

describe('a database restored under a running server', () => {
  let live: LiveServer;
  let backup: TestDatabase;

  beforeAll(async () => {
    live = await startLiveServer({ pollIntervalMs: 100 });
    backup = await createTestDatabase();
  });
  afterAll(async () => {
    await live.close();
    await backup.drop();
  });

  const get = async (path: string) => {
    const response = await fetch(`${live.url}${path}`);
    return { status: response.status, body: (await response.json()) as any };
  };

  it('serves the restored log’s state without a restart', { timeout: 60_000 }, async () => {
    await live.post('restored', [opened('Before'), reported('only-before', 'Said before')]);
    // Read everything once, so that it is cached.
    expect((await get('/v1/stories/restored')).body.title).toBe('Before');
    expect((await get('/v1/stories/restored/timeline')).body.entries[0].headline).toBe(
      'Said before',
    );
    expect((await get('/v1/stories/restored/state?at=1')).body.title).toBe('Before');
    expect((await get('/v1/events?after=0&limit=1')).body.events[0].data.title).toBe('Before');
    expect((await get('/v1/stories/restored/events?after=1')).body.events).toHaveLength(1);
    const oldEpoch = (await get('/v1/events?limit=1')).body.epoch as string;
    const oldStoryEtag = (await fetch(`${live.url}/v1/stories/restored`)).headers.get('etag');
    const oldFeed = await fetch(`${live.url}/v1/stories/restored/feed.atom`);
    const oldFeedEtag = oldFeed.headers.get('etag');
    expect(await oldFeed.text()).toContain('Said before');
    expect(oldStoryEtag).not.toBeNull();
    expect(oldFeedEtag).not.toBeNull();

    // The backup: the same story, as long, with other content, and its own epoch.
    const other = await openStoryline(
      { databaseUrl: backup.url, dataDir: '/nonexistent', poolSize: 2 },
      silentLogger,
    );
    await other.appender.append({
      storyId: 'restored',
      author: 'backup',
      events: [
        { type: 'story.opened', data: { title: 'After', timeZone: 'Europe/Moscow' } },
        reported('only-after', 'Said after'),
      ],
    });
    await other.connection.pool.query('update log_meta set log_epoch = gen_random_uuid()');
    // The backup was taken after the desk's token was made.
    const { rows: tokens } = await live.h.storyline.connection.pool.query<Record<string, unknown>>(
      'select * from api_tokens',
    );
    for (const token of tokens) {
      const columns = Object.keys(token);
      await other.connection.pool.query(
        `insert into api_tokens (${columns.join(', ')})
         values (${columns.map((_, index) => `$${index + 1}`).join(', ')})`,
        Object.values(token),
      );
    }
    await other.close();

    // Restore: the server's database is dropped and made again from the backup.
    const adminUrl = inject('adminUrl');
    await adminQuery(adminUrl, `drop database ${live.h.database.name} with (force)`);
    await adminQuery(adminUrl, `create database ${live.h.database.name} template ${backup.name}`);

    await until(
      async () => (await get('/v1/stories/restored')).body.title === 'After',
      'the story view of the restored log',
      20_000,
    );
    // A client holding the old log's ETag for the same position gets the new content, not 304.
    const revalidated = await fetch(`${live.url}/v1/stories/restored`, {
      headers: { 'If-None-Match': oldStoryEtag ?? '' },
    });
    expect(revalidated.status).toBe(200);
    expect(((await revalidated.json()) as any).title).toBe('After');
    expect(revalidated.headers.get('etag')).not.toBe(oldStoryEtag);
    const feed = await fetch(`${live.url}/v1/stories/restored/feed.atom`, {
      headers: { 'If-None-Match': oldFeedEtag ?? '' },
    });
    expect(feed.status).toBe(200);
    expect(await feed.text()).toContain('Said after');
    expect(feed.headers.get('etag')).not.toBe(oldFeedEtag);
    // Within one log the ETag still means "unchanged".
    const again = await fetch(`${live.url}/v1/stories/restored`, {
      headers: { 'If-None-Match': revalidated.headers.get('etag') ?? '' },
    });
    expect(again.status).toBe(304);

    const timeline = await get('/v1/stories/restored/timeline');
    expect(timeline.body.entries.map((entry: any) => entry.headline)).toEqual(['Said after']);
    expect((await get('/v1/stories/restored/state?at=1')).body.title).toBe('After');
    const page = await get('/v1/events?after=0&limit=1');
    expect(page.body.events[0].data.title).toBe('After');
    expect(page.body.epoch).not.toBe(oldEpoch);
    const storyPage = await get('/v1/stories/restored/events?after=1');
    expect(storyPage.body.events.map((event: any) => event.data.developmentId)).toEqual([
      'only-after',
    ]);

    // The appender decides from the restored log too: a development only the old log had is
    // not found, one the restored log has can be pinned.
    await expectError(
      fetch(`${live.url}/v1/stories/restored/events`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${live.h.token}` },
        body: JSON.stringify({
          events: [{ type: 'development.pinned', data: { developmentId: 'only-before' } }],
        }),
      }),
      422,
      'development_not_found',
    );
    const pinned = await live.post('restored', [
      { type: 'development.pinned', data: { developmentId: 'only-after' } },
    ]);
    expect(pinned.positions).toEqual([3]);
    expect((await get('/v1/stories/restored')).body.pinned).toMatchObject({
      developmentId: 'only-after',
    });
  });
});
