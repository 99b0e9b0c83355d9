import { useEffect, useState } from 'react';
import { subscribe, type LiveStatus, type StoryProjection } from 'storyline/client';

export interface LiveStory {
  /** The story's view and timeline, current to the last event; null until the first snapshot. */
  readonly story: StoryProjection | null;
  readonly status: LiveStatus;
}

/**
 * A story, kept current live over one WebSocket that reconnects and resumes by itself. By
 * default from the page's own server; pass `serverUrl` for another one.
 */
export function useStory(storyId: string, serverUrl: string = pageOrigin()): LiveStory {
  const [story, setStory] = useState<StoryProjection | null>(null);
  const [status, setStatus] = useState<LiveStatus>('connecting');
  useEffect(() => {
    setStory(null);
    const subscription = subscribe(serverUrl, {
      stories: [storyId],
      onSnapshot: (_storyId, state) => setStory(state),
      onEvent: (_event, state) => setStory(state),
      onStatus: (next) => setStatus(next),
    });
    return () => subscription.close();
  }, [storyId, serverUrl]);
  return { story, status };
}

function pageOrigin(): string {
  const { location } = globalThis as { location?: { origin: string } };
  if (location === undefined) throw new TypeError('useStory: pass serverUrl outside a browser');
  return location.origin;
}
