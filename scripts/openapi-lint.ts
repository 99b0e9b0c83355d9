/**
 * Lints the OpenAPI document the server serves at /openapi.json with Redocly's recommended
 * ruleset, and fails on any problem, warnings included (Redocly itself fails on errors only).
 * `npm run openapi:lint`; CI runs it too.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openApiDocument } from '../src/adapters/http/openapi.ts';

interface LintReport {
  readonly totals: { readonly errors: number; readonly warnings: number };
  readonly problems: readonly {
    readonly ruleId: string;
    readonly severity: string;
    readonly message: string;
    readonly location: readonly { readonly pointer?: string }[];
  }[];
}

const redocly = createRequire(import.meta.url).resolve('@redocly/cli/bin/cli.js');
const folder = mkdtempSync(path.join(tmpdir(), 'storyline-openapi-'));
try {
  const file = path.join(folder, 'openapi.json');
  writeFileSync(file, JSON.stringify(openApiDocument(), null, 2));
  const run = spawnSync(
    process.execPath,
    [redocly, 'lint', '--extends=recommended', '--format=json', file],
    {
      encoding: 'utf8',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    },
  );
  const start = run.stdout.indexOf('{');
  if (start < 0) throw new Error(`redocly gave no report:\n${run.stdout}\n${run.stderr}`);
  const report = JSON.parse(run.stdout.slice(start)) as LintReport;
  for (const problem of report.problems) {
    const where = problem.location[0]?.pointer ?? '';
    console.log(`${problem.severity} ${problem.ruleId} ${where}: ${problem.message}`);
  }
  const { errors, warnings } = report.totals;
  console.log(`openapi lint (redocly recommended): ${errors} errors, ${warnings} warnings`);
  process.exitCode = errors + warnings === 0 ? 0 : 1;
} finally {
  rmSync(folder, { recursive: true, force: true });
}
