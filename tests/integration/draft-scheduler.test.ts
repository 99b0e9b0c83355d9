/**
 * The scheduler across real `storyline serve` processes on one database: scheduled drafts are
 * published at or after their time, each exactly once, whichever process claims them; when a
 * process is killed mid-way the others publish the rest (taking over its claims once their lease
 * lapses); and drafts wait in the database across restarts. Drafts are made through an
 * in-process app that runs no scheduler, so only the child processes publish.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DraftScheduler } from '../../src/app/draft-scheduler.ts';
import { readConfig } from '../../src/config.ts';
import { Drafts, type Draft } from '../../src/app/drafts.ts';
import type { RecordedEvent } from '../../src/domain/event-types.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { until } from '../support/live-client.ts';
import { development, opened } from '../support/live-server.ts';
import { exitOf, startServe } from '../support/run-cli.ts';

let h: Harness;
const children: ChildProcess[] = [];

beforeAll(async () => {
  h = await createHarness();
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGKILL');
    await exitOf(child);
  }
});

afterAll(async () => {
  await h.close();
});

async function serve(env: Record<string, string> = {}): Promise<ChildProcess> {
  const { child } = await startServe({
    DATABASE_URL: h.database.url,
    PORT: '0',
    STORYLINE_SEED: 'off',
    STORYLINE_SCHEDULER_INTERVAL_MS: '100',
    STORYLINE_SCHEDULER_LEASE_MS: '2000',
    ...env,
  });
  children.push(child);
  return child;
}

let stories = 0;
async function newStory(): Promise<string> {
  const storyId = `scheduled-${++stories}`;
  expect((await h.append(storyId, { events: [opened(storyId)] })).status).toBe(201);
  return storyId;
}

async function schedule(storyId: string, publishAt: Date | null, events = 1): Promise<Draft> {
  const response = await h.app.request(`/v1/stories/${storyId}/drafts`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${h.token}` },
    body: JSON.stringify({
      events: Array.from({ length: events }, () => development()),
      ...(publishAt === null ? {} : { publishAt: publishAt.toISOString() }),
    }),
  });
  const text = await response.text();
  expect(response.status, text).toBe(201);
  return (JSON.parse(text) as { draft: Draft }).draft;
}

async function draftsOf(storyIds: readonly string[], status = 'all'): Promise<Draft[]> {
  const lists = await Promise.all(
    storyIds.map(async (storyId) => {
      const response = await h.app.request(`/v1/stories/${storyId}/drafts?status=${status}`, {
        headers: { Authorization: `Bearer ${h.token}` },
      });
      return ((await response.json()) as { drafts: Draft[] }).drafts;
    }),
  );
  return lists.flat();
}

async function allPublished(storyIds: readonly string[], count: number): Promise<Draft[]> {
  let published: Draft[] = [];
  await until(
    async () => {
      published = await draftsOf(storyIds, 'published');
      return published.length === count;
    },
    `${count} drafts published`,
    90_000,
  );
  return published;
}

async function log(): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for (let after = 0; ;) {
    const { body } = await h.getJson(`/v1/events?after=${after}&limit=1000`);
    events.push(...(body.events as RecordedEvent[]));
    if (body.next === null) return events;
    after = body.next as number;
  }
}

/**
 * Each draft's events are in the log exactly once, at the positions the draft names, in its
 * order, recorded no earlier than its publishAt; and within a story, drafts follow publishAt.
 */
async function expectPublishedOnce(drafts: readonly Draft[]): Promise<void> {
  const events = await log();
  const byId = new Map<string, RecordedEvent[]>();
  for (const event of events) byId.set(event.id, [...(byId.get(event.id) ?? []), event]);
  for (const draft of drafts) {
    expect(draft.status).toBe('published');
    const found = draft.events.map((event) => byId.get(event.id) ?? []);
    expect(
      found.map((copies) => copies.length),
      `draft ${draft.id}`,
    ).toEqual(draft.events.map(() => 1));
    const recorded = found.map((copies) => copies[0] as RecordedEvent);
    expect(recorded.map((event) => event.position)).toEqual(draft.positions);
    for (const event of recorded) {
      expect(Date.parse(event.recordedAt)).toBeGreaterThanOrEqual(
        Date.parse(draft.publishAt ?? ''),
      );
    }
  }
  for (const storyId of new Set(drafts.map((draft) => draft.storyId))) {
    const storyDrafts = drafts.filter((draft) => draft.storyId === storyId);
    const byTime = [...storyDrafts].sort(
      (a, b) => Date.parse(a.publishAt ?? '') - Date.parse(b.publishAt ?? ''),
    );
    const positions = byTime.flatMap((draft) => draft.positions ?? []);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  }
}

