/**
 * The newsroom desk under `/desk`: sign in and out, the story list, "New story", and a story's
 * desk. Pages are rendered here; what an editor does on a story goes through the `/v1` API from
 * the desk script, with the session cookie and its CSRF header (see desk-auth.ts and the
 * `authenticated` helper in http-app.ts).
 *
 * Every form here carries a CSRF token and is checked for its origin: the session's token once
 * signed in, and before that the sign-in form's own (a cookie and a field that must match), so
 * another site cannot sign a browser in with the attacker's token either.
 */
import { randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Logger } from 'pino';
import type {
  DeskSession,
  DeskSessionStore,
  Publisher,
  StoryListItem,
} from '../../../app/ports.ts';
import type { StoryQueries } from '../../../app/story-queries.ts';
import type { AppendRequest, AppendResult } from '../../../app/decide-appends.ts';
import { StorylineError, isStorylineError } from '../../../domain/errors.ts';
import { documentedKinds, storyIdSchema, storyOpenedData } from '../../../domain/event-types.ts';
import { RateLimiter } from '../rate-limit.ts';
import { contentSecurityPolicy } from '../pages/pages.ts';
import type { Asset } from '../pages/page-assets.ts';
import {
  cookieOptions,
  refuseCrossOrigin,
  sameSecret,
  sessionCookie,
  sessionOf,
  signInCookie,
} from './desk-auth.ts';
import { deskScript, deskStylesheet } from './desk-assets.ts';
import {
  newStoryPage,
  signInPage,
  storyDeskPage,
  storyListPage,
  type NewStoryForm,
} from './desk-documents.ts';

export interface DeskDependencies {
  readonly sessions: DeskSessionStore;
  readonly queries: Pick<StoryQueries, 'listStories' | 'snapshot'>;
  readonly appender: { append(request: AppendRequest): Promise<AppendResult> };
  readonly logger: Logger;
  readonly publicUrl: string;
  /** Sign-in attempts per client address: a burst, then so many a second. */
  readonly signInLimit?: { readonly perSecond: number; readonly burst: number };
}

type DeskEnv = { Variables: { requestId?: string } };

const formLimit = 64 * 1024;

function page(c: Context<DeskEnv>, body: string, status: 200 | 400 | 401 | 403 | 404 | 429 = 200) {
  c.header('Content-Security-Policy', contentSecurityPolicy);
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'same-origin');
  c.header('Cache-Control', 'no-store');
  c.header('X-Frame-Options', 'DENY');
  return c.html(body, status);
}

async function serveAsset(c: Context<DeskEnv>, load: () => Promise<Asset>): Promise<Response> {
  const asset = await load();
  c.header('ETag', asset.etag);
  c.header('Cache-Control', 'no-cache');
  c.header('X-Content-Type-Options', 'nosniff');
  if (c.req.header('If-None-Match')?.includes(asset.etag) === true) return c.body(null, 304);
  c.header('Content-Type', asset.contentType);
  return c.body(asset.body);
}

const mayOpen = (publisher: Publisher, storyId: string): boolean =>
  publisher.stories === null || publisher.stories.includes(storyId);

const textField = (form: Record<string, unknown>, name: string): string => {
  const value = form[name];
  return typeof value === 'string' ? value : '';
};

