import type { Publisher } from '../../app/ports.ts';
import { StorylineError } from '../../domain/errors.ts';

/**
 * A token limited to some stories may publish (append, or keep drafts) only to those; the
 * append route and the draft routes refuse the others alike.
 */
export function requireMayPublishTo(publisher: Publisher, storyId: string): void {
  if (publisher.stories !== null && !publisher.stories.includes(storyId)) {
    throw new StorylineError(
      'forbidden',
      `token "${publisher.name}" may not publish to ${storyId}`,
    );
  }
}