describe('the scheduler on two server processes', () => {
  it('publishes a batch of scheduled drafts at or after their time, each once, claimed once', async () => {
    const storyIds = [await newStory(), await newStory()];
    // A lease longer than any append takes, however loaded the machine: no takeovers here.
    await serve({ STORYLINE_SCHEDULER_LEASE_MS: '60000' });
    await serve({ STORYLINE_SCHEDULER_LEASE_MS: '60000' });
    const start = Date.now() + 1500;
    const drafts: Draft[] = [];
    for (let index = 0; index < 40; index += 1) {
      const storyId = storyIds[index % 2] as string;
      drafts.push(await schedule(storyId, new Date(start + index * 25), 1 + (index % 3)));
    }
    // A draft without a time and one far ahead stay as they are.
    const unscheduled = await schedule(storyIds[0] as string, null);
    const later = await schedule(storyIds[1] as string, new Date(Date.now() + 3_600_000));

    const published = await allPublished(storyIds, drafts.length);
    await expectPublishedOnce(published);
    // Claims are exclusive: no draft was claimed twice.
    expect(published.map((draft) => draft.attempts)).toEqual(published.map(() => 1));
    expect((await draftsOf(storyIds, 'draft,scheduled')).map((draft) => draft.id).sort()).toEqual(
      [unscheduled.id, later.id].sort(),
    );

    // A graceful stop stops the scheduler too.
    for (const child of children) child.kill('SIGTERM');
    expect(await Promise.all(children.map((child) => exitOf(child)))).toEqual([0, 0]);
  });

  it('publishes the rest when one process is killed mid-way, each draft still once', async () => {
    const storyIds = [await newStory(), await newStory()];
    const doomed = await serve();
    await serve();
    const start = Date.now() + 2000;
    const drafts: Draft[] = [];
    for (let index = 0; index < 40; index += 1) {
      const storyId = storyIds[index % 2] as string;
      drafts.push(await schedule(storyId, new Date(start + index * 100), 1 + (index % 3)));
    }
    await until(
      async () => (await draftsOf(storyIds, 'published')).length >= 5,
      'the first drafts published',
      60_000,
    );
    doomed.kill('SIGKILL');
    await exitOf(doomed);
    expect((await draftsOf(storyIds, 'published')).length).toBeLessThan(drafts.length);

    const published = await allPublished(storyIds, drafts.length);
    await expectPublishedOnce(published);
  });

  it('keeps scheduled drafts across restarts, and takes over claims left by a dead process', async () => {
    const storyIds = [await newStory()];
    const first = await serve();
    const ahead = await schedule(storyIds[0] as string, new Date(Date.now() + 3_600_000), 2);
    first.kill('SIGTERM');
    expect(await exitOf(first)).toBe(0);

    // While nothing runs: drafts fall due, and a process "claims" two and dies before appending.
    const overdue = await schedule(storyIds[0] as string, new Date(Date.now() - 5000));
    const orphan = await schedule(storyIds[0] as string, new Date(Date.now() - 1000));
    const claimed = await h.storyline.draftStore.claimDue(10, 1000);
    expect(claimed.map((draft) => draft.id)).toEqual([overdue.id, orphan.id]);
    const patched = await h.app.request(`/v1/stories/${storyIds[0]}/drafts/${ahead.id}`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${h.token}` },
      body: JSON.stringify({ publishAt: new Date(Date.now() - 10).toISOString() }),
    });
    expect(patched.status).toBe(200);

    await serve();
    const published = await allPublished(storyIds, 3);
    await expectPublishedOnce(published);
    const attempts = new Map(published.map((draft) => [draft.id, draft.attempts]));
    expect(Object.fromEntries(attempts)).toEqual({
      [ahead.id]: 1,
      [overdue.id]: 2,
      [orphan.id]: 2,
    });
  });
});

describe('DraftScheduler in one process', () => {
  it('publishes what is due on its ticks and stops cleanly', async () => {
    const storyId = `in-process-${Date.now()}`;
    expect((await h.append(storyId, { events: [opened(storyId)] })).status).toBe(201);
    const draft = await schedule(storyId, new Date(Date.now() - 1));
    const errors: unknown[] = [];
    const scheduler = new DraftScheduler(new Drafts(h.storyline.draftStore, h.storyline.appender), {
      intervalMs: 20,
      batchSize: 1,
      onError: (error) => errors.push(error),
    });
    scheduler.start();
    await allPublished([storyId], 1);
    await scheduler.close();
    await expectPublishedOnce(await draftsOf([storyId], 'published'));
    expect(errors).toEqual([]);
    expect(draft.status).toBe('scheduled');
  });

  it('is configured from the environment, with defaults, naming a bad variable', () => {
    expect(readConfig({}).scheduler).toEqual({ intervalMs: 1000, leaseMs: 30_000 });
    expect(
      readConfig({ STORYLINE_SCHEDULER_INTERVAL_MS: '250', STORYLINE_SCHEDULER_LEASE_MS: '5000' })
        .scheduler,
    ).toEqual({ intervalMs: 250, leaseMs: 5000 });
    expect(() => readConfig({ STORYLINE_SCHEDULER_INTERVAL_MS: '0' })).toThrow(
      /STORYLINE_SCHEDULER_INTERVAL_MS/,
    );
    expect(() => readConfig({ STORYLINE_SCHEDULER_LEASE_MS: 'soon' })).toThrow(
      /STORYLINE_SCHEDULER_LEASE_MS/,
    );
  });

  it('refuses an interval that is not a positive whole number', () => {
    const drafts = new Drafts(h.storyline.draftStore, h.storyline.appender);
    expect(() => new DraftScheduler(drafts, { intervalMs: 0 })).toThrow(/intervalMs/);
  });
});
