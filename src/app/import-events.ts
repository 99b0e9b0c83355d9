/**
 * Importing story files. Each event goes as its own append request, all queued at once: the
 * appender keeps them in order and groups them into shared transactions, and because every line
 * has a fixed id, a line already in the log is an idempotent no-op. Importing the same file
 * twice, or a file that has grown since, appends exactly the new lines.
 *
 * A line's `recordedAt` is kept (see `AppendRequest.recordedAt`): an event whose time is before
 * the latest in the log is refused, so an export imports whole into an empty log and not at all
 * into one whose events are newer.
 */
import type { StoryFileLine } from '../domain/story-file.ts';
import { isStorylineError } from '../domain/errors.ts';
import type { Appender } from './appender.ts';

export interface ImportReport {
  readonly appended: number;
  readonly alreadyPresent: number;
  readonly failed: readonly {
    readonly index: number;
    readonly code: string;
    readonly message: string;
  }[];
}

/** Queued at once at most, to stay under the appender's bound. */
const window = 1000;

export async function importEvents(
  appender: Appender,
  lines: readonly StoryFileLine[],
): Promise<ImportReport> {
  let appended = 0;
  let alreadyPresent = 0;
  const failed: { index: number; code: string; message: string }[] = [];
  for (let start = 0; start < lines.length; start += window) {
    const outcomes = await Promise.allSettled(
      lines.slice(start, start + window).map(({ storyId, event, recordedAt }) => {
        const author = event.metadata?.['author'];
        return appender.append({
          storyId,
          events: [event],
          author: typeof author === 'string' ? author : 'import',
          ...(recordedAt === undefined ? {} : { recordedAt }),
        });
      }),
    );
    outcomes.forEach((outcome, offset) => {
      if (outcome.status === 'fulfilled') {
        if (outcome.value.appended) appended += 1;
        else alreadyPresent += 1;
        return;
      }
      const error: unknown = outcome.reason;
      if (!isStorylineError(error)) throw error;
      failed.push({ index: start + offset, code: error.code, message: error.message });
    });
  }
  return { appended, alreadyPresent, failed };
}
