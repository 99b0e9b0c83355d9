/**
 * `npm run bench`: every scenario of the performance issue, Storyline against its baseline in
 * the same run, interleaved over rounds (baseline, Storyline, baseline, Storyline, …), reported as
 * medians with min–max and the ratio Storyline ÷ baseline against each target. Prints a table and
 * writes bench/results.json. See bench/README.md for what each scenario measures and how.
 *
 *   npm run bench                          full run (3 rounds each, under 15 minutes)
 *   npm run bench -- --quick               small counts, 1 round: a smoke test for CI
 *   npm run bench -- --only=append,reads   some scenarios (names or their starts)
 *   npm run bench -- --rounds=5            more rounds
 *
 * DATABASE_URL: scratch databases on that server (the role needs CREATEDB), dropped after;
 * unset: an embedded PostgreSQL in a temporary folder.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { projectRoot } from '../src/config.ts';
import { openBenchServer } from './lib/database.ts';
import { formatBaselines, formatTable, type ResultRow } from './lib/results.ts';
import { Scope, type BenchOptions, type Scenario, type ScenarioContext } from './lib/scenario.ts';
import { scenarios } from './scenarios/index.ts';

/** Open files the bench process needs: 5,000 WebSocket clients and their servers' pipes. */
const openFilesNeeded = 12_000;

function parseOptions(argv: readonly string[]): BenchOptions {
  let quick = false;
  let rounds: number | null = null;
  let only: string[] | null = null;
  for (const arg of argv) {
    if (arg === '--quick') quick = true;
    else if (arg.startsWith('--only=')) {
      only = arg
        .slice('--only='.length)
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name !== '');
    } else if (arg.startsWith('--rounds=')) {
      rounds = Number(arg.slice('--rounds='.length));
      if (!Number.isInteger(rounds) || rounds < 1)
        throw new Error('--rounds needs a whole number ≥ 1');
    } else {
      throw new Error(`unknown option ${arg}; use --quick, --only=a,b, --rounds=N`);
    }
  }
  // A name or its start: --only=append selects append-http.
  const selected =
    only?.map((wanted) => {
      const matches = scenarios.filter((scenario) => scenario.name.startsWith(wanted));
      if (matches.length === 0) {
        const known = scenarios.map((scenario) => scenario.name).join(', ');
        throw new Error(`no scenario ${wanted}; the scenarios are ${known}`);
      }
      return matches.map((scenario) => scenario.name);
    }) ?? null;
  return { quick, rounds: rounds ?? (quick ? 1 : 3), only: selected?.flat() ?? null };
}

function openFilesLimit(): { soft: number; hard: number } {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  const parse = (value: string | undefined) =>
    value === 'unlimited' ? Number.POSITIVE_INFINITY : Number(value ?? 1024);
  return { soft: parse(match?.[1]), hard: parse(match?.[2]) };
}

/**
 * Node cannot raise its own open-files limit, so below the need the bench runs itself again
 * under `ulimit -n` (children inherit the limit), or stops with what to do.
 */
async function ensureOpenFiles(): Promise<boolean> {
  const { soft, hard } = openFilesLimit();
  if (soft >= openFilesNeeded) return true;
  if (hard < openFilesNeeded || process.env['STORYLINE_BENCH_REEXEC'] === '1') {
    throw new Error(
      `the bench needs ${openFilesNeeded} open files (5,000 WebSocket clients) but the limit is ` +
        `${soft} (hard ${hard}); raise it (ulimit -n ${openFilesNeeded}, or LimitNOFILE for a service)`,
    );
  }
  const child = spawn(
    'sh',
    [
      '-c',
      `ulimit -n ${openFilesNeeded} && exec "$0" "$@"`,
      process.execPath,
      ...process.execArgv,
      ...process.argv.slice(1),
    ],
    { stdio: 'inherit', env: { ...process.env, STORYLINE_BENCH_REEXEC: '1' } },
  );
  const code = await new Promise<number>((resolve) =>
    child.once('exit', (exit) => resolve(exit ?? 1)),
  );
  process.exitCode = code;
  return false;
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: projectRoot,
      encoding: 'utf8',
    }).trim();
  } catch {
    return null;
  }
}

