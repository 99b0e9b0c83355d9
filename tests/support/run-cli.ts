/** Runs the real `storyline` command in a child process. */
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';

export const projectRoot = path.resolve(import.meta.dirname, '../..');
const bin = path.join(projectRoot, 'bin/storyline.js');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Environment for a child: the given variables over ours, minus DATABASE_URL unless given. */
export function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  return { ...inherited, LOG_LEVEL: 'warn', ...env };
}

export function runCli(
  args: readonly string[],
  env: Record<string, string | undefined>,
  input?: string,
): Promise<CliResult> {
  const child = spawn(process.execPath, [bin, ...args], { env: childEnv(env), cwd: projectRoot });
  const result = outputOf(child);
  child.stdin.end(input ?? '');
  return result;
}

/** A child's exit code and everything it wrote, once it has closed. */
export function outputOf(child: ChildProcessWithoutNullStreams): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Starts `storyline serve` and resolves once it prints the URL it serves. `detached`: in a process
 * group of its own, as a terminal runs a command (signal the group with `process.kill(-pid)`).
 */
export function startServe(
  env: Record<string, string | undefined>,
  options: { detached?: boolean } = {},
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'serve'], {
      env: childEnv(env),
      cwd: projectRoot,
      detached: options.detached === true,
    });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Storyline is serving (http:\/\/\S+)/.exec(output);
      if (match?.[1] !== undefined) resolve({ child, url: match[1], output: () => output });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`serve exited ${code}:\n${output}`)));
  });
}

export function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Signals every child still running (neither exited nor killed) and waits for each to exit. */
export async function stopRunning(
  children: readonly ChildProcess[],
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  const running = children.filter((child) => child.exitCode === null && child.signalCode === null);
  for (const child of running) child.kill(signal);
  await Promise.all(running.map((child) => exitOf(child)));
}
