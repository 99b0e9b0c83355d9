/** Reads story files (events/*.jsonl) from a file or a folder, in name order. */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseStoryFile, type StoryFileLine } from '../../domain/story-file.ts';

export interface StoryFileSet {
  readonly files: readonly string[];
  readonly lines: readonly StoryFileLine[];
  /** Problems as `file:line: message`. */
  readonly problems: readonly string[];
}

export async function readStoryFiles(target: string): Promise<StoryFileSet> {
  const info = await stat(target);
  const files = info.isDirectory()
    ? (await readdir(target))
        .filter((name) => name.endsWith('.jsonl'))
        .sort()
        .map((name) => path.join(target, name))
    : [target];
  const lines: StoryFileLine[] = [];
  const problems: string[] = [];
  for (const file of files) {
    const parsed = parseStoryFile(await readFile(file, 'utf8'));
    lines.push(...parsed.lines);
    problems.push(
      ...parsed.problems.map((problem) => `${file}:${problem.line}: ${problem.message}`),
    );
  }
  return { files, lines, problems };
}