const log = (text: string) => process.stderr.write(`${text}\n`);

async function runScenario(
  scenario: Scenario,
  base: Omit<ScenarioContext, 'scope' | 'deadline' | 'report' | 'note'>,
  rows: ResultRow[],
  notes: string[],
): Promise<boolean> {
  const capSeconds = base.options.quick ? scenario.capSeconds.quick : scenario.capSeconds.full;
  const scope = new Scope();
  const started = performance.now();
  const context: ScenarioContext = {
    ...base,
    scope,
    deadline: started + capSeconds * 1000,
    report: (row) => rows.push(row),
    note: (text) => notes.push(`${scenario.name}: ${text}`),
  };
  log(`\n${scenario.name}: ${scenario.title} (cap ${capSeconds} s)`);
  // The cap stops new rounds; this hard stop (cap plus a grace) ends a scenario that hangs.
  let timer: NodeJS.Timeout | undefined;
  const hardStop = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), capSeconds * 1000 + 90_000);
  });
  const running = scenario.run(context);
  let ok = true;
  try {
    const outcome = await Promise.race([running.then(() => 'done' as const), hardStop]);
    if (outcome === 'timeout') {
      ok = false;
      context.note(`FAILED: still running ${capSeconds + 90} s after its start; stopped`);
      running.catch(() => undefined);
    }
  } catch (error) {
    ok = false;
    context.note(
      `FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
  } finally {
    clearTimeout(timer);
    for (const error of await scope.close()) {
      context.note(`cleanup: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  log(`${scenario.name}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return ok;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (!(await ensureOpenFiles())) return;
  const selected = scenarios.filter(
    (scenario) => options.only === null || options.only.includes(scenario.name),
  );
  const cpu = cpus();
  const startedAt = new Date();
  const server = await openBenchServer();
  const rows: ResultRow[] = [];
  const notes: string[] = [];
  let failures = 0;
  const machine = {
    date: startedAt.toISOString(),
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    loadAverageAtStart: loadavg().map((load) => Number(load.toFixed(2))),
    node: process.version,
    postgres: server.version,
    embeddedPostgres: server.embedded,
    mode: options.quick ? 'quick' : 'full',
    rounds: options.rounds,
    commit: gitCommit(),
  };
  try {
    log(`bench: ${machine.mode}, ${machine.rounds} round(s), ${selected.length} scenario(s)`);
    log(`  ${machine.cpu} (${machine.cores} cores), node ${machine.node}`);
    log(`  PostgreSQL ${machine.postgres} (${server.embedded ? 'embedded' : 'DATABASE_URL'})`);
    for (const scenario of selected) {
      const base = {
        options,
        server,
        size: <T>(full: T, quick: T): T => (options.quick ? quick : full),
        log: (text: string) => log(`${scenario.name}: ${text}`),
      };
      if (!(await runScenario(scenario, base, rows, notes))) failures++;
    }
  } finally {
    await server.close();
  }
  const seconds = (Date.now() - startedAt.getTime()) / 1000;
  const results = { machine: { ...machine, seconds: Math.round(seconds) }, rows, notes };
  const file = path.join(projectRoot, 'bench', 'results.json');
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);

  console.log(`\nStoryline bench, ${machine.date}, ${machine.mode} (${machine.rounds} rounds)`);
  console.log(
    `${machine.cpu}, ${machine.cores} cores; node ${machine.node}; PostgreSQL ${machine.postgres}` +
      ` (${server.embedded ? 'embedded' : 'DATABASE_URL'}); ${Math.round(seconds)} s\n`,
  );
  console.log(formatTable(rows));
  console.log(
    '\nMedians over the rounds, (min–max) where more than one; ratio = Storyline ÷ baseline.',
  );
  console.log(`Baselines:\n${formatBaselines(rows)}`);
  if (notes.length > 0) console.log(`\nNotes:\n${notes.map((note) => `- ${note}`).join('\n')}`);
  console.log(`\nwritten: ${path.relative(process.cwd(), file)}`);
  if (failures > 0) {
    console.log(`${failures} scenario(s) failed`);
    process.exitCode = 1;
  }
}

await main().catch((error: unknown) => {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
