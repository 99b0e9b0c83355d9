/**
 * How the desk's browser session authenticates: a cookie holding a random session id (never the
 * token), and, on every request made with it, the session's CSRF token and a same-origin check.
 *
 * SameSite=Strict already keeps the cookie off requests that other sites start; the CSRF token
 * (a form field, or the `X-CSRF-Token` header of the desk's fetches) and the Origin check are
 * the second and third locks, for browsers or proxies that get SameSite wrong and for a sibling
 * subdomain, which counts as the same site.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import type { DeskSession, DeskSessionStore } from '../../../app/ports.ts';
import { StorylineError } from '../../../domain/errors.ts';

/** The session cookie. */
export const sessionCookie = 'storyline_desk';
/** The sign-in form's own CSRF cookie, set with the form, before there is a session. */
export const signInCookie = 'storyline_desk_sign_in';
export const csrfHeader = 'X-CSRF-Token';

/** Whether the desk is served over https: then its cookies are `Secure`. */
export function isHttps(c: Context, publicUrl: string): boolean {
  return publicUrl.startsWith('https://') || new URL(c.req.url).protocol === 'https:';
}

export function cookieOptions(c: Context, publicUrl: string, maxAgeSeconds?: number) {
  return {
    path: '/',
    httpOnly: true,
    sameSite: 'Strict' as const,
    secure: isHttps(c, publicUrl),
    ...(maxAgeSeconds === undefined ? {} : { maxAge: Math.max(0, Math.floor(maxAgeSeconds)) }),
  };
}

export const sameSecret = (presented: string | undefined, expected: string): boolean => {
  if (presented === undefined) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

/**
 * Refuses a request that a browser says comes from another origin: `Origin` (sent with every
 * POST, PATCH and DELETE, and with fetches) must be this server's, as the public URL names it
 * or else as the request's Host does; without `Origin`, `Sec-Fetch-Site` must not say otherwise.
 */
export function refuseCrossOrigin(c: Context, publicUrl: string): void {
  const origin = c.req.header('Origin');
  if (origin !== undefined) {
    const own =
      publicUrl === ''
        ? `${new URL(c.req.url).protocol}//${c.req.header('Host') ?? new URL(c.req.url).host}`
        : new URL(publicUrl).origin;
    if (origin.toLowerCase() !== own.toLowerCase()) {
      throw new StorylineError('forbidden', 'the desk accepts requests from its own pages only');
    }
    return;
  }
  const site = c.req.header('Sec-Fetch-Site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw new StorylineError('forbidden', 'the desk accepts requests from its own pages only');
  }
}

/** The desk session a request's cookie names: null without a cookie; unauthorized if ended. */
export async function sessionOf(
  c: Context,
  sessions: DeskSessionStore,
): Promise<{ readonly id: string; readonly session: DeskSession } | null> {
  const id = getCookie(c, sessionCookie);
  if (id === undefined || id === '') return null;
  // Ids are 43 base64url characters; anything else is not worth a query.
  const session = /^[A-Za-z0-9_-]{43}$/.test(id) ? await sessions.find(id) : null;
  if (session === null) {
    throw new StorylineError('unauthorized', 'the desk session has ended: sign in again');
  }
  return { id, session };
}

/**
 * A request to the API made with the desk's cookie: the session, once its CSRF token (the
 * `X-CSRF-Token` header) and origin check out; null when the request has no desk cookie.
 */
export async function deskSessionForApi(
  c: Context,
  sessions: DeskSessionStore | undefined,
  publicUrl: string,
): Promise<DeskSession | null> {
  if (sessions === undefined) return null;
  const found = await sessionOf(c, sessions);
  if (found === null) return null;
  refuseCrossOrigin(c, publicUrl);
  if (!sameSecret(c.req.header(csrfHeader), found.session.csrfToken)) {
    throw new StorylineError(
      'forbidden',
      `a request with the desk's session cookie needs its ${csrfHeader} header`,
    );
  }
  return found.session;
}
