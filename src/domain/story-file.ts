/**
 * Story files (events/*.jsonl): one event per line in the append API's shape, plus the story it
 * belongs to and a fixed id so importing the same file twice appends nothing the second time.
 */
import { z } from 'zod';
import { eventIdSchema, newEventSchema, storyIdSchema, type NewEvent } from './event-types.ts';

export interface StoryFileLine {
  readonly storyId: string;
  readonly event: NewEvent & { readonly id: string };
}

export interface StoryFileProblem {
  readonly line: number;
  readonly message: string;
}

const lineHead = z.looseObject({ storyId: storyIdSchema, id: eventIdSchema });

/** Parses a whole file; every bad line is reported, not just the first. */
export function parseStoryFile(text: string): {
  lines: StoryFileLine[];
  problems: StoryFileProblem[];
} {
  const lines: StoryFileLine[] = [];
  const problems: StoryFileProblem[] = [];
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
    const { storyId, ...rest } = head.data;
    const event = newEventSchema.safeParse(rest);
    if (!event.success) {
      problems.push({ line, message: z.prettifyError(event.error) });
      return;
    }
    lines.push({ storyId, event: { ...event.data, id: head.data.id } });
  });
  return { lines, problems };
}

/** The line for an event, so that export and import are inverses. */
export function formatStoryFileLine(storyId: string, event: NewEvent): string {
  return JSON.stringify({ storyId, ...event });
}
