/**
 * Baseline for reads: a bare hono app on @hono/node-server (what Storyline's HTTP adapter is
 * built on) serving fixed bytes that the bench captured from Storyline, with the same status and
 * headers, and answering a matching If-None-Match with 304 as Storyline does. What is left
 * between this and Storyline is Storyline's own work per request.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { answerCommands, type Command } from './ipc.ts';

interface Route {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

function routesOf(command: Command): Route[] {
  const routes = command['routes'];
  if (!Array.isArray(routes)) throw new Error('listen needs routes');
  return routes.map((route: unknown) => {
    const { path, headers, body } = route as Partial<Route>;
    if (typeof path !== 'string' || typeof body !== 'string' || typeof headers !== 'object') {
      throw new Error('a route needs path, headers and body');
    }
    return { path, headers, body };
  });
}

let server: Server | null = null;

answerCommands(
  async (command) => {
    switch (command.type) {
      case 'listen': {
        const app = new Hono();
        for (const route of routesOf(command)) {
          const etag = route.headers['etag'];
          app.get(route.path, (c) => {
            for (const [name, value] of Object.entries(route.headers)) c.header(name, value);
            if (etag !== undefined && c.req.header('If-None-Match') === etag) {
              return c.body(null, 304);
            }
            return c.body(route.body, 200);
          });
        }
        const listening = createAdaptorServer({ fetch: app.fetch }) as Server;
        server = listening;
        await new Promise<void>((resolve, reject) => {
          listening.once('error', reject);
          listening.listen(0, '127.0.0.1', () => resolve());
        });
        return { url: `http://127.0.0.1:${(listening.address() as AddressInfo).port}` };
      }
      default:
        throw new Error(`unknown command ${command.type}`);
    }
  },
  () => {
    server?.closeAllConnections();
    server?.close();
  },
);
