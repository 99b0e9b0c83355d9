/**
 * The token hint in the startup banner works as printed: run in a shell from the checkout, it
 * makes a token in the database the server uses, also when that database came from
 * DATABASE_URL (the hint used to make the token in an embedded database instead, and the
 * token then got 401). A password in DATABASE_URL is never printed.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  childEnv,
  exitOf,
  outputOf,
  projectRoot,
  startServe,
  type CliResult,
} from '../support/run-cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

/** Runs a command line as a person would paste it into a shell in the checkout. */
function shell(command: string): Promise<CliResult> {
  return outputOf(spawn('sh', ['-c', command], { cwd: projectRoot, env: childEnv({}) }));
}

function tokenHint(output: string): string {
  const line = output.split('\n').find((candidate) => candidate.includes('tokens create'));
  const match = /publish token: (.*?tokens create <your-name>) {3}\(/.exec(line ?? '');
  if (match?.[1] === undefined) throw new Error(`no token hint in:\n${output}`);
  return match[1];
}

async function append(url: string, token: string | null): Promise<Response> {
  return fetch(`${url}/v1/stories/kremlin-talks/events`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      ...(token === null ? {} : { Authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify({
      events: [{ type: 'summary.revised', data: { keyPoints: ['Talks ended without a deal'] } }],
    }),
  });
}

describe('the token hint in the startup banner', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  it('with DATABASE_URL set, makes a token the server accepts when run as printed', async () => {
    const server = await startServe({ DATABASE_URL: database.url, PORT: '0' });
    try {
      const hint = tokenHint(server.output());
      expect(hint).toContain('npm run storyline -- tokens create <your-name>');
      // As the hint says: the password goes back in place of ***** (the embedded server has one).
      const password = new URL(database.url).password;
      const command = hint.replace('*****', password).replace('<your-name>', "'hint desk'");
      const created = await shell(command);
      expect(created.stderr).toBe('');
      expect(created.code).toBe(0);
      // npm prints its own header first; the token is the last line.
      const token = created.stdout.trim().split('\n').at(-1) ?? '';
      expect(token).toMatch(/^sl_/);
      const response = await append(server.url, token);
      expect(response.status).toBe(201);
    } finally {
      server.child.kill('SIGTERM');
    }
    expect(await exitOf(server.child)).toBe(0);
  });

  it('with STORYLINE_DATA_DIR set, makes a token the server accepts when run as printed', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'storyline-hint-'));
    try {
      const server = await startServe({ STORYLINE_DATA_DIR: dataDir, PORT: '0' });
      try {
        const hint = tokenHint(server.output());
        const created = await shell(hint.replace('<your-name>', "'hint desk'"));
        expect(created.code).toBe(0);
        const token = created.stdout.trim().split('\n').at(-1) ?? '';
        expect((await append(server.url, token)).status).toBe(201);
      } finally {
        server.child.kill('SIGTERM');
      }
      expect(await exitOf(server.child)).toBe(0);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('masks a password in DATABASE_URL, in the hint and everywhere else', async () => {
    const url = new URL(database.url);
    // A server that trusts local connections takes any password; the embedded one has its own.
    if (url.password === '') url.password = 'not-for-your-eyes';
    const leaked = `:${url.password}@`;
    const server = await startServe({ DATABASE_URL: url.toString(), PORT: '0' });
    try {
      const hint = tokenHint(server.output());
      expect(hint).toMatch(/^DATABASE_URL='postgres:\/\/postgres:\*\*\*\*\*@127\.0\.0\.1:\d+\//);
      expect(server.output()).not.toContain(leaked);
    } finally {
      server.child.kill('SIGTERM');
    }
    expect(await exitOf(server.child)).toBe(0);
    expect(server.output()).not.toContain(leaked);
    if (url.password === 'not-for-your-eyes') expect(server.output()).not.toContain(url.password);
  });

  it('names the command as run from a checkout when an append has no token', async () => {
    const server = await startServe({ DATABASE_URL: database.url, PORT: '0' });
    try {
      const response = await append(server.url, null);
      expect(response.status).toBe(401);
      const body = (await response.json()) as { error: { message: string } };
      expect(body.error.message).toContain('`npm run storyline -- tokens create <name>`');
    } finally {
      server.child.kill('SIGTERM');
    }
    expect(await exitOf(server.child)).toBe(0);
  });
});
