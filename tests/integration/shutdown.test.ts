/**
 * `storyline serve` stopping under load, as a supervisor (SIGTERM) or a person at a terminal
 * (Ctrl-C: SIGINT to the whole process group) stops it. Keep-alive appenders run throughout.
 *
 * What must hold: the process exits 0 within STORYLINE_SHUTDOWN_MS; every request it accepted
 * is answered with its outcome (never a 503 from a database or appender closed under it); every
 * request that reaches it after it began shutting down is refused with 503 (or finds the door
 * closed) and appends nothing; the log holds exactly the appends that were answered 2xx; live
 * sessions are ended with the position to resume after. With the embedded PostgreSQL, a Ctrl-C
 * reaches only Storyline, which stops the database last.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { LiveClient, until } from '../support/live-client.ts';
import { opened } from '../support/live-server.ts';
import { exitOf, runCli, startServe } from '../support/run-cli.ts';
import { openEventStream } from '../support/sse-stream.ts';
import { createTestDatabase } from '../support/test-database.ts';

const appenders = 8;
const storyId = 'shutdown';
const refusedWhileStopping = /^this server is shutting down/;

interface Outcome {
  readonly id: string;
  /** Sent after the test signalled, and after the server logged that it is shutting down. */
  readonly sentAfterSignal: boolean;
  readonly sentAfterDrain: boolean;
  readonly answeredBeforeSignal: boolean;
  /** HTTP status, or 0 when the request failed at the connection (refused or closed). */
  readonly status: number;
  readonly message: string | null;
}

/**
 * Runs keep-alive appenders against a running `serve`, signals it once 200 appends have
 * succeeded, and keeps appending until it exits. Returns every outcome and the exit code.
 */
