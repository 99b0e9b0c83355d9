/**
 * Result rows: one metric of one scenario, Storyline's median/min/max over the rounds beside the
 * baseline's, the ratio of the medians and whether the target is met. Printed as a table and
 * written to bench/results.json.
 */
import { summarize, type Summary } from './stats.ts';

/**
 * A target on the ratio Storyline ÷ baseline of the medians, or on Storyline's median itself
 * (`value`, for absolute targets such as "p99 ≤ 20 ms" or "0 lost").
 */
export interface Target {
  readonly on: 'ratio' | 'value';
  readonly op: '>=' | '<=';
  readonly limit: number;
  /** Shown instead of the generated text, e.g. "≈ 1 (≤ 1.2)". */
  readonly text?: string;
}

export const ratioAtLeast = (limit: number): Target => ({ on: 'ratio', op: '>=', limit });
export const ratioAtMost = (limit: number, text?: string): Target =>
  text === undefined ? { on: 'ratio', op: '<=', limit } : { on: 'ratio', op: '<=', limit, text };
export const valueAtLeast = (limit: number): Target => ({ on: 'value', op: '>=', limit });
export const valueAtMost = (limit: number, text?: string): Target =>
  text === undefined ? { on: 'value', op: '<=', limit } : { on: 'value', op: '<=', limit, text };

export interface BaselineSummary extends Summary {
  /** What the baseline is, e.g. "raw pg insert, 8 connections". */
  readonly name: string;
}

export interface ResultRow {
  readonly scenario: string;
  readonly metric: string;
  readonly unit: string;
  /** Storyline's median, min and max over `rounds` rounds. */
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly rounds: number;
  readonly baseline: BaselineSummary | null;
  /** Storyline's median ÷ the baseline's median; null without a baseline. */
  readonly ratio: number | null;
  readonly target: string | null;
  /** null when there is no target or nothing was measured. */
  readonly met: boolean | null;
  readonly note?: string;
}

export interface RowInput {
  readonly scenario: string;
  readonly metric: string;
  readonly unit: string;
  readonly storyline: readonly number[];
  readonly baseline?: { readonly name: string; readonly values: readonly number[] };
  readonly target?: Target;
  readonly note?: string;
}

export function targetText(target: Target, unit: string): string {
  if (target.text !== undefined) return target.text;
  const op = target.op === '>=' ? '≥' : '≤';
  return target.on === 'ratio'
    ? `${op} ${target.limit}×`
    : `${op} ${target.limit.toLocaleString('en-US')} ${unit}`;
}

export function makeRow(input: RowInput): ResultRow {
  const storyline = summarize(input.storyline);
  const baseline =
    input.baseline === undefined
      ? null
      : { name: input.baseline.name, ...summarize(input.baseline.values) };
  const ratio =
    baseline === null
      ? null
      : baseline.median === 0 && storyline.median === 0
        ? 1
        : storyline.median / baseline.median;
  let met: boolean | null = null;
  if (input.target !== undefined) {
    const measured = input.target.on === 'ratio' ? ratio : storyline.median;
    if (measured !== null && Number.isFinite(measured)) {
      met =
        input.target.op === '>=' ? measured >= input.target.limit : measured <= input.target.limit;
    }
  }
  return {
    scenario: input.scenario,
    metric: input.metric,
    unit: input.unit,
    ...storyline,
    baseline,
    ratio: ratio === null || Number.isFinite(ratio) ? ratio : null,
    target: input.target === undefined ? null : targetText(input.target, input.unit),
    met,
    ...(input.note === undefined ? {} : { note: input.note }),
  };
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '—';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(Math.abs(value) >= 10 ? 1 : 2);
}

const spread = (summary: Summary): string =>
  summary.rounds > 1 ? ` (${formatNumber(summary.min)}–${formatNumber(summary.max)})` : '';

/** A Markdown table: medians with the min–max over rounds in brackets. */
export function formatTable(rows: readonly ResultRow[]): string {
  const header = [
    'scenario',
    'metric',
    'baseline median',
    'Storyline median',
    'ratio',
    'target',
    'met',
  ];
  const lines = rows.map((row) => [
    row.scenario,
    `${row.metric} [${row.unit}]`,
    row.baseline === null ? '' : `${formatNumber(row.baseline.median)}${spread(row.baseline)}`,
    `${formatNumber(row.median)}${spread(row)}`,
    row.ratio === null ? '' : `${row.ratio.toFixed(2)}×`,
    row.target ?? '',
    row.met === null ? '' : row.met ? 'yes' : 'NO',
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

/** The baselines of the rows, named once below the table. */
export function formatBaselines(rows: readonly ResultRow[]): string {
  const seen = new Set<string>();
  for (const row of rows) {
    if (row.baseline !== null) seen.add(`- ${row.scenario}: ${row.baseline.name}`);
  }
  return [...seen].join('\n');
}
