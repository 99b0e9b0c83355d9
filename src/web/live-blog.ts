/**
 * The live blog's browser script (bundled by the server with esbuild, served as
 * /assets/live-blog.js). The page works without it; with it, the page follows the story live
 * through the client SDK, announces what changed, and offers the replay.
 *
 * Nothing is missed or doubled between the HTML and the socket: the SDK starts from a snapshot
 * at or after the position the page was rendered from (`data-position`) and folds every later
 * event with the domain's own fold, resuming from its cursor after any disconnect; the page
 * draws each state it is given keyed by development id, so a development already on the page is
 * redrawn only if it changed and never shown twice.
 */
import { subscribe, type LiveStatus } from '../client/index.ts';
import type { RecordedEvent } from '../domain/event-types.ts';
import type { StoryProjection, TimelineEntry } from '../domain/story-view.ts';
import { LiveBlogPage, type ConnectionState } from './live-blog-page.ts';
import { ids } from './story-markup.ts';
import { StoryReplay } from './story-replay.ts';

const connectionStates: Readonly<Record<LiveStatus, ConnectionState>> = {
  connecting: 'connecting',
  live: 'live',
  recovering: 'reconnecting',
  offline: 'offline',
};

function start(root: HTMLElement): void {
  const page = new LiveBlogPage(root);
  const storyId = page.storyId;

  const showLive = (state: StoryProjection, event: RecordedEvent | null) => {
    const waitingBefore = page.pendingCount;
    const shown = page.draw(state, { mode: 'live', hold: !page.readerAtTop() });
    const waiting = page.pendingCount > waitingBefore ? page.pendingCount : 0;
    const message = announcement(state, event, shown, waiting);
    if (message !== null) page.announce(message);
  };

  const replay = new StoryReplay(page, {
    storyId,
    timeZone: root.dataset['timeZone'] ?? 'UTC',
    liveState: () => subscription.state(storyId),
  });
  const subscription = subscribe(window.location.origin, {
    stories: [storyId],
    onSnapshot: (_storyId, state) => {
      if (state !== null && !replay.replaying) showLive(state, null);
    },
    onEvent: (event, state) => {
      replay.noteEvent(event);
      // Events up to the rendered position are on the page already.
      if (state === null || replay.replaying || event.position <= page.renderedPosition) return;
      showLive(state, event);
    },
    onStatus: (status) => page.setConnection(connectionStates[status]),
  });
}

/**
 * What a screen reader hears about an update (`waiting`: how many now wait behind the button, if
 * that grew); null when there is nothing worth saying.
 */
function announcement(
  state: StoryProjection,
  event: RecordedEvent | null,
  shown: readonly TimelineEntry[],
  waiting: number,
): string | null {
  const first = shown[0];
  if (first !== undefined) {
    return shown.length === 1 ? `New update: ${first.headline}` : `${shown.length} new updates`;
  }
  if (waiting > 0) {
    return waiting === 1
      ? '1 new update: use the "new updates" button to show it'
      : `${waiting} new updates: use the "new updates" button to show them`;
  }
  if (event === null) return null;
  const headline = (developmentId: string) =>
    state.timeline.find((entry) => entry.developmentId === developmentId)?.headline ??
    developmentId;
  switch (event.type) {
    case 'development.corrected':
      return `Corrected: ${headline(event.data.developmentId)}`;
    case 'development.retracted':
      return `Retracted: ${headline(event.data.developmentId)}`;
    case 'claim.disputed':
      return `Disputed by ${event.data.by}: ${headline(event.data.developmentId)}`;
    case 'development.pinned':
      return `Pinned: ${headline(event.data.developmentId)}`;
    case 'summary.revised':
      return 'The key points were revised';
    case 'story.status_changed':
      return `The story is now ${event.data.status}`;
    case 'story.opened':
    case 'development.reported':
    case 'development.unpinned':
      return null;
  }
}

const root = document.getElementById(ids.main);
if (root !== null) start(root);