async function appendThroughShutdown(
  server: { child: ChildProcess; url: string },
  token: string,
  signal: () => void,
) {
  const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` };
  const opening = await fetch(`${server.url}/v1/stories/${storyId}/events`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ events: [opened('Shutting down')] }),
  });
  expect(opening.status).toBe(201);

  const socket = await LiveClient.open(server.url, `?stories=${storyId}`);
  const stream = openEventStream(`${server.url}/v1/stories/${storyId}/live`);
  await until(() => socket.of('subscribed').length === 1, 'the WebSocket subscription');
  await until(() => stream.of('snapshot').length === 1, 'the SSE snapshot');

  let signalled = false;
  let draining = false;
  let exited = false;
  let tail = '';
  server.child.stdout?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4096);
    if (tail.includes('"msg":"shutting down"')) draining = true;
  });
  const exit = exitOf(server.child).then((code) => {
    exited = true;
    return code;
  });

  const outcomes: Outcome[] = [];
  const appendLoop = async (writer: number) => {
    for (let index = 0; index < 5000 && !exited; index += 1) {
      const id = randomUUID();
      const sent = { sentAfterSignal: signalled, sentAfterDrain: draining };
      try {
        const response = await fetch(`${server.url}/v1/stories/${storyId}/events`, {
          method: 'POST',
          headers,
          body: JSON.stringify({
            events: [
              {
                id,
                type: 'development.reported',
                data: {
                  developmentId: `w${writer}-${index}`,
                  kind: 'statement',
                  headline: `update ${index} from writer ${writer}`,
                },
              },
            ],
          }),
        });
        const body = (await response.json().catch(() => null)) as {
          error?: { message?: string };
        } | null;
        outcomes.push({
          id,
          ...sent,
          answeredBeforeSignal: !signalled,
          status: response.status,
          message: body?.error?.message ?? null,
        });
      } catch {
        outcomes.push({ id, ...sent, answeredBeforeSignal: !signalled, status: 0, message: null });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  };
  const loops = Array.from({ length: appenders }, (_, writer) => appendLoop(writer));

  await until(
    () => outcomes.filter((outcome) => outcome.status === 201).length >= 200,
    'appends before the signal',
    60_000,
  );
  signalled = true;
  signal();
  await until(() => draining || exited, 'the server to log that it is shutting down', 30_000);
  // A live client reconnecting now is turned away, not caught up and then left hanging.
  const late = openEventStream(`${server.url}/v1/stories/${storyId}/live`);
  await until(() => late.ended() || late.status() !== 0, 'the late stream', 30_000);
  const lateStatus = late.status();
  await late.close();

  await until(() => exited, 'the exit, well within STORYLINE_SHUTDOWN_MS and a margin', 30_000);
  const code = await exit;
  await Promise.all(loops);
  await until(() => socket.closed !== null, 'the WebSocket close');
  await until(() => stream.ended(), 'the SSE stream end');
  return { code, outcomes, socket, stream, lateStatus };
}

/** The ids of the developments in the story, straight from the database. */
async function loggedIds(databaseUrl: string): Promise<Set<string>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>(
      `select id from events where story_id = $1 and type = 'development.reported'`,
      [storyId],
    );
    return new Set(rows.map((row) => row.id));
  } finally {
    await client.end();
  }
}

function expectOrderlyShutdown(result: Awaited<ReturnType<typeof appendThroughShutdown>>) {
  const { code, outcomes, socket, stream, lateStatus } = result;
  expect(code).toBe(0);
  // Everything answered before the signal succeeded.
  const early = outcomes.filter((outcome) => outcome.answeredBeforeSignal);
  expect(early.filter((outcome) => outcome.status !== 201)).toEqual([]);
  // Every refusal is the refusal of a request that arrived while stopping: none is a 503 from
  // a database or an appender closed under a request already accepted.
  const answered = outcomes.filter((outcome) => outcome.status !== 0);
  const refused = answered.filter((outcome) => outcome.status !== 201);
  for (const outcome of refused) {
    expect({ status: outcome.status, message: outcome.message }).toEqual({
      status: 503,
      message: expect.stringMatching(refusedWhileStopping),
    });
  }
  // Nothing that reached the server after it began shutting down was accepted.
  const late = outcomes.filter((outcome) => outcome.sentAfterDrain && outcome.status === 201);
  expect(late).toEqual([]);
  expect([0, 503]).toContain(lateStatus);
  // Live sessions were told where to resume.
  expect(socket.closed?.code).toBe(1001);
  expect(socket.closed?.reason).toMatch(/after=\d+/);
  const close = stream.of('close')[0];
  expect(close?.data).toEqual({ reason: 'going_away', after: expect.any(Number) });
  return answered.filter((outcome) => outcome.status === 201).map((outcome) => outcome.id);
}

describe('storyline serve shutting down under load', () => {
  it('on SIGTERM answers what it accepted, refuses the rest and exits 0', async () => {
    const database = await createTestDatabase();
    try {
      const { stdout } = await runCli(['tokens', 'create', 'shutdown desk'], {
        DATABASE_URL: database.url,
      });
      const server = await startServe({
        DATABASE_URL: database.url,
        PORT: '0',
        STORYLINE_SEED: 'off',
        LOG_LEVEL: 'info',
      });
      try {
        const result = await appendThroughShutdown(server, stdout.trim(), () =>
          server.child.kill('SIGTERM'),
        );
        const acknowledged = expectOrderlyShutdown(result);
        expect(await loggedIds(database.url)).toEqual(new Set(acknowledged));
      } finally {
        server.child.kill('SIGKILL');
      }
    } finally {
      await database.drop();
    }
  });

  it('on Ctrl-C (SIGINT to the process group) drains, then stops the embedded PostgreSQL', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'storyline-ctrl-c-'));
    try {
      const server = await startServe(
        { STORYLINE_DATA_DIR: dataDir, PORT: '0', STORYLINE_SEED: 'off', LOG_LEVEL: 'info' },
        { detached: true },
      );
      const group = server.child.pid as number;
      try {
        const { stdout } = await runCli(['tokens', 'create', 'terminal desk'], {
          STORYLINE_DATA_DIR: dataDir,
        });
        const result = await appendThroughShutdown(server, stdout.trim(), () =>
          process.kill(-group, 'SIGINT'),
        );
        expectOrderlyShutdown(result);
        // The embedded server stopped after the drain, and nothing went wrong on the way: no
        // warnings or errors (a database stopped under the drain logged them, with stacks).
        expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
        expect(server.output()).not.toMatch(/"level":(40|50|60)/);
      } finally {
        try {
          process.kill(-group, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
