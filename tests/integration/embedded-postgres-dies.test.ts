/**
 * The embedded PostgreSQL that `serve` started dies under it (killed, out of memory). Storyline
 * does not restart it: it exits non-zero with a one-line reason, so a supervisor restarts the
 * whole service and a person who ran `npm start` sees why it stopped, instead of a server that
 * stays up answering 503 for ever.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { until } from '../support/live-client.ts';
import { startServe } from '../support/run-cli.ts';

describe('storyline serve when its embedded PostgreSQL dies', () => {
  it('exits 1 with a one-line reason', async () => {
    // Under /tmp: as root the embedded server runs as `postgres`, which must reach the folder.
    const dataDir = await mkdtemp(path.join(tmpdir(), 'storyline-dies-'));
    try {
      const server = await startServe({ STORYLINE_DATA_DIR: dataDir, PORT: '0' });
      try {
        expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
        // postmaster.pid: line 1 is the postmaster's pid.
        const pid = Number(
          readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0],
        );
        process.kill(pid, 'SIGKILL');

        await until(() => server.child.exitCode !== null, 'the service to exit', 30_000);
        expect(server.child.exitCode).toBe(1);
        expect(server.output()).toMatch(
          /^storyline: the embedded PostgreSQL in \S+ \(pid \d+\) stopped unexpectedly \(SIGKILL\); exiting so that a supervisor \(or you\) can start Storyline again$/m,
        );
      } finally {
        server.child.kill('SIGKILL');
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
