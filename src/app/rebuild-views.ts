/**
 * Rebuilds every view from the log with the same fold the live path uses. It holds the append
 * lock throughout, so no append lands between clearing the views and writing them back, and
 * readers see either the old views or the rebuilt ones (one transaction).
 */
import { foldStory } from '../domain/story-fold.ts';
import type { EventLog } from './ports.ts';

export async function rebuildViews(log: EventLog): Promise<{ stories: number; events: number }> {
  return log.withAppendLock(async (tx) => {
    await tx.clearViews();
    let events = 0;
    const storyIds = await tx.storyIds();
    for (const storyId of storyIds) {
      const storyEvents = await tx.storyEvents(storyId);
      events += storyEvents.length;
      const projection = foldStory(storyEvents);
      if (projection === null) continue;
      await tx.write({
        events: [],
        stories: [projection.story],
        entries: projection.timeline.map((entry) => ({ storyId, entry })),
      });
    }
    return { stories: storyIds.length, events };
  });
}
