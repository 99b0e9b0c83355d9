/** A bare TCP client for HTTP, to send requests byte by byte and see what the server does. */
import net from 'node:net';

export interface RawConnection {
  readonly socket: net.Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** The status of the first response, once its status line arrived. */
  status(): number | null;
  readonly closed: Promise<void>;
  isClosed(): boolean;
  write(text: string): void;
  destroy(): void;
}

export function openRaw(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let received = '';
    let closed = false;
    const whenClosed = new Promise<void>((settle) =>
      socket.once('close', () => {
        closed = true;
        settle();
      }),
    );
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.once('connect', () =>
      resolve({
        socket,
        received: () => received,
        status: () => {
          const match = /^HTTP\/1\.1 (\d{3})/.exec(received);
          return match?.[1] === undefined ? null : Number(match[1]);
        },
        closed: whenClosed,
        isClosed: () => closed,
        write: (text) => {
          if (!socket.destroyed) socket.write(text);
        },
        destroy: () => socket.destroy(),
      }),
    );
    socket.once('error', reject);
  });
}

/** A header's value in a raw response, or null. */
export function headerOf(response: string, name: string): string | null {
  const head = response.split('\r\n\r\n')[0] ?? '';
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (line.slice(0, colon).toLowerCase() === name.toLowerCase()) {
      return line.slice(colon + 1).trim();
    }
  }
  return null;
}
