/**
 * The `storyline` command as a user runs it: tokens, import, export, rebuild, and `serve` both
 * on the embedded PostgreSQL (no DATABASE_URL) and on a given server, with a clean shutdown.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitOf, projectRoot, runCli, startServe } from '../support/run-cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

describe('the storyline command', () => {
  let first: TestDatabase;
  let second: TestDatabase;
  beforeAll(async () => {
    [first, second] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  });
  afterAll(async () => {
    await Promise.all([first.drop(), second.drop()]);
  });

  it('creates a token and prints only the token', async () => {
    const result = await runCli(['tokens', 'create', 'night desk'], { DATABASE_URL: first.url });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^sl_[A-Za-z0-9_-]{43}\n$/);
  });

  it('imports story files idempotently', async () => {
    const once = await runCli(['import', 'events'], { DATABASE_URL: first.url });
    expect(once.code).toBe(0);
    expect(once.stderr).toMatch(/^\d+ appended, 0 already present, 0 failed/);
    const twice = await runCli(['import', 'events'], { DATABASE_URL: first.url });
    expect(twice.stderr).toMatch(/^0 appended, \d+ already present, 0 failed/);
  });

  it('exports JSON Lines that re-import into the same log', async () => {
    const exported = await runCli(['export'], { DATABASE_URL: first.url });
    expect(exported.code).toBe(0);
    const dir = await mkdtemp(path.join(tmpdir(), 'storyline-export-'));
    try {
      const file = path.join(dir, 'all.jsonl');
      await import('node:fs/promises').then((fs) => fs.writeFile(file, exported.stdout));
      const imported = await runCli(['import', file], { DATABASE_URL: second.url });
      expect(imported.code).toBe(0);
      const again = await runCli(['export', '--story', 'kremlin-talks'], {
        DATABASE_URL: second.url,
      });
      expect(again.stdout).toBe(exported.stdout);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exports each event’s recordedAt, and importing the export reproduces the log, times included', async () => {
    const exported = await runCli(['export'], { DATABASE_URL: first.url });
    const lines = exported.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as object);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toHaveProperty('recordedAt');

    const events = async (url: string) => {
      const { stdout } = await runCli(['export'], { DATABASE_URL: url });
      return stdout;
    };
    // `second` got the export in the test above, into an empty log.
    expect(await events(second.url)).toBe(exported.stdout);
  });

  it('refuses, and exits 1, an import whose times would go back in a non-empty log', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'storyline-older-'));
    try {
      const file = path.join(dir, 'older.jsonl');
      const line = {
        storyId: 'older',
        id: '00000000-0000-4000-8000-00000000abcd',
        type: 'story.opened',
        data: { title: 'Older', timeZone: 'UTC' },
        recordedAt: '2001-01-01T00:00:00.000Z',
      };
      await import('node:fs/promises').then((fs) => fs.writeFile(file, JSON.stringify(line)));
      const result = await runCli(['import', file], { DATABASE_URL: first.url });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('0 appended, 0 already present, 1 failed');
      expect(result.stderr).toContain(
        'recorded at 2001-01-01T00:00:00.000Z, before the latest event in the log',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to export a story that is not in the log', async () => {
    const result = await runCli(['export', '--story', 'no-such-story'], {
      DATABASE_URL: first.url,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim()).toBe('storyline: no story "no-such-story" in the log');
  });

  it('lists tokens by name and scope, never the tokens themselves', async () => {
    const { stdout: token } = await runCli(['tokens', 'create', 'list desk', '--admin'], {
      DATABASE_URL: first.url,
    });
    const result = await runCli(['tokens', 'list'], { DATABASE_URL: first.url });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^NAME +SCOPE +STORIES +CREATED +REVOKED\n/);
    expect(result.stdout).toMatch(/\nlist desk +admin +\* +\S+ +-\n/);
    expect(result.stdout).not.toContain(token.trim());
  });

  it('rebuilds the views', async () => {
    const result = await runCli(['rebuild'], { DATABASE_URL: first.url });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/rebuilt 1 stories from \d+ events/);
  });

  it('says what is wrong with a bad command or configuration', async () => {
    const unknown = await runCli(['frobnicate'], { DATABASE_URL: first.url });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    expect(unknown.stderr.split('\n')[0]).toMatch(
      /serve, migrate, import, export, rebuild, tokens/,
    );
    const unknownAction = await runCli(['tokens', 'frobnicate'], { DATABASE_URL: first.url });
    expect(unknownAction.code).toBe(2);
    expect(unknownAction.stderr).toMatch(/unknown action "frobnicate".*create, revoke, list/);
    const badPort = await runCli(['migrate'], { DATABASE_URL: first.url, PORT: 'abc' });
    expect(badPort.code).toBe(1);
    expect(badPort.stderr).toContain('PORT');
  });

  it('serves on a given database, accepts a token from the CLI, and stops on SIGTERM', async () => {
    const { stdout: token } = await runCli(['tokens', 'create', 'web desk'], {
      DATABASE_URL: first.url,
    });
    const server = await startServe({ DATABASE_URL: first.url, PORT: '0' });
    try {
      const response = await fetch(`${server.url}/v1/stories/kremlin-talks/events`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token.trim()}` },
        body: JSON.stringify({
          events: [
            { type: 'summary.revised', data: { keyPoints: ['Talks ended without a deal'] } },
          ],
        }),
      });
      expect(response.status).toBe(201);
      const { body } = { body: (await response.json()) as { positions: number[] } };
      const page = await fetch(`${server.url}/v1/events?after=${(body.positions[0] ?? 1) - 1}`);
      const { events } = (await page.json()) as { events: { metadata: { author: string } }[] };
      expect(events[0]?.metadata.author).toBe('web desk');
    } finally {
      server.child.kill('SIGTERM');
    }
    expect(await exitOf(server.child)).toBe(0);
  });
});

describe('storyline serve on an empty database', () => {
  it('counts the seeded events in storyline_events_appended_total', async () => {
    const database = await createTestDatabase();
    try {
      const server = await startServe({ DATABASE_URL: database.url, PORT: '0' });
      try {
        const seeded = (
          await readFile(path.join(projectRoot, 'events/kremlin-talks.jsonl'), 'utf8')
        )
          .split('\n')
          .filter((line) => line.trim() !== '').length;
        const metrics = await (await fetch(`${server.url}/metrics`)).text();
        const counted = [...metrics.matchAll(/^storyline_events_appended_total\{.*\} (\d+)$/gm)]
          .map((match) => Number(match[1]))
          .reduce((sum, value) => sum + value, 0);
        expect(seeded).toBeGreaterThan(0);
        expect(counted).toBe(seeded);
      } finally {
        server.child.kill('SIGTERM');
      }
      expect(await exitOf(server.child)).toBe(0);
    } finally {
      await database.drop();
    }
  });
});

describe('storyline serve with no DATABASE_URL', () => {
  it('starts an embedded PostgreSQL, serves the seeded story, and stops it on SIGTERM', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'storyline-serve-'));
    try {
      const server = await startServe({ STORYLINE_DATA_DIR: dataDir, PORT: '0' });
      try {
        expect(server.output()).toContain('embedded PostgreSQL');
        expect(server.output()).toContain('tokens create');
        const response = await fetch(`${server.url}/v1/stories/kremlin-talks`);
        expect(response.status).toBe(200);
        const story = (await response.json()) as {
          storyId: string;
          counts: { developments: number };
        };
        expect(story.storyId).toBe('kremlin-talks');
        expect(story.counts.developments).toBeGreaterThanOrEqual(20);
        expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      } finally {
        server.child.kill('SIGTERM');
      }
      expect(await exitOf(server.child)).toBe(0);
      // The embedded server is stopped too: its pid file is gone.
      const { existsSync } = await import('node:fs');
      expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
