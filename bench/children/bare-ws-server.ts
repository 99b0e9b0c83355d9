/**
 * Baseline for fan-out: a bare `ws` server (what Storyline's live hub is built on), no per-message
 * compression as in Storyline, that greets each connection with a `subscribed` frame and, on
 * command, broadcasts frames of a given size to every client: each frame encoded once and the
 * same buffer sent to every socket, `batch` frames per turn of the event loop. What is left
 * between this and Storyline is Storyline's own work per delivery (and the append before it).
 */
import type { AddressInfo } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { WebSocketServer } from 'ws';
import { answerCommands, numberField, stringField } from './ipc.ts';

let wss: WebSocketServer | null = null;
const greeting = Buffer.from(JSON.stringify({ type: 'subscribed', stories: ['bare'] }));

answerCommands(
  async (command) => {
    switch (command.type) {
      case 'listen': {
        const server = new WebSocketServer({
          host: '127.0.0.1',
          port: 0,
          perMessageDeflate: false,
        });
        wss = server;
        server.on('connection', (socket) => socket.send(greeting, { binary: false }));
        await new Promise<void>((resolve) => server.once('listening', () => resolve()));
        return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}` };
      }
      case 'clients':
        return { count: wss?.clients.size ?? 0 };
      case 'broadcast': {
        if (wss === null) throw new Error('not listening');
        const template = stringField(command, 'frame');
        const count = numberField(command, 'count');
        const batch = Math.max(1, numberField(command, 'batch'));
        for (let sent = 0; sent < count;) {
          for (const end = Math.min(count, sent + batch); sent < end; sent++) {
            // A different frame per event, like events, each made once for every client.
            const frame = Buffer.from(template.replace('#', String(sent % 10)));
            for (const socket of wss.clients) socket.send(frame, { binary: false });
          }
          await nextTurn();
        }
        return { sent: count };
      }
      default:
        throw new Error(`unknown command ${command.type}`);
    }
  },
  () => {
    for (const socket of wss?.clients ?? []) socket.terminate();
    wss?.close();
  },
);
