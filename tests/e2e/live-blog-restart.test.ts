/**
 * The page outlives its server: `storyline serve` is killed while a reader has the story open,
 * events are appended while it is down, and a new process on the same port and database comes
 * up. The page shows every one of them, once, without a reload.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStoryline, type Storyline } from '../../src/composition.ts';
import { silentLogger } from '../support/harness.ts';
import { development } from '../support/live-server.ts';
import { exitOf, startServe, stopRunning } from '../support/run-cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import {
  connectionIs,
  eventually,
  expectNoScriptErrors,
  launchChromium,
  openPage,
  seededStoryId as storyId,
  timelineIds,
  type OpenedPage,
} from './support/chromium.ts';

/** A port nobody listens on now, so both server processes can be given the same one. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        if (address === null || typeof address === 'string') reject(new Error('no port'));
        else resolve(address.port);
      });
    });
  });
}

describe('the live-blog page across a server restart', () => {
  let database: TestDatabase;
  let storyline: Storyline;
  let browser: Browser;
  let reader: OpenedPage | null = null;
  const servers: ChildProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    storyline = await openStoryline(
      { databaseUrl: database.url, dataDir: '/nonexistent', poolSize: 2 },
      silentLogger,
    );
    browser = await launchChromium();
  });

  afterAll(async () => {
    await reader?.close();
    await browser.close();
    await stopRunning(servers);
    await storyline.close();
    await database.drop();
  });

  it('shows what was appended while the server was down, each development once', async () => {
    const port = await freePort();
    const env = { DATABASE_URL: database.url, HOST: '127.0.0.1', PORT: String(port) };
    const first = await startServe(env); // seeds the story from events/
    servers.push(first.child);
    const token = await storyline.tokens.create('e2e desk');
    const post = async (events: unknown[]) => {
      const response = await fetch(`${first.url}/v1/stories/${storyId}/events`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify({ events }),
      });
      expect(response.status).toBe(201);
    };

    reader = await openPage(browser, `${first.url}/stories/${storyId}`);
    const { page } = reader;
    await connectionIs(page, 'live');
    const before = development('Before the restart: the envoys fly home');
    await post([before]);
    await page.locator(`#entry-${before.data.developmentId}`).waitFor();

    // A crash, not a polite shutdown: the page learns of it from the dropped socket.
    first.child.kill('SIGKILL');
    await exitOf(first.child);
    await connectionIs(page, 'reconnecting');

    const whileDown = [
      development('While down: Kremlin confirms a follow-up call'),
      development('While down: Kyiv asks for a briefing in person'),
    ];
    await storyline.appender.append({ storyId, author: 'e2e desk', events: whileDown });
    await storyline.appender.append({
      storyId,
      author: 'e2e desk',
      events: [
        {
          type: 'development.corrected',
          data: {
            developmentId: before.data.developmentId,
            changes: { headline: 'Before the restart: the envoys flew home overnight' },
            note: 'They left overnight.',
            severity: 'clarification',
          },
        },
      ],
    });

    const second = await startServe(env);
    servers.push(second.child);
    expect(second.url).toBe(first.url);

    await connectionIs(page, 'live');
    for (const event of whileDown) {
      await page.locator(`#entry-${event.data.developmentId}`).waitFor({ timeout: 60_000 });
    }
    await eventually(
      () => page.locator(`#entry-${before.data.developmentId} h3`).textContent(),
      (text) => text === 'Before the restart: the envoys flew home overnight',
      'the correction made while the server was down',
    );

    const ids = await timelineIds(page);
    expect(new Set(ids).size).toBe(ids.length);
    const response = await fetch(`${second.url}/v1/stories/${storyId}`);
    const story = (await response.json()) as { counts: { developments: number } };
    expect(ids).toHaveLength(story.counts.developments);
    expect(ids.slice(0, 3).sort()).toEqual(
      [before, ...whileDown].map((event) => event.data.developmentId).sort(),
    );
    expectNoScriptErrors(reader);
  });
});
