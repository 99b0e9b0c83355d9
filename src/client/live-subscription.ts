/**
 * A subscription to stories on `/v1/live` that survives dropped connections: it reconnects with
 * backoff, resumes from its cursor, and keeps each story's state current with the domain's fold.
 */
import type { RecordedEvent } from '../domain/event-types.ts';
import type { StoryProjection } from '../domain/story-view.ts';
import {
  decodeFrame,
  liveEndpoint,
  socketOpen,
  type LiveError,
  type LiveFrame,
  type WebSocketConstructorLike,
  type WebSocketLike,
} from './live-protocol.ts';
import { StoryState } from './story-state.ts';

export type LiveStatus = 'connecting' | 'live' | 'recovering' | 'offline';

export interface StatusDetail {
  /** Connections tried since the last successful subscribe (0: the first try). */
  readonly attempt: number;
  /** With `live`: whether the server resumed from the cursor (true) or sent snapshots. */
  readonly recovered?: boolean;
  readonly position: number;
}

export interface SubscribeOptions {
  /** Story ids (no `*`: the SDK keeps a state per story it names). */
  readonly stories: readonly string[];
  /**
   * Resume after this position (with `epoch`) instead of starting from snapshots. The SDK then
   * knows no story's state until a snapshot or the story's `story.opened` arrives (`after: 0`
   * folds every story from its start), but passes every later event to `onEvent`.
   */
  readonly after?: number;
  /** The log's epoch that `after` belongs to (from a `subscribed` frame). */
  readonly epoch?: string;
  /**
   * A WebSocket implementation; defaults to `globalThis.WebSocket` (browsers, Node 22+). In
   * Node 20 pass `ws`'s WebSocket.
   */
  readonly WebSocket?: WebSocketConstructorLike;
  /** A story's state was replaced by the server's (`null`: not opened yet). */
  readonly onSnapshot?: (storyId: string, state: StoryProjection | null, position: number) => void;
  /** Each event once, in position order; `state` is its story's state after it. */
  readonly onEvent?: (event: RecordedEvent, state: StoryProjection | null) => void;
  /** On each change of status, and on each reconnection attempt. */
  readonly onStatus?: (status: LiveStatus, detail: StatusDetail) => void;
  /** An `error` frame from the server, or a frame or event the SDK could not use. */
  readonly onError?: (error: LiveError) => void;
  /** Reconnection delays: full jitter, random(0, min(maxMs, minMs * 2^(attempt - 1))). */
  readonly backoff?: { readonly minMs?: number; readonly maxMs?: number };
  /** A ping every `intervalMs`; no frame at all for `timeoutMs` drops the connection. */
  readonly heartbeat?: { readonly intervalMs?: number; readonly timeoutMs?: number };
}

export interface Subscription {
  /** The last position applied (by an event or a snapshot) to the subscribed stories. */
  readonly position: number;
  /** The story's current view and timeline (in `compareTimeline` order); null if unknown. */
  state(storyId: string): StoryProjection | null;
  /** Stops reconnecting and closes the connection; reports `offline`. */
  close(): void;
}

export function subscribe(url: string, options: SubscribeOptions): Subscription {
  return new LiveSubscription(url, options);
}

type Timer = ReturnType<typeof setTimeout>;

/** The browser's connectivity signals, where there are any (absent in Node). */
const browser = globalThis as {
  navigator?: { onLine?: boolean };
  addEventListener?: (type: 'online', listener: () => void) => void;
  removeEventListener?: (type: 'online', listener: () => void) => void;
};

/*
 * The cursor. `#resumeAfter` is a position such that every event of the subscribed stories up
 * to it is folded into the local state; reconnecting sends it as `after`, with the epoch of the
 * log it belongs to. The epoch matters because positions are only comparable within one log: a
 * server on another database (or a restored one) answers a foreign epoch with recovered:false
 * and fresh snapshots, where resuming from a number alone would silently skip or repeat events.
 *
 * After snapshots the cursor is the lowest snapshot position, not the highest: a quiet story's
 * snapshot can be older than a busy one's, and events of the quiet story between the two may
 * still be on their way. Resuming from the lowest position is safe but sends the busier
 * stories some events their snapshot already holds. That, and a caller's own `after`, is why
 * events are de-duplicated per story by position: an event at or before the position a story
 * last applied is already in its state. Events arrive in position order across all stories (the
 * server's catch-up reads the log in order, then goes live), so an event at position p also
 * moves the cursor to p, as does a `pong` (the server's own cursor, sent after those events).
 */
