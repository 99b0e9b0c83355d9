import { subscribe } from 'storyline/client';

/**
 * Follows one story live: calls `onUpdate` with each new event and the story as it then stands
 * (its view and timeline). Browsers and Node 22+ have a global WebSocket; on Node 20, pass the
 * `ws` package's. Returns the subscription: `close()` it when done.
 */
export function followStory(serverUrl, storyId, onUpdate, WebSocket = globalThis.WebSocket) {
  return subscribe(serverUrl, {
    stories: [storyId],
    WebSocket,
    onEvent: (event, story) => onUpdate(event, story),
  });
}
