/** A real Storyline HTTP server (API, /v1/live, SSE) on port 0 over a test database. */
import { readConfig, type LiveConfig } from '../../src/config.ts';
import { startHttpServer, type RunningServer } from '../../src/composition.ts';
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

export const opened = (title: string) => ({
  type: 'story.opened',
  data: { title, timeZone: 'Europe/Moscow' },
});
