/**
 * The newsroom's rules: whether an event may be appended to a story as it stands. Only new
 * appends are checked; events already in the log are facts and are folded as they are.
 */
import { StorylineError } from './errors.ts';
import type { StoryEventBody } from './event-types.ts';
import type { StoryView, TimelineEntry } from './story-view.ts';

/**
 * @param story the story before the event, `null` when it has not been opened
 * @param entry the development the event names (see `developmentIdOf`), `null` if unknown
 * @returns the broken rule, or `null` when the event may be appended
 */
export function checkRules(
  storyId: string,
  story: StoryView | null,
  entry: TimelineEntry | null,
  event: StoryEventBody,
): StorylineError | null {
  if (event.type === 'story.opened') {
    return story === null
      ? null
      : new StorylineError('story_already_opened', `story ${storyId} is already open`);
  }
  if (story === null) {
    return new StorylineError(
      'story_not_opened',
      `story ${storyId} has not been opened: its first event must be story.opened`,
    );
  }
  if (story.status === 'closed') {
    const reopens = event.type === 'story.status_changed' && event.data.status !== 'closed';
    if (!reopens) {
      return new StorylineError(
        'story_closed',
        `story ${storyId} is closed: reopen it with story.status_changed first`,
      );
    }
  }

  switch (event.type) {
    case 'story.status_changed':
      return event.data.status === story.status
        ? new StorylineError('status_unchanged', `story ${storyId} is already ${story.status}`)
        : null;
    case 'summary.revised':
      return null;
    case 'development.reported':
      return entry === null
        ? null
        : new StorylineError(
            'development_already_reported',
            `development ${event.data.developmentId} was already reported; correct it instead`,
            { developmentId: event.data.developmentId },
          );
    case 'development.corrected':
    case 'development.retracted':
    case 'development.pinned':
    case 'development.unpinned':
    case 'claim.disputed': {
      const { developmentId } = event.data;
      if (entry === null) {
        return new StorylineError(
          'development_not_found',
          `story ${storyId} has no development ${developmentId}`,
          { developmentId },
        );
      }
      if (entry.retracted !== null && event.type !== 'development.unpinned') {
        return new StorylineError(
          'development_retracted',
          `development ${developmentId} was retracted and cannot be ${verbOf(event.type)}`,
          { developmentId },
        );
      }
      if (event.type === 'development.unpinned' && story.pinned?.developmentId !== developmentId) {
        return new StorylineError(
          'development_not_pinned',
          `development ${developmentId} is not the pinned one`,
          { developmentId },
        );
      }
      return null;
    }
  }
}

function verbOf(type: StoryEventBody['type']): string {
  switch (type) {
    case 'development.corrected':
      return 'corrected';
    case 'development.retracted':
      return 'retracted again';
    case 'development.pinned':
      return 'pinned';
    case 'claim.disputed':
      return 'disputed';
    default:
      return 'changed';
  }
}
