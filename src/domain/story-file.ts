/**
 * Story files (events/*.jsonl): one event per line in the append API's shape, plus the story it
 * belongs to and a fixed id so importing the same file twice appends nothing the second time,
 * and optionally when the log first recorded it (`recordedAt`, which `export` writes), so that
 * an export imported into an empty log reproduces it, times included.
 */
import { z } from 'zod';
import {
  eventIdSchema,
  isoInstant,
  newEventSchema,
  storyIdSchema,
  type NewEvent,
} from './event-types.ts';

export interface StoryFileLine {
  readonly storyId: string;
  readonly event: NewEvent & { readonly id: string };
  /** When the log first recorded the event (UTC, as exported); absent: record it now. */
  readonly recordedAt?: string;
}

export interface StoryFileProblem {
  readonly line: number;
  readonly message: string;
}

const lineHead = z.looseObject({
  storyId: storyIdSchema,
  id: eventIdSchema,
  recordedAt: isoInstant.optional(),
});

/** Parses a whole file; every bad line is reported, not just the first. */
export function parseStoryFile(text: string): {
  lines: StoryFileLine[];
  problems: StoryFileProblem[];
} {
  const lines: StoryFileLine[] = [];
  const problems: StoryFileProblem[] = [];
  let latest: { line: number; recordedAt: string } | null = null;
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (error) {
      problems.push({ line, message: `not JSON: ${(error as Error).message}` });
      return;
    }
    const head = lineHead.safeParse(json);
    if (!head.success) {
      problems.push({ line, message: z.prettifyError(head.error) });
      return;
    }
    const { storyId, recordedAt: given, ...rest } = head.data;
    const event = newEventSchema.safeParse(rest);
    if (!event.success) {
      problems.push({ line, message: z.prettifyError(event.error) });
      return;
    }
    const parsed = { storyId, event: { ...event.data, id: head.data.id } };
    if (given === undefined) {
      lines.push(parsed);
      return;
    }
    // As the log keeps it: UTC, milliseconds.
    const recordedAt = new Date(Date.parse(given)).toISOString();
    if (latest !== null && recordedAt < latest.recordedAt) {
      problems.push({
        line,
        message: `recordedAt ${recordedAt} is before line ${latest.line} (${latest.recordedAt}): recorded times must grow from line to line`,
      });
      return;
    }
    latest = { line, recordedAt };
    lines.push({ ...parsed, recordedAt });
  });
  return { lines, problems };
}

/** The line for an event, so that export and import are inverses. */
export function formatStoryFileLine(storyId: string, event: NewEvent, recordedAt?: string): string {
  return JSON.stringify({ storyId, ...event, ...(recordedAt === undefined ? {} : { recordedAt }) });
}
