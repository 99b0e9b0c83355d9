/**
 * Child processes: Storyline as it runs in production (`node bin/storyline.js serve`, configured
 * only through its environment) and the bare baselines (bench/children/*.ts, driven over IPC).
 * Servers live in processes of their own so that their event loop, CPU time and resident memory
 * are theirs alone: the load generators and clients stay in the bench process, for both sides.
 * CPU time and RSS are read from /proc, the same way for Storyline and for a baseline.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { projectRoot } from '../../src/config.ts';
import type { Scope } from './scenario.ts';

const clockTicksPerSecond = (() => {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
})();

/** User plus system CPU time of a process so far, in milliseconds (clock-tick resolution). */
export async function cpuMsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks / clockTicksPerSecond) * 1000;
}

/** Resident set size of a process, in bytes. */
export async function rssBytesOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (match?.[1] === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

export interface ServerProcess {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  cpuMs(): Promise<number>;
  rssBytes(): Promise<number>;
  stop(): Promise<void>;
}

function lastLines(text: string, count = 15): string {
  return text.trim().split('\n').slice(-count).join('\n');
}

async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Waits for a line on stdout matching `pattern`; rejects if the child exits or time runs out. */
function waitForLine(
  child: ChildProcess,
  pattern: RegExp,
  what: string,
  timeoutMs: number,
): Promise<RegExpExecArray> {
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${what} did not start within ${timeoutMs} ms:\n${lastLines(stderr)}`));
    }, timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout = (stdout + chunk.toString()).slice(-20_000);
      const match = pattern.exec(stdout);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(
          `${what} exited (${signal ?? `code ${code}`}) before it was ready:\n${lastLines(stderr + stdout)}`,
        ),
      );
    });
  });
}

export interface StorylineProcessOptions {
  readonly name: string;
  readonly databaseUrl: string;
  /** More configuration (README's variables), e.g. STORYLINE_WS_MAX_CONNECTIONS. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Starts `node bin/storyline.js serve` on a free loopback port (PORT=0) and waits for the line
 * that names its URL. The bench seeds and creates tokens itself, so STORYLINE_SEED is off.
 */
export async function startStoryline(
  scope: Scope,
  options: StorylineProcessOptions,
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [path.join(projectRoot, 'bin', 'storyline.js'), 'serve'], {
    cwd: projectRoot,
    env: {
      ...process.env,
      DATABASE_URL: options.databaseUrl,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
      STORYLINE_SEED: 'off',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  scope.defer(() => stopChild(child));
  const match = await waitForLine(
    child,
    /Storyline is serving (http:\/\/\S+)/,
    `storyline serve (${options.name})`,
    90_000,
  );
  const pid = child.pid;
  const url = match[1];
  if (pid === undefined || url === undefined) throw new Error('storyline serve has no pid or URL');
  // Keep draining its output so a chatty server never blocks on a full pipe.
  child.stdout.resume();
  return {
    name: options.name,
    url,
    pid,
    cpuMs: () => cpuMsOf(pid),
    rssBytes: () => rssBytesOf(pid),
    stop: () => stopChild(child),
  };
}

/** A message from a bench child: the answer to the request with the same `id`. */
interface Reply {
  readonly id: number;
  readonly error?: string;
  readonly [field: string]: unknown;
}

const isReply = (message: unknown): message is Reply =>
  typeof message === 'object' && message !== null && typeof (message as Reply).id === 'number';

export interface ChildServer extends ServerProcess {
  /** Sends a command; resolves with the child's reply to it. */
  call(command: Readonly<Record<string, unknown>>): Promise<Readonly<Record<string, unknown>>>;
}

/**
 * Starts a bench child (bench/children/<script>.ts) under tsx with an IPC channel. The child says
 * `{id: 0}` once its IPC is up; then `listen` (with the child's own options) must answer `{url}`;
 * after that each command `{id, …}` gets a reply `{id, …}`.
 */
export async function startChild(
  scope: Scope,
  script: string,
  listen: Readonly<Record<string, unknown>>,
): Promise<ChildServer> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(projectRoot, 'bench', 'children', `${script}.ts`)],
    { cwd: projectRoot, env: process.env, stdio: ['ignore', 'inherit', 'pipe', 'ipc'] },
  );
  scope.defer(() => stopChild(child, 3000));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  const pending = new Map<
    number,
    { resolve: (reply: Reply) => void; reject: (e: Error) => void }
  >();
  child.on('message', (message: unknown) => {
    if (!isReply(message)) return;
    const waiting = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) waiting?.reject(new Error(`${script}: ${message.error}`));
    else waiting?.resolve(message);
  });
  child.once('exit', (code, signal) => {
    const error = new Error(
      `${script} exited (${signal ?? `code ${code}`}):\n${lastLines(stderr)}`,
    );
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  });
  const started = new Promise<Reply>((resolve, reject) => pending.set(0, { resolve, reject }));
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`${script} did not start in 60 s`)), 60_000).unref(),
  );
  await Promise.race([started, timeout]);
  let nextId = 1;
  const call = (command: Readonly<Record<string, unknown>>) =>
    new Promise<Reply>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ ...command, id });
    });
  const listening = await call({ ...listen, type: 'listen' });
  const pid = child.pid;
  if (pid === undefined || typeof listening['url'] !== 'string') {
    throw new Error(`${script} did not report its URL`);
  }
  return {
    name: script,
    url: listening['url'],
    pid,
    call,
    cpuMs: () => cpuMsOf(pid),
    rssBytes: () => rssBytesOf(pid),
    stop: () => stopChild(child, 3000),
  };
}