class LiveSubscription implements Subscription {
  readonly #endpoint: URL;
  readonly #storyIds: readonly string[];
  readonly #options: SubscribeOptions;
  readonly #WebSocket: WebSocketConstructorLike;
  readonly #minMs: number;
  readonly #maxMs: number;
  readonly #pingEveryMs: number;
  readonly #silenceMs: number;
  readonly #stories = new Map<string, StoryState>();
  #epoch: string | undefined;
  /** null: no cursor to resume from; the next connection asks for snapshots. */
  #resumeAfter: number | null;
  /** After `recovered: false`, the stories whose snapshot has not arrived yet. */
  #awaitingSnapshots = new Set<string>();
  #position: number;
  #socket: WebSocketLike | null = null;
  #attempt = 0;
  /** The attempts it took before the last `subscribed`, resumed if the server then gives up. */
  #attemptsBeforeSubscribed = 0;
  #everLive = false;
  #closed = false;
  #lastFrameAt = 0;
  #heartbeat: Timer | null = null;
  #reconnect: Timer | null = null;
  readonly #onOnline = () => {
    // The browser is back online: no point waiting out the backoff.
    if (this.#reconnect === null) return;
    clearTimeout(this.#reconnect);
    this.#reconnect = null;
    this.#connect();
  };

  constructor(url: string, options: SubscribeOptions) {
    this.#endpoint = liveEndpoint(url);
    this.#storyIds = [...new Set(options.stories)];
    if (this.#storyIds.length === 0 || this.#storyIds.includes('*')) {
      throw new TypeError('stories: name at least one story id (`*` is not supported)');
    }
    const implementation =
      options.WebSocket ??
      (globalThis as { WebSocket?: WebSocketConstructorLike | undefined }).WebSocket;
    if (implementation === undefined) {
      throw new TypeError('no global WebSocket here: pass one as options.WebSocket (e.g. ws)');
    }
    this.#WebSocket = implementation;
    this.#options = options;
    this.#minMs = options.backoff?.minMs ?? 500;
    this.#maxMs = options.backoff?.maxMs ?? 20_000;
    if (!(this.#minMs > 0 && this.#maxMs >= this.#minMs)) {
      throw new RangeError('backoff: expected 0 < minMs <= maxMs');
    }
    this.#pingEveryMs = options.heartbeat?.intervalMs ?? 25_000;
    this.#silenceMs = options.heartbeat?.timeoutMs ?? 60_000;
    if (!(this.#pingEveryMs > 0 && this.#silenceMs > 0)) {
      throw new RangeError('heartbeat: expected intervalMs > 0 and timeoutMs > 0');
    }

    const after = options.after;
    this.#resumeAfter = after ?? null;
    this.#epoch = after === undefined ? undefined : options.epoch;
    this.#position = after ?? 0;
    if (after !== undefined) {
      for (const storyId of this.#storyIds)
        this.#stories.set(storyId, StoryState.unknownAfter(after));
    }
    browser.addEventListener?.('online', this.#onOnline);
    // Reported once subscribe() has returned, so a callback may already use the subscription.
    queueMicrotask(() => {
      if (!this.#closed && !this.#everLive) this.#report('connecting');
    });
    this.#connect();
  }

  get position(): number {
    return this.#position;
  }

  state(storyId: string): StoryProjection | null {
    return this.#stories.get(storyId)?.projection() ?? null;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    browser.removeEventListener?.('online', this.#onOnline);
    if (this.#reconnect !== null) clearTimeout(this.#reconnect);
    this.#reconnect = null;
    this.#disconnect(1000, 'closed by the client');
    this.#report('offline');
  }

  #connect(): void {
    if (this.#closed) return;
    const url = new URL(this.#endpoint);
    url.searchParams.set('stories', this.#storyIds.join(','));
    url.searchParams.delete('after');
    url.searchParams.delete('epoch');
    if (this.#resumeAfter !== null) {
      url.searchParams.set('after', String(this.#resumeAfter));
      if (this.#epoch !== undefined) url.searchParams.set('epoch', this.#epoch);
    }
    let socket: WebSocketLike;
    try {
      socket = new this.#WebSocket(url.toString());
    } catch (error) {
      this.#reportError('connect_failed', error);
      this.#retry();
      return;
    }
    this.#socket = socket;
    // Every handler checks it still belongs to the current socket: a dropped one may still fire.
    socket.onmessage = (event) => {
      if (socket === this.#socket) this.#onFrame(event.data);
    };
    socket.onclose = (event) => {
      if (socket !== this.#socket) return;
      // The server accepted the subscription but could not carry it out (its database is away):
      // keep backing off as if it had never been accepted, rather than hammering it.
      if (event.code === closeInternalError || event.code === closeTryAgainLater) {
        this.#attempt = Math.max(this.#attempt, this.#attemptsBeforeSubscribed);
      }
      this.#disconnect();
      this.#retry();
    };
    // A close event follows every error; the reconnect happens there.
    socket.onerror = () => undefined;

    this.#lastFrameAt = Date.now();
    this.#heartbeat = unref(
      setInterval(
        () => {
          if (Date.now() - this.#lastFrameAt > this.#silenceMs) {
            // Nothing at all (not even a pong) for too long: the connection is dead or stuck.
            this.#disconnect();
            this.#retry();
          } else if (socket.readyState === socketOpen) {
            socket.send('{"type":"ping"}');
          }
        },
        Math.min(this.#pingEveryMs, this.#silenceMs),
      ),
    );
  }

  /** Forgets the current socket (its late events are ignored) and closes it. */
  #disconnect(code?: number, reason?: string): void {
    if (this.#heartbeat !== null) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
    const socket = this.#socket;
    this.#socket = null;
    if (socket === null) return;
    socket.onmessage = null;
    socket.onclose = null;
    socket.onerror = () => undefined;
    if (code === undefined && socket.terminate !== undefined) socket.terminate();
    else socket.close(code, reason);
  }

  #retry(): void {
    if (this.#closed || this.#reconnect !== null) return;
    this.#attempt += 1;
    const ceiling = Math.min(this.#maxMs, this.#minMs * 2 ** (this.#attempt - 1));
    // The reconnect timer is left referenced: in Node, waiting to reconnect is this
    // subscription's work, and it must not let the process exit. close() clears it.
    this.#reconnect = setTimeout(() => {
      this.#reconnect = null;
      this.#connect();
    }, Math.random() * ceiling);
    let status: LiveStatus = this.#everLive ? 'recovering' : 'connecting';
    if (browser.navigator?.onLine === false) status = 'offline';
    this.#report(status);
  }

  #onFrame(data: unknown): void {
    this.#lastFrameAt = Date.now();
    const frame = decodeFrame(data);
    if (frame === null) {
      this.#options.onError?.({ code: 'invalid_frame', message: 'a frame that is not JSON' });
      return;
    }
    this.#handle(frame);
  }

  #handle(frame: LiveFrame): void {
    switch (frame.type) {
      case 'subscribed':
        this.#epoch = frame.epoch;
        if (!frame.recovered) {
          // Snapshots follow and replace every story's state; until they all have arrived
          // there is no cursor that covers every story.
          this.#resumeAfter = null;
          this.#awaitingSnapshots = new Set(this.#storyIds);
          this.#position = 0;
        }
        this.#attemptsBeforeSubscribed = this.#attempt;
        this.#attempt = 0;
        this.#everLive = true;
        this.#report('live', frame.recovered);
        return;
      case 'snapshot': {
        if (!this.#storyIds.includes(frame.storyId)) return;
        this.#stories.set(frame.storyId, StoryState.fromSnapshot(frame.state, frame.position));
        this.#position = Math.max(this.#position, frame.position);
        this.#awaitingSnapshots.delete(frame.storyId);
        if (this.#awaitingSnapshots.size === 0 && this.#resumeAfter === null) {
          this.#resumeAfter = Math.min(...[...this.#stories.values()].map((s) => s.applied));
        }
        this.#options.onSnapshot?.(frame.storyId, frame.state, frame.position);
        return;
      }
      case 'event':
        this.#apply(frame.event);
        return;
      case 'pong':
        if (this.#resumeAfter !== null) {
          this.#resumeAfter = Math.max(this.#resumeAfter, frame.position);
        }
        return;
      case 'error':
        this.#options.onError?.(frame);
        return;
      default:
        return;
    }
  }

  #apply(event: RecordedEvent): void {
    const story = this.#stories.get(event.storyId);
    if (story === undefined) return;
    let applied: boolean;
    try {
      applied = story.apply(event);
    } catch (error) {
      // The event does not follow from the state held: start over from fresh snapshots.
      this.#reportError('state_diverged', error);
      this.#resumeAfter = null;
      this.#epoch = undefined;
      this.#disconnect();
      this.#retry();
      return;
    }
    if (this.#resumeAfter !== null) {
      this.#resumeAfter = Math.max(this.#resumeAfter, event.position);
    }
    if (!applied) return;
    this.#position = Math.max(this.#position, event.position);
    this.#options.onEvent?.(event, story.projection());
  }

  #report(status: LiveStatus, recovered?: boolean): void {
    this.#options.onStatus?.(status, {
      attempt: this.#attempt,
      ...(recovered === undefined ? {} : { recovered }),
      position: this.#position,
    });
  }

  #reportError(code: string, error: unknown): void {
    this.#options.onError?.({
      code,
      message: error instanceof Error ? error.message : String(error),
    });
  }
}

/** Close codes of a server that failed to carry out the subscription (1011, 1013). */
const closeInternalError = 1011;
const closeTryAgainLater = 1013;

/** Timers must not keep a Node process alive on their own (no-op in browsers). */
function unref(timer: Timer): Timer {
  (timer as { unref?: () => unknown }).unref?.();
  return timer;
}
