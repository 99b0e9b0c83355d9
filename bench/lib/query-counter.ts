/**
 * A loopback TCP proxy in front of PostgreSQL that counts the statements passing through it, by
 * reading the frontend side of the wire protocol: a simple-protocol Query ('Q') or an
 * extended-protocol Execute ('E') is one statement. Point a server's DATABASE_URL at `url` to
 * count exactly what that server asks of the database, at once and whatever the server's version
 * (pg_stat_statements may be missing; pg_stat_database's counters reach readers only after the
 * backends flush them, which can take 10 s).
 */
import net from 'node:net';
import type { Scope } from './scenario.ts';

const sslRequestCode = 80877103;

export interface QueryCounter {
  /** The database URL, through the proxy. */
  readonly url: string;
  /** Statements sent so far. */
  readonly statements: number;
}

export async function startQueryCounter(scope: Scope, databaseUrl: string): Promise<QueryCounter> {
  const target = new URL(databaseUrl);
  const targetPort = Number(target.port || '5432');
  let statements = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    // The first message (and the one after an SSL request) has no type byte.
    let untyped = true;
    let pending: Buffer = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      for (;;) {
        if (untyped) {
          if (pending.length < 8) break;
          const length = pending.readUInt32BE(0);
          if (pending.length < length) break;
          untyped = pending.readUInt32BE(4) === sslRequestCode;
          pending = pending.subarray(length);
          continue;
        }
        if (pending.length < 5) break;
        const length = pending.readUInt32BE(1);
        if (pending.length < 1 + length) break;
        const type = pending[0];
        if (type === 0x51 /* Q */ || type === 0x45 /* E */) statements++;
        pending = pending.subarray(1 + length);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  scope.defer(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const proxied = new URL(databaseUrl);
  proxied.hostname = '127.0.0.1';
  proxied.port = String((server.address() as net.AddressInfo).port);
  return {
    url: proxied.toString(),
    get statements() {
      return statements;
    },
  };
}
