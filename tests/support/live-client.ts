/** A WebSocket client for tests: records every frame, and waits for conditions with a deadline. */
import WebSocket from 'ws';

export interface Frame {
  readonly type: string;
  readonly [key: string]: any;
}

export class LiveClient {
  readonly socket: WebSocket;
  readonly frames: Frame[] = [];
  closed: { code: number; reason: string } | null = null;

  /** `onFrame` sees every frame, from the first: frames can arrive with the upgrade itself. */
  private constructor(socket: WebSocket, onFrame?: (frame: Frame, client: LiveClient) => void) {
    this.socket = socket;
    socket.on('message', (data) => {
      const frame = JSON.parse((data as Buffer).toString()) as Frame;
      this.frames.push(frame);
      onFrame?.(frame, this);
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
    socket.on('error', () => undefined);
  }

  static open(
    baseUrl: string,
    query = '',
    headers: Record<string, string> = {},
    onFrame?: (frame: Frame, client: LiveClient) => void,
  ): Promise<LiveClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/v1/live${query}`, {
        headers,
      });
      const client = new LiveClient(socket, onFrame);
      socket.once('open', () => resolve(client));
      socket.once('unexpected-response', (_request, response) =>
        reject(new Error(`upgrade refused: ${response.statusCode}`)),
      );
      socket.once('error', reject);
    });
  }

  send(command: unknown): void {
    this.socket.send(typeof command === 'string' ? command : JSON.stringify(command));
  }

  of(type: string): Frame[] {
    return this.frames.filter((frame) => frame.type === type);
  }

  /** The positions of the live events received, in arrival order. */
  eventPositions(): number[] {
    return this.of('event').map((frame) => frame.event.position as number);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.readyState === WebSocket.CLOSED) resolve();
      else {
        this.socket.once('close', () => resolve());
        this.socket.close();
      }
    });
  }
}

/** Polls until `condition` holds; fails after `ms` (a deadline, not a timing assertion). */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  ms = 30_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
