/**
 * `npm run bench`: each Storyline path against a bare baseline, measured in one run on the same
 * machine and database (bench/append.ts, bench/fan-out.ts, bench/http-read.ts). Prints absolute
 * numbers and the ratio Storyline / baseline. `BENCH_SCALE=4 npm run bench` runs longer.
 */
import { cpus } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { openStoryline, seedIfEmpty } from '../src/composition.ts';
import { projectRoot } from '../src/config.ts';
import { benchAppend } from './append.ts';
import { scale, type Row, type Section } from './common.ts';
import { openBenchDatabase } from './database.ts';
import { benchFanOut } from './fan-out.ts';
import { benchHttpRead } from './http-read.ts';

const logger = pino({ level: 'silent' });

function format(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(value >= 10 ? 1 : 2);
}

function table(rows: readonly Row[]): string {
  const header = ['benchmark', 'metric', 'baseline', 'Storyline', 'Storyline / baseline'];
  const lines = rows.map((row) => [
    row.benchmark,
    row.metric,
    format(row.baseline),
    format(row.storyline),
    row.ratio ? `${(row.storyline / row.baseline).toFixed(2)}×` : '',
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...lines.map((line) => (line[column] ?? '').length)),
  );
  const render = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  return [
    render(header),
    `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`,
    ...lines.map(render),
  ].join('\n');
}

async function main(): Promise<void> {
  const cpu = cpus();
  const database = await openBenchDatabase();
  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    console.log(`date:       ${new Date().toISOString()}`);
    console.log(`cpu:        ${cpu[0]?.model ?? 'unknown'} (${cpu.length} cores)`);
    console.log(`node:       ${process.version}`);
    console.log(
      `postgresql: ${database.version} (${database.embedded ? 'embedded, temporary folder' : 'DATABASE_URL, scratch database'})`,
    );
    console.log(`scale:      ${scale}\n`);
    const storyline = await openStoryline(
      { databaseUrl: database.url, dataDir: '/nonexistent', poolSize: 10 },
      logger,
    );
    try {
      await seedIfEmpty(storyline, path.join(projectRoot, 'events'), logger);
      const sections: [string, () => Promise<Section>][] = [
        ['append', () => benchAppend(database.url, storyline)],
        ['fan-out', () => benchFanOut(storyline, logger)],
        ['HTTP read', () => benchHttpRead(storyline, logger)],
      ];
      for (const [name, run] of sections) {
        console.log(`running ${name} …`);
        try {
          const section = await run();
          rows.push(...section.rows);
          notes.push(...section.notes);
        } catch (error) {
          notes.push(`${name} failed: ${error instanceof Error ? error.message : String(error)}`);
          process.exitCode = 1;
        }
      }
    } finally {
      await storyline.close();
    }
  } finally {
    await database.close();
  }
  console.log(`\n${table(rows)}\n`);
  for (const note of notes) console.log(`- ${note}`);
}

await main();
