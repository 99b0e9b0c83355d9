/**
 * The client's side of `/v1/live` (README.md): the frames it reads, the small slice of a
 * WebSocket it needs, and the endpoint's URL. The SDK must bundle for browsers, so it declares
 * these shapes itself rather than importing the server's modules (which pull in zod and node:).
 */
import type { RecordedEvent } from '../domain/event-types.ts';
import type { StoryProjection } from '../domain/story-view.ts';

/** What the server and the SDK report as going wrong: a stable code and a message for people. */
export interface LiveError {
  readonly code: string;
  readonly message: string;
  readonly [detail: string]: unknown;
}

/** The frames the SDK acts on; others (replay, unsubscribed, newer ones) are ignored. */
export type LiveFrame =
  | {
      readonly type: 'subscribed';
      readonly epoch: string;
      readonly position: number;
      readonly recovered: boolean;
    }
  | {
      readonly type: 'snapshot';
      readonly storyId: string;
      readonly position: number;
      readonly state: StoryProjection | null;
    }
  | { readonly type: 'event'; readonly event: RecordedEvent }
  | { readonly type: 'pong'; readonly position: number }
  | ({ readonly type: 'error' } & LiveError);

/** Method syntax keeps the parameters bivariant, so both ws's and the DOM's event types fit. */
interface WebSocketHandlers {
  onopen(event: unknown): void;
  onmessage(event: { readonly data: unknown }): void;
  onclose(event: { readonly code: number; readonly reason: string }): void;
  onerror(event: unknown): void;
}

/** The part of a WebSocket (the browser's, Node 22's, or the `ws` package's) the SDK uses. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** `ws` only: drop the connection without a closing handshake. */
  terminate?(): void;
  onopen: WebSocketHandlers['onopen'] | null;
  onmessage: WebSocketHandlers['onmessage'] | null;
  onclose: WebSocketHandlers['onclose'] | null;
  onerror: WebSocketHandlers['onerror'] | null;
}

export type WebSocketConstructorLike = new (url: string) => WebSocketLike;

/** `WebSocket.OPEN`, the same in every implementation. */
export const socketOpen = 1;

/**
 * The `/v1/live` URL for a server base (`http(s)://host:port`, possibly with a path prefix) or
 * a `ws(s)://` URL, given as either the endpoint itself or the server's root.
 */
export function liveEndpoint(url: string): URL {
  const endpoint = new URL(url);
  endpoint.hash = '';
  switch (endpoint.protocol) {
    case 'http:':
    case 'https:':
      endpoint.protocol = endpoint.protocol === 'https:' ? 'wss:' : 'ws:';
      endpoint.pathname = `${endpoint.pathname.replace(/\/+$/, '')}/v1/live`;
      return endpoint;
    case 'ws:':
    case 'wss:':
      if (endpoint.pathname === '/') endpoint.pathname = '/v1/live';
      return endpoint;
    default:
      throw new TypeError(`expected an http(s):// or ws(s):// URL, not ${url}`);
  }
}

/** Parses one text frame; null if it is not a JSON object with a `type`. */
export function decodeFrame(data: unknown): LiveFrame | null {
  if (typeof data !== 'string') return null;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || !('type' in value)) return null;
  // The server is the authority on its frames' shapes; the SDK only checks the envelope.
  return typeof value.type === 'string' ? (value as LiveFrame) : null;
}
