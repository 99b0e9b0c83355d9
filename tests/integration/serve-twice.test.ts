/**
 * Two `npm start` in one checkout: the second must not borrow the first one's embedded
 * PostgreSQL (it answered 503 forever once the first stopped and took its database along). It
 * refuses at start, in one line, naming the Storyline that runs there.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { childEnv, exitOf, projectRoot, startServe } from '../support/run-cli.ts';

describe('a second storyline serve on the same data directory', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'storyline-twice-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses clearly while the first runs, and starts once the first has stopped', async () => {
    const env = { STORYLINE_DATA_DIR: dataDir, PORT: '0' };
    const first = await startServe(env);
    try {
      const second = await serveOrExit(env);
      expect(second.code).toBe(1);
      expect(second.output.trim()).toBe(
        `storyline: another Storyline is running on this data directory (pid ${first.child.pid}) — stop it or set STORYLINE_DATA_DIR`,
      );
      // The first one is unharmed.
      expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
    } finally {
      first.child.kill('SIGTERM');
    }
    expect(await exitOf(first.child)).toBe(0);

    const third = await startServe(env);
    try {
      expect((await fetch(`${third.url}/readyz`)).status).toBe(200);
    } finally {
      third.child.kill('SIGTERM');
    }
    expect(await exitOf(third.child)).toBe(0);
  });

  it('takes over from a Storyline that was killed and left its PostgreSQL running', async () => {
    const env = { STORYLINE_DATA_DIR: dataDir, PORT: '0' };
    const killed = await startServe(env);
    const postmaster = Number(
      (await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0],
    );
    killed.child.kill('SIGKILL');
    await exitOf(killed.child);
    expect(alive(postmaster)).toBe(true);

    const next = await startServe(env);
    try {
      expect(alive(postmaster)).toBe(false);
      expect((await fetch(`${next.url}/readyz`)).status).toBe(200);
    } finally {
      next.child.kill('SIGTERM');
    }
    expect(await exitOf(next.child)).toBe(0);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * `storyline serve` run to its exit, with all it printed. Should it serve instead, it is stopped
 * at once and the test fails on its exit code (0), rather than waiting for the test's timeout.
 */
function serveOrExit(
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/storyline.js', 'serve'], {
      env: childEnv(env),
      cwd: projectRoot,
    });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Storyline is serving')) child.kill('SIGTERM');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}
