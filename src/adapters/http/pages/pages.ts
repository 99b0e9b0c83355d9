/**
 * The live blog served by the service: `/` lists the stories, `/stories/{id}` is a story's live
 * blog, `/assets/…` its stylesheet and script. A sub-app: its errors become HTML pages, while
 * the JSON API keeps its own error handler and 404.
 */
import { Hono, type Context } from 'hono';
import type { Logger } from 'pino';
import type { StoryQueries } from '../../../app/story-queries.ts';
import { isStorylineError } from '../../../domain/errors.ts';
import { storyIdSchema } from '../../../domain/event-types.ts';
import { errorPage, notFoundPage, storiesPage, storyPage } from './page-documents.ts';
import { browserAssetNames } from './browser-assets.ts';
import { pageAsset, type Asset } from './page-assets.ts';
import { defaultPublisher, type NewsPublisher } from './live-blog-json-ld.ts';

export interface PageDependencies {
  readonly queries: Pick<StoryQueries, 'listStories' | 'snapshot'>;
  readonly logger: Logger;
  /**
   * The public base URL for the canonical link and the JSON-LD ids; '' makes them relative
   * (never taken from the Host header, which a client chooses).
   */
  readonly publicUrl?: string;
  /** Who publishes the stories, named in each page's JSON-LD. */
  readonly publisher?: NewsPublisher;
}

/**
 * Pages may load only their own scripts, styles and images and talk only to their own origin.
 * The JSON-LD block is data, which CSP does not execute, so it needs no exception.
 */
export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

type PageEnv = { Variables: { requestId?: string } };

function page(c: Context<PageEnv>, body: string, status: 200 | 404 | 500 = 200): Response {
  c.header('Content-Security-Policy', contentSecurityPolicy);
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'strict-origin-when-cross-origin');
  c.header('Cache-Control', 'no-cache');
  return c.html(body, status);
}

async function serveAsset(c: Context<PageEnv>, load: () => Promise<Asset>): Promise<Response> {
  const asset = await load();
  c.header('ETag', asset.etag);
  c.header('Cache-Control', 'no-cache');
  c.header('X-Content-Type-Options', 'nosniff');
  if (c.req.header('If-None-Match')?.includes(asset.etag) === true) return c.body(null, 304);
  c.header('Content-Type', asset.contentType);
  return c.body(asset.body);
}

export function createPages(deps: PageDependencies): Hono<PageEnv> {
  const { queries, logger } = deps;
  const publicUrl = deps.publicUrl ?? '';
  const pages = new Hono<PageEnv>();

  pages.get('/', async (c) => page(c, storiesPage(await queries.listStories())));

  pages.get('/stories/:storyId', async (c) => {
    const storyId = c.req.param('storyId');
    if (!storyIdSchema.safeParse(storyId).success) return page(c, notFoundPage(storyId), 404);
    try {
      const snapshot = await queries.snapshot(storyId);
      const pageUrl = `${publicUrl}/stories/${storyId}`;
      const feedUrl = `${publicUrl}/v1/stories/${storyId}/feed.atom`;
      const publisher = deps.publisher ?? defaultPublisher;
      return page(c, storyPage({ ...snapshot, pageUrl, feedUrl, publisher }));
    } catch (error) {
      if (isStorylineError(error) && error.code === 'story_not_found') {
        return page(c, notFoundPage(storyId), 404);
      }
      throw error;
    }
  });

  for (const name of browserAssetNames) {
    pages.get(`/assets/${name}`, (c) => serveAsset(c, () => pageAsset(name)));
  }

  pages.onError((error, c) => {
    const requestId = c.get('requestId') ?? '';
    logger.error({ err: error, requestId }, 'page failed');
    return page(c, errorPage(requestId), 500);
  });

  return pages;
}
