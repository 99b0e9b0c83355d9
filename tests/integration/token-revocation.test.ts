/**
 * Token checks are cached in each server process, so a revocation made elsewhere (the CLI, another
 * process) must reach every cache: it is announced through PostgreSQL NOTIFY in the revoking
 * transaction, and each server drops its cached checks when it hears it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/adapters/postgres/connect.ts';
import { PostgresTokens } from '../../src/adapters/postgres/postgres-tokens.ts';
import { opened, startLiveServer, type LiveServer } from '../support/live-server.ts';

describe('a revoked token', () => {
  let live: LiveServer;
  beforeAll(async () => {
    live = await startLiveServer();
  });
  afterAll(() => live.close());

  const appendWith = (token: string, storyId: string) =>
    fetch(`${live.url}/v1/stories/${storyId}/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ events: [opened(storyId)] }),
    });

  it('stops working on a running server as soon as another process revokes it', async () => {
    const token = await live.h.storyline.tokens.create('night desk');
    // Known and cached by the server.
    expect((await appendWith(token, 'revocation-one')).status).toBe(201);

    // Revoked by another process, as `storyline tokens revoke` does: its own connection and
    // token store, nothing shared with the server but the database.
    const other = connect(live.h.database.url);
    try {
      expect(await new PostgresTokens(other.db).revoke('night desk')).toBe(1);
    } finally {
      await other.close();
    }

    // The notification arrives within moments; the cache would trust the token for 10 s.
    const deadline = Date.now() + 5000;
    let status = 201;
    while (Date.now() < deadline) {
      status = (await appendWith(token, `revocation-${Date.now()}`)).status;
      if (status === 401) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(status).toBe(401);
  });
});
