/**
 * Storyline wired as in production, on a test file's own database, driven in-process through
 * `app.request()` (real PostgreSQL, no port needed).
 */
import pino from 'pino';
import { createHttpApp, type HttpDependencies } from '../../src/adapters/http/http-app.ts';
import { Drafts } from '../../src/app/drafts.ts';
import { openStoryline, type Storyline } from '../../src/composition.ts';
import { createTestDatabase, type TestDatabase } from './test-database.ts';

export interface Harness {
  readonly database: TestDatabase;
  readonly storyline: Storyline;
  readonly app: ReturnType<typeof createHttpApp>;
  readonly token: string;
  /** POSTs an append with the harness token. */
  append(storyId: string, body: unknown, init?: { token?: string | null }): Promise<Response>;
  getJson(path: string): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export const silentLogger = pino({ level: 'silent' });

/**
 * Another app over the harness's Storyline: the API alone (no drafts, desk or metrics unless
 * given), with these options over its defaults, for tests of one setting.
 */
export function appOver(h: Harness, options: Partial<HttpDependencies> = {}) {
  return createHttpApp({
    appender: h.storyline.appender,
    queries: h.storyline.queries,
    tokens: h.storyline.tokens,
    logger: silentLogger,
    bodyLimit: 1024 * 1024,
    ...options,
  });
}

export async function createHarness(options: { bodyLimit?: number } = {}): Promise<Harness> {
  const database = await createTestDatabase();
  const storyline = await openStoryline(
    { databaseUrl: database.url, dataDir: '/nonexistent', poolSize: 10 },
    silentLogger,
  );
  const app = createHttpApp({
    appender: storyline.appender,
    drafts: new Drafts(storyline.draftStore, storyline.appender),
    queries: storyline.queries,
    tokens: storyline.tokens,
    logger: silentLogger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
  });
  const token = await storyline.tokens.create('test desk');
  return {
    database,
    storyline,
    app,
    token,
    append: async (storyId, body, init = {}) => {
      const bearer = init.token === undefined ? token : init.token;
      return await app.request(`/v1/stories/${storyId}/events`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          ...(bearer === null ? {} : { Authorization: `Bearer ${bearer}` }),
        },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
    getJson: async (path) => {
      const response = await app.request(path);
      return { status: response.status, body: await response.json() };
    },
    close: async () => {
      await storyline.close();
      await database.drop();
    },
  };
}
