/**
 * The desk's sessions over HTTP, in-process against a real PostgreSQL: a token is exchanged for
 * a session cookie (never the token), every write made with the cookie needs the session's CSRF
 * token and a same-origin request, a story-scoped token's desk shows only its stories, sign-in
 * attempts are rate-limited, and signing out or revoking the token ends the session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../src/adapters/http/http-app.ts';
import { appOver, createHarness, type Harness } from '../support/harness.ts';

const origin = 'http://desk.test';

interface Browserish {
  cookies: Map<string, string>;
  request(path: string, init?: RequestInit): Promise<Response>;
}

describe('desk sessions', () => {
  let h: Harness;
  let app: ReturnType<typeof createHttpApp>;

  beforeAll(async () => {
    h = await createHarness();
    app = appOver(h, { deskSessions: h.storyline.deskSessions });
    const open = (storyId: string, title: string) =>
      h.append(storyId, {
        events: [{ type: 'story.opened', data: { title, timeZone: 'Europe/Moscow' } }],
      });
    expect((await open('geneva', 'Geneva talks')).status).toBe(201);
    expect((await open('vienna', 'Vienna talks')).status).toBe(201);
  });

  afterAll(async () => {
    await h.close();
  });

  /** A cookie jar over app.request, sending Origin like a browser does with a POST. */
  function browser(base = app): Browserish {
    const cookies = new Map<string, string>();
    return {
      cookies,
      async request(path, init = {}) {
        const headers = new Headers(init.headers);
        if (cookies.size > 0) {
          headers.set('Cookie', [...cookies].map(([name, value]) => `${name}=${value}`).join('; '));
        }
        const response = await base.request(`${origin}${path}`, { ...init, headers });
        for (const line of response.headers.getSetCookie()) {
          const [pair = ''] = line.split(';');
          const [name = '', value = ''] = pair.split('=');
          if (/max-age=0/i.test(line) || value === '') cookies.delete(name);
          else cookies.set(name, value);
        }
        return response;
      },
    };
  }

  const form = (fields: Record<string, string>) => ({
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: origin },
    body: new URLSearchParams(fields).toString(),
  });

  async function signIn(client: Browserish, token: string): Promise<Response> {
    const page = await (await client.request('/desk')).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    return client.request('/desk/sign-in', form({ csrf, token }));
  }

  async function csrfOf(client: Browserish): Promise<string> {
    const page = await (await client.request('/desk')).text();
    return /<meta name="csrf-token" content="([^"]+)"/.exec(page)?.[1] ?? '';
  }

  const append = (client: Browserish, storyId: string, headers: Record<string, string>) =>
    client.request(`/v1/stories/${storyId}/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify({
        events: [
          {
            type: 'development.reported',
            data: {
              developmentId: `d-${Math.random().toString(36).slice(2)}`,
              kind: 'statement',
              headline: 'Talks resume',
            },
          },
        ],
      }),
    });

  it('exchanges a token for an HttpOnly, SameSite=Strict session cookie that is not the token', async () => {
    const token = await h.storyline.tokens.create('Alice');
    const client = browser();
    const response = await signIn(client, token);
    expect(response.status).toBe(303);
    const cookie = response.headers
      .getSetCookie()
      .find((line) => line.startsWith('storyline_desk='));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toMatch(/Secure/);
    expect(cookie).not.toContain(token);
    const rows = await h.storyline.connection.pool.query('select * from desk_sessions');
    expect(JSON.stringify(rows.rows)).not.toContain(client.cookies.get('storyline_desk'));
    expect(await (await client.request('/desk')).text()).toContain(
      'Signed in as <strong>Alice</strong>',
    );
  });

  it('marks the cookie Secure when the desk is served over https', async () => {
    const secureApp = appOver(h, {
      deskSessions: h.storyline.deskSessions,
      publicUrl: origin.replace('http:', 'https:'),
    });
    const client = browser(secureApp);
    const page = await (await client.request('/desk')).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    const response = await client.request('/desk/sign-in', {
      ...form({ csrf, token: await h.storyline.tokens.create('Secure') }),
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Origin: 'https://desk.test',
      },
    });
    expect(response.status).toBe(303);
    expect(
      response.headers.getSetCookie().find((line) => line.startsWith('storyline_desk=')),
    ).toMatch(/Secure/);
  });

  it('refuses a sign-in without the form’s own CSRF token, or from another origin', async () => {
    const token = await h.storyline.tokens.create('Mallory');
    const client = browser();
    const forged = await client.request('/desk/sign-in', form({ csrf: 'guess', token }));
    expect(forged.status).toBe(401);
    expect(client.cookies.has('storyline_desk')).toBe(false);

    await client.request('/desk');
    const csrf = client.cookies.get('storyline_desk_sign_in') ?? '';
    const crossSite = await client.request('/desk/sign-in', {
      ...form({ csrf, token }),
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Origin: 'https://evil.example',
      },
    });
    expect(crossSite.status).toBe(403);
    expect(client.cookies.has('storyline_desk')).toBe(false);
  });

  it('lets the API take the cookie only with the session’s X-CSRF-Token, from its own origin', async () => {
    const client = browser();
    await signIn(client, await h.storyline.tokens.create('Writer'));
    const csrf = await csrfOf(client);

    expect((await append(client, 'geneva', {})).status).toBe(403);
    expect((await append(client, 'geneva', { 'X-CSRF-Token': 'wrong' })).status).toBe(403);
    expect(
      (await append(client, 'geneva', { 'X-CSRF-Token': csrf, Origin: 'https://evil.example' }))
        .status,
    ).toBe(403);
    expect(
      (await append(client, 'geneva', { 'X-CSRF-Token': csrf, 'Sec-Fetch-Site': 'cross-site' }))
        .status,
    ).toBe(403);
    const ok = await append(client, 'geneva', { 'X-CSRF-Token': csrf, Origin: origin });
    expect(ok.status).toBe(201);
    const { body } = await h.getJson('/v1/stories/geneva/events?after=0');
    expect(body.events.at(-1).metadata.author).toBe('Writer');

    // The session carries the token's scope: a publish token manages no tokens.
    const tokens = await client.request('/v1/tokens', { headers: { 'X-CSRF-Token': csrf } });
    expect(tokens.status).toBe(403);
  });

  it('shows a story-scoped token only its stories, and lets it write only to them', async () => {
    const client = browser();
    await signIn(client, await h.storyline.tokens.create('Vienna desk', ['vienna']));
    const list = await (await client.request('/desk')).text();
    expect(list).toContain('Vienna talks');
    expect(list).not.toContain('Geneva talks');
    const other = await client.request('/desk/stories/geneva');
    expect(other.status).toBe(303);
    const csrf = await csrfOf(client);
    expect((await append(client, 'geneva', { 'X-CSRF-Token': csrf })).status).toBe(403);
    expect((await append(client, 'vienna', { 'X-CSRF-Token': csrf })).status).toBe(201);
  });

  it('opens a story from the New story form, with errors next to their fields', async () => {
    const client = browser();
    await signIn(client, await h.storyline.tokens.create('Opener'));
    const csrf = await csrfOf(client);
    const bad = await client.request(
      '/desk/stories',
      form({ csrf, title: 'Kyiv', timeZone: 'Mars/Olympus', summary: '', tags: '' }),
    );
    expect(bad.status).toBe(400);
    const page = await bad.text();
    expect(page).toMatch(/id="story-timeZone-error"\s*>\s*not an IANA time zone/);
    expect(page).toContain('value="Kyiv"');

    const good = await client.request(
      '/desk/stories',
      form({
        csrf,
        title: 'Kyiv briefing',
        timeZone: 'Europe/Kyiv',
        summary: 'A briefing.',
        tags: 'a, b',
      }),
    );
    expect(good.status).toBe(303);
    const storyId = good.headers.get('Location')?.split('/').at(-1) ?? '';
    expect(storyId).toMatch(/^kyiv-briefing-[0-9a-f]{6}$/);
    const story = await h.getJson(`/v1/stories/${storyId}`);
    expect(story.body).toMatchObject({
      title: 'Kyiv briefing',
      timeZone: 'Europe/Kyiv',
      tags: ['a', 'b'],
    });

    const forged = await client.request(
      '/desk/stories',
      form({ csrf: 'nope', title: 'X', timeZone: 'UTC' }),
    );
    expect(forged.status).toBe(403);
  });

  it('ends the session on sign-out and when its token is revoked', async () => {
    const token = await h.storyline.tokens.create('Leaver');
    const client = browser();
    await signIn(client, token);
    const csrf = await csrfOf(client);
    const kept = client.cookies.get('storyline_desk') ?? '';
    expect((await client.request('/desk/sign-out', form({ csrf }))).status).toBe(303);
    client.cookies.set('storyline_desk', kept);
    expect((await append(client, 'geneva', { 'X-CSRF-Token': csrf })).status).toBe(401);

    const other = browser();
    await signIn(other, await h.storyline.tokens.create('Revoked'));
    const otherCsrf = await csrfOf(other);
    await h.storyline.tokens.revoke('Revoked');
    expect((await append(other, 'geneva', { 'X-CSRF-Token': otherCsrf })).status).toBe(401);
    expect(await (await other.request('/desk')).text()).toContain('Publish token');
  });

  it('rate-limits sign-in attempts', async () => {
    const client = browser();
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 12; attempt += 1) {
      statuses.push((await signIn(client, `sl_guess-${attempt}`)).status);
    }
    expect(statuses).toContain(429);
    const last = await signIn(client, 'sl_guess');
    expect(last.status).toBe(429);
    expect(Number(last.headers.get('Retry-After'))).toBeGreaterThan(0);
  });
});
