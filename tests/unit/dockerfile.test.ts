/**
 * The Dockerfile, read as Docker reads it (dockerfile-ast) and checked by dockerfile-utils (the
 * checks of VS Code's Docker support): no problem reported, and the image it describes is the
 * production one: built in a stage of its own, run with production dependencies only, as a user
 * that is not root, with a health check.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';

const text = readFileSync(path.resolve(import.meta.dirname, '../../Dockerfile'), 'utf8');
const instructions = DockerfileParser.parse(text).getInstructions();

/** Instructions grouped by stage: each FROM starts one. */
const stages: Instruction[][] = [];
for (const instruction of instructions) {
  if (instruction.getKeyword() === 'FROM') stages.push([]);
  stages.at(-1)?.push(instruction);
}
const runtime = stages.at(-1) ?? [];
/** The instructions of a kind in a stage, as written after the keyword (flags included). */
const lines = (stage: Instruction[], keyword: string) =>
  stage
    .filter((i) => i.getKeyword() === keyword)
    .map((i) =>
      i
        .getTextContent()
        .slice(keyword.length)
        .replace(/\\\n\s*/g, '')
        .trim(),
    );

describe('the Dockerfile', () => {
  it('has no problem dockerfile-utils reports, not even a warning', () => {
    expect(validate(text).map((problem) => problem.message)).toEqual([]);
  });

  it('builds in one stage, with the development dependencies, and runs in another', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages[0] ?? [];
    expect(lines(build, 'RUN')).toContain('npm ci --no-audit --no-fund');
    expect(lines(build, 'RUN')).toContain('npm run build');
  });

  it('runs with production dependencies only and the built code, not the sources', () => {
    expect(lines(runtime, 'RUN').join('\n')).toMatch(/npm ci --omit=dev/);
    const copies = lines(runtime, 'COPY');
    expect(copies).toContainEqual(expect.stringMatching(/^--from=build \S+\/dist \.\/dist$/));
    expect(copies.filter((copy) => /\bsrc\b|scripts|tsconfig/.test(copy))).toEqual([]);
  });

  it('runs as a user that is not root, with a health check', () => {
    const users = lines(runtime, 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    expect(lines(runtime, 'HEALTHCHECK').join('\n')).toMatch(/\/readyz/);
  });
});