export function createDesk(deps: DeskDependencies): Hono<DeskEnv> {
  const { sessions, queries, logger, publicUrl } = deps;
  const signIns = new RateLimiter(deps.signInLimit ?? { perSecond: 0.1, burst: 10 });
  const desk = new Hono<DeskEnv>();
  desk.use(
    '/desk/*',
    bodyLimit({
      maxSize: formLimit,
      onError: () => {
        throw new StorylineError('payload_too_large', 'a desk form is at most 64 KiB');
      },
    }),
  );

  /** The signed-in session, or null (a stale cookie is dropped). */
  async function current(c: Context<DeskEnv>) {
    try {
      return await sessionOf(c, sessions);
    } catch (error) {
      if (isStorylineError(error) && error.code === 'unauthorized') {
        deleteCookie(c, sessionCookie, { path: '/' });
        return null;
      }
      throw error;
    }
  }

  /** A form post from a signed-in desk page: the session, once origin and CSRF token agree. */
  async function formSession(
    c: Context<DeskEnv>,
    form: Record<string, unknown>,
  ): Promise<{ id: string; session: DeskSession } | null> {
    refuseCrossOrigin(c, publicUrl);
    const found = await current(c);
    if (found === null) return null;
    if (!sameSecret(textField(form, 'csrf'), found.session.csrfToken)) {
      throw new StorylineError('forbidden', 'the form is out of date: reload the page');
    }
    return found;
  }

  const editorOf = (session: DeskSession) => ({
    name: session.publisher.name,
    csrfToken: session.csrfToken,
  });

  function signInForm(c: Context<DeskEnv>, error?: string, status: 200 | 401 | 429 = 200) {
    const csrf = randomBytes(24).toString('base64url');
    setCookie(c, signInCookie, csrf, { ...cookieOptions(c, publicUrl, 3600), path: '/desk' });
    return page(c, signInPage(error === undefined ? { csrf } : { csrf, error }), status);
  }

  desk.get('/desk', async (c) => {
    const found = await current(c);
    if (found === null) return signInForm(c);
    const { publisher } = found.session;
    const stories: StoryListItem[] = (await queries.listStories()).filter((story) =>
      mayOpen(publisher, story.storyId),
    );
    return page(c, storyListPage(editorOf(found.session), stories));
  });

  desk.post('/desk/sign-in', async (c) => {
    refuseCrossOrigin(c, publicUrl);
    const form = await c.req.parseBody();
    const expected = getCookie(c, signInCookie);
    if (expected === undefined || !sameSecret(textField(form, 'csrf'), expected)) {
      return signInForm(c, 'The sign-in form had expired. Try again.', 401);
    }
    const address = c.env === undefined ? 'in-process' : addressOf(c);
    const wait = signIns.take(address);
    if (wait > 0) {
      c.header('Retry-After', String(Math.ceil(wait)));
      return signInForm(
        c,
        `Too many sign-in attempts. Try again in ${Math.ceil(wait)} seconds.`,
        429,
      );
    }
    const token = textField(form, 'token').trim();
    const opened = token === '' ? null : await sessions.open(token);
    if (opened === null) {
      return signInForm(
        c,
        token === '' ? 'Enter your publish token.' : 'That token is unknown or revoked.',
        401,
      );
    }
    deleteCookie(c, signInCookie, { path: '/desk' });
    const maxAge = (opened.session.expiresAt.getTime() - Date.now()) / 1000;
    setCookie(c, sessionCookie, opened.id, cookieOptions(c, publicUrl, maxAge));
    logger.info({ editor: opened.session.publisher.name }, 'desk sign-in');
    return c.redirect('/desk', 303);
  });

  desk.post('/desk/sign-out', async (c) => {
    const form = await c.req.parseBody();
    const found = await formSession(c, form);
    if (found !== null) await sessions.end(found.id);
    deleteCookie(c, sessionCookie, { path: '/' });
    return c.redirect('/desk', 303);
  });

  desk.get('/desk/new', async (c) => {
    const found = await current(c);
    if (found === null) return c.redirect('/desk', 303);
    return page(c, newStoryPage(editorOf(found.session)));
  });

  desk.post('/desk/stories', async (c) => {
    const form = await c.req.parseBody();
    const found = await formSession(c, form);
    if (found === null) return c.redirect('/desk', 303);
    const { publisher } = found.session;
    const values: NewStoryForm = {
      title: textField(form, 'title'),
      summary: textField(form, 'summary'),
      timeZone: textField(form, 'timeZone'),
      tags: textField(form, 'tags'),
    };
    const tags = (values.tags ?? '')
      .split(',')
      .map((tag) => tag.trim())
      .filter((tag) => tag !== '');
    const data = {
      title: values.title?.trim() ?? '',
      ...(values.summary?.trim() ? { summary: values.summary.trim() } : {}),
      timeZone: values.timeZone?.trim() || 'UTC',
      ...(tags.length === 0 ? {} : { tags }),
    };
    const parsed = storyOpenedData.safeParse(data);
    if (!parsed.success) {
      const errors: Record<string, string> = {};
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0] ?? 'form');
        errors[field] ??= issue.message;
      }
      return page(c, newStoryPage(editorOf(found.session), values, errors), 400);
    }
    const storyId = newStoryId(parsed.data.title);
    if (publisher.stories !== null) {
      const errors = { form: `Token “${publisher.name}” may publish only to its own stories.` };
      return page(c, newStoryPage(editorOf(found.session), values, errors), 403);
    }
    await deps.appender.append({
      storyId,
      expectedVersion: 0,
      events: [{ type: 'story.opened', data: parsed.data }],
      author: publisher.name,
      ...(c.get('requestId') === undefined ? {} : { requestId: c.get('requestId') as string }),
    });
    return c.redirect(`/desk/stories/${storyId}`, 303);
  });

  desk.get('/desk/stories/:storyId', async (c) => {
    const found = await current(c);
    if (found === null) return c.redirect('/desk', 303);
    const storyId = c.req.param('storyId');
    if (!storyIdSchema.safeParse(storyId).success || !mayOpen(found.session.publisher, storyId)) {
      return c.redirect('/desk', 303);
    }
    try {
      const { projection, head, epoch } = await queries.snapshot(storyId);
      return page(
        c,
        storyDeskPage({
          editor: editorOf(found.session),
          projection,
          head,
          epoch,
          kinds: documentedKinds,
        }),
      );
    } catch (error) {
      if (isStorylineError(error) && error.code === 'story_not_found')
        return c.redirect('/desk', 303);
      throw error;
    }
  });

  desk.get('/assets/desk.js', (c) => serveAsset(c, deskScript));
  desk.get('/assets/desk.css', (c) => serveAsset(c, deskStylesheet));

  return desk;
}

/** "Talks in Geneva: day two" → "talks-in-geneva-day-two-k3f9": readable, and never taken. */
function newStoryId(title: string): string {
  const slug = title
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50)
    .replace(/-+$/g, '');
  const suffix = randomBytes(3).toString('hex');
  return slug === '' ? `story-${suffix}` : `${slug}-${suffix}`;
}

function addressOf(c: Context): string {
  const bindings = c.env as { incoming?: { socket: { remoteAddress?: string } } } | undefined;
  return bindings?.incoming?.socket.remoteAddress ?? 'in-process';
}
