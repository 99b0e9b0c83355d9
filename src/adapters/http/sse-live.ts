/**
 * Server-Sent Events for clients that cannot use WebSockets: `GET /v1/stories/{id}/live`.
 * The same LiveSession (and so the same ordering and resume guarantees) as `/v1/live`; each
 * event's `id:` is its position, so a browser's EventSource resumes with `Last-Event-ID` by
 * itself. The stream is written to Node's response directly, to see how much is unsent.
 *
 * Streams count against their own cap (`SseStreams`), like WebSocket connections: past it a
 * request is answered 503 with `Retry-After`. A stream the session ends (too slow, shutting
 * down, the log replaced) gets an `event: close` and is cut off if the client does not take it.
 */
import type { ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { LiveFeed } from '../../app/live-feed.ts';
import {
  LiveSession,
  type LiveMessage,
  type LiveSessionOptions,
  type LiveTransport,
} from '../../app/live-session.ts';
import type { LiveSessions } from '../../app/live-sessions.ts';
import type { StorySnapshot } from '../../app/live-snapshots.ts';
import type { LogReader } from '../../app/ports.ts';
import { StorylineError } from '../../domain/errors.ts';
import type { RecordedEvent } from '../../domain/event-types.ts';
import { errorBody } from './error-responses.ts';

export interface SseDependencies {
  readonly feed: LiveFeed;
  readonly reader: LogReader;
  readonly sessions: LiveSessions;
  readonly options?: LiveSessionOptions & { readonly keepAliveMs?: number };
  /** The cap on open streams; none without it. */
  readonly streams?: SseStreams;
}

/** This server's open event streams, against their cap. */
export class SseStreams {
  readonly max: number;
  #open = 0;

  constructor(max: number) {
    this.max = max;
  }

  get open(): number {
    return this.#open;
  }

  /** Counts a new stream in; false when there is no room for it. */
  tryOpen(): boolean {
    if (this.#open >= this.max) return false;
    this.#open += 1;
    return true;
  }

  closed(): void {
    this.#open = Math.max(this.#open - 1, 0);
  }
}

/** How long an ended stream may take to hand its last bytes over before it is cut off. */
const closeGraceMs = 5000;
/** What a refused client is asked to wait before it tries again, in seconds. */
const retryAfterSeconds = 5;

const encodeEvent = (event: RecordedEvent): Buffer =>
  Buffer.from(`id: ${event.position}\nevent: event\ndata: ${JSON.stringify(event)}\n\n`);

const encodeSnapshot = ({ storyId, position, state }: StorySnapshot): Buffer =>
  Buffer.from(encodeMessage({ type: 'snapshot', storyId, position, state }) ?? '');

function encodeMessage(message: LiveMessage): string | null {
  switch (message.type) {
    case 'snapshot':
      return `id: ${message.position}\nevent: snapshot\ndata: ${JSON.stringify(message)}\n\n`;
    case 'subscribed':
    case 'error':
      return `event: ${message.type}\ndata: ${JSON.stringify(message)}\n\n`;
    case 'unsubscribed':
    case 'replay.event':
    case 'replay.end':
      return null;
  }
}

export interface StreamRequest {
  readonly storyId: string;
  /** Node's response, from @hono/node-server's bindings (absent under `app.request()`). */
  readonly outgoing: ServerResponse | undefined;
  /** `Last-Event-ID`, or the `after` query parameter. */
  readonly resumeFrom: string | undefined;
  readonly epoch: string | undefined;
  /** For the error body of a refusal written here. */
  readonly requestId: string;
  /** Headers for the answer besides the stream's own (CORS, the request id). */
  readonly headers?: Readonly<Record<string, string>>;
}

export async function serveStoryStream(
  { storyId, outgoing: response, resumeFrom, epoch, requestId, headers }: StreamRequest,
  deps: SseDependencies,
): Promise<Response> {
  if (response === undefined) {
    throw new StorylineError('unavailable', 'event streams need the Node HTTP server');
  }
  if (resumeFrom !== undefined && !/^\d{1,15}$/.test(resumeFrom)) {
    throw new StorylineError('invalid_request', 'Last-Event-ID (or after) must be a position');
  }
  const streams = deps.streams;
  if (streams !== undefined && !streams.tryOpen()) {
    const refusal = new StorylineError('unavailable', 'this server has no room for more streams');
    return new Response(JSON.stringify(errorBody(refusal, requestId)), {
      status: 503,
      headers: {
        ...headers,
        'Content-Type': 'application/json',
        'Retry-After': String(retryAfterSeconds),
      },
    });
  }
  let counted = streams !== undefined;
  const uncount = () => {
    if (counted) streams?.closed();
    counted = false;
  };
  try {
    // The snapshot a new subscriber gets anyway, from the shared cache: no query per stream.
    if ((await deps.sessions.snapshots.get(storyId)).state === null) {
      throw new StorylineError('story_not_found', `no story ${storyId}`, { storyId });
    }
  } catch (error) {
    uncount();
    throw error;
  }
  if (response.destroyed) {
    uncount();
    return RESPONSE_ALREADY_SENT;
  }

  response.writeHead(200, {
    ...headers,
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  response.write('retry: 2000\n\n');

  const isOpen = () => !response.destroyed && !response.writableEnded;
  const transport: LiveTransport = {
    sendEvent: (entry, written) => {
      response.write(entry.encoded('sse', encodeEvent), written);
    },
    sendSnapshot: (snapshot, written) => {
      response.write(snapshot.encoded('sse', encodeSnapshot), written);
    },
    sendMessage: (message, written) => {
      const text = encodeMessage(message);
      if (text !== null) response.write(text, written);
      else written?.();
    },
    cork: () => {
      response.cork();
    },
    uncork: () => {
      response.uncork();
    },
    get bufferedBytes() {
      return response.writableLength;
    },
    get isOpen() {
      return isOpen();
    },
    close: (reason, after) => {
      if (!isOpen()) return;
      response.end(`event: close\ndata: ${JSON.stringify({ reason, after })}\n\n`);
      // A client that does not read (why it may be closed) would hold the stream forever.
      setTimeout(() => {
        if (!response.writableFinished) response.destroy();
      }, closeGraceMs).unref();
    },
  };
  const session = new LiveSession(deps.sessions, transport, deps.options);
  const remove = deps.sessions.add(session);
  const keepAlive = setInterval(() => {
    if (isOpen()) response.write(': keep-alive\n\n');
  }, deps.options?.keepAliveMs ?? 15_000);
  response.on('close', () => {
    clearInterval(keepAlive);
    remove();
    uncount();
  });

  session
    .subscribe({
      stories: [storyId],
      ...(resumeFrom === undefined ? {} : { after: Number(resumeFrom) }),
      ...(epoch === undefined ? {} : { epoch }),
    })
    .catch(() => {
      if (isOpen()) response.end();
    });
  return RESPONSE_ALREADY_SENT;
}
