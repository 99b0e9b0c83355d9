/**
 * Storyline's client SDK (`storyline/client`): follow stories live over `/v1/live`, in browsers
 * and in Node. It imports only the pure domain core (the fold and the view types), never zod,
 * the server or `node:` modules, so it bundles as is.
 */
export {
  subscribe,
  type LiveStatus,
  type StatusDetail,
  type SubscribeOptions,
  type Subscription,
} from './live-subscription.ts';
export type { LiveError, WebSocketConstructorLike, WebSocketLike } from './live-protocol.ts';
export type { RecordedEvent } from '../domain/event-types.ts';
export type { StoryProjection, StoryView, TimelineEntry } from '../domain/story-view.ts';
