/** Every live session of this process, fed from the one feed. */
import type { LiveFeed } from './live-feed.ts';
import type { LiveCloseReason, LiveSession } from './live-session.ts';

export class LiveSessions {
  readonly #sessions = new Set<LiveSession>();
  readonly #unlisten: () => void;

  constructor(feed: LiveFeed) {
    this.#unlisten = feed.listen((entries) => {
      for (const session of this.#sessions) session.onFeed(entries);
    });
  }

  get size(): number {
    return this.#sessions.size;
  }

  add(session: LiveSession): () => void {
    this.#sessions.add(session);
    return () => {
      session.detach();
      this.#sessions.delete(session);
    };
  }

  /** Ends every session (each told where to resume) and stops listening to the feed. */
  endAll(reason: LiveCloseReason): void {
    this.#unlisten();
    for (const session of this.#sessions) session.end(reason);
    this.#sessions.clear();
  }
}
