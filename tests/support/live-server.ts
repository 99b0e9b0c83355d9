/** A real Storyline HTTP server (API, /v1/live, SSE) on port 0 over a test database. */
import { readConfig, type LiveConfig } from '../../src/config.ts';
import {
  openStoryline,
  startHttpServer,
  type RunningServer,
  type Storyline,
} from '../../src/composition.ts';
import { createHarness, silentLogger, type Harness } from './harness.ts';

export interface LiveServer {
  readonly h: Harness;
  readonly server: RunningServer;
  readonly url: string;
  post(storyId: string, events: unknown[]): Promise<{ positions: number[] }>;
  close(): Promise<void>;
}

export async function startLiveServer(live: Partial<LiveConfig> = {}): Promise<LiveServer> {
  const h = await createHarness();
  const defaults = readConfig({}).live;
  const server = await startHttpServer(
    h.storyline,
    { host: '127.0.0.1', port: 0, bodyLimit: 8 * 1024 * 1024, live: { ...defaults, ...live } },
    silentLogger,
  );
  return {
    h,
    server,
    url: server.url,
    post: async (storyId, events) => {
      const response = await fetch(`${server.url}/v1/stories/${storyId}/events`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${h.token}` },
        body: JSON.stringify({ events }),
      });
      if (response.status !== 201)
        throw new Error(`append: ${response.status} ${await response.text()}`);
      return (await response.json()) as { positions: number[] };
    },
    close: async () => {
      await server.close();
      await h.close();
    },
  };
}

/**
 * Storyline opened on a database URL the test controls (a proxy it can cut, a cluster it can
 * restart) and served on port 0, for the outage and fault tests; the test closes both.
 */
export async function serveOver(
  databaseUrl: string,
  options: { readonly poolSize: number; readonly live?: Partial<LiveConfig> },
): Promise<{ storyline: Storyline; server: RunningServer }> {
  const storyline = await openStoryline(
    { databaseUrl, dataDir: '/nonexistent', poolSize: options.poolSize },
    silentLogger,
  );
  const server = await startHttpServer(
    storyline,
    {
      host: '127.0.0.1',
      port: 0,
      bodyLimit: 1024 * 1024,
      live: { ...readConfig({}).live, ...options.live },
    },
    silentLogger,
  );
  return { storyline, server };
}

let counter = 0;
export const development = (headline = `update ${++counter}`, body?: string) => ({
  type: 'development.reported' as const,
  data: {
    developmentId: `d-${++counter}-${Math.random().toString(36).slice(2, 8)}`,
    kind: 'statement',
    headline,
    ...(body === undefined ? {} : { body }),
  },
});

export { opened } from './new-events.ts';
