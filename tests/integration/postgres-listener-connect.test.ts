/**
 * The LISTEN connection to a server that accepts the TCP connection and then never answers (a
 * half-dead host, a stalled proxy): without a connect timeout the listener would wait on it for
 * ever and live delivery would rest on the poll alone. It gives up, says why, and tries again.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresListener } from '../../src/adapters/postgres/postgres-listener.ts';
import { until } from '../support/live-client.ts';

describe('the LISTEN connection to a server that never answers', () => {
  let blackHole: Server;
  const sockets: Socket[] = [];
  let port = 0;

  beforeAll(async () => {
    blackHole = createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const address = blackHole.address();
    port = typeof address === 'object' && address !== null ? address.port : 0;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => blackHole.close(resolve));
  });

  it('times out, reports it and connects again', async () => {
    const errors: unknown[] = [];
    const listener = new PostgresListener(
      `postgres://postgres@127.0.0.1:${port}/postgres`,
      (error) => errors.push(error),
      new Map(),
      { connectTimeoutMs: 200 },
    );
    listener.start(() => undefined);
    try {
      await until(() => sockets.length >= 2, 'a second connection attempt', 20_000);
      expect(String(errors[0])).toMatch(/timeout/i);
    } finally {
      await listener.close();
    }
  });
});
