/**
 * The live-blog pages over HTTP, in-process (the browser side is in tests/e2e): HTML that reads
 * without JavaScript, the position and epoch the script resumes from, JSON-LD, the CSP, HTML
 * 404s for pages while the API keeps answering JSON.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedIfEmpty } from '../../src/composition.ts';
import { createHarness, silentLogger, type Harness } from '../support/harness.ts';
import { projectRoot } from '../support/run-cli.ts';

const jsonLdOf = (page: string): any => {
  const match = /<script type="application\/ld\+json">([\s\S]*?)<\/script>/.exec(page);
  return JSON.parse(match?.[1] ?? 'null');
};

describe('the live-blog pages', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
    await seedIfEmpty(h.storyline, path.join(projectRoot, 'events'), silentLogger);
  });
  afterAll(() => h.close());

  it('renders the story with the position and epoch the live script resumes from', async () => {
    const response = await h.app.request('/stories/kremlin-talks');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'",
    );
    const page = await response.text();
    const { body: info } = await h.getJson('/v1/events?limit=1');
    expect(page).toContain(`data-position="${info.head}"`);
    expect(page).toContain(`data-epoch="${info.epoch}"`);
    expect(page).toContain('data-story="kremlin-talks"');
    expect(page).not.toMatch(/style="/);

    const { body: story } = await h.getJson('/v1/stories/kremlin-talks');
    expect(page.match(/<li\s+id="entry-/g)).toHaveLength(story.counts.developments);
    const jsonLd = jsonLdOf(page);
    expect(jsonLd).toMatchObject({
      '@type': 'LiveBlogPosting',
      headline: story.title,
      dateModified: story.lastUpdateAt,
      coverageStartTime: story.openedAt,
    });
    expect(jsonLd.liveBlogUpdate).toHaveLength(story.counts.developments);
  });

  it('escapes a hostile story everywhere, JSON-LD included, and ends coverage when closed', async () => {
    const hostile = '</script><script>alert(1)</script>';
    const opened = await h.append('hostile', {
      events: [
        { type: 'story.opened', data: { title: hostile, timeZone: 'Europe/Moscow' } },
        {
          type: 'development.reported',
          data: { developmentId: 'd1', kind: 'claim', headline: hostile, body: hostile },
        },
        { type: 'story.status_changed', data: { status: 'closed' } },
      ],
    });
    expect(opened.status).toBe(201);
    const page = await (await h.app.request('/stories/hostile')).text();
    expect(page).not.toContain('<script>alert');
    expect(page).toContain('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    const jsonLd = jsonLdOf(page);
    expect(jsonLd.headline).toBe(hostile);
    expect(jsonLd.liveBlogUpdate[0].articleBody).toBe(hostile);
    expect(jsonLd.coverageEndTime).toBe(jsonLd.dateModified);

    const list = await (await h.app.request('/')).text();
    expect(list).not.toContain('<script>alert');
    // Live stories first: the seeded one, though the closed one changed last.
    expect(list.indexOf('Putin hosts')).toBeLessThan(list.indexOf('&lt;/script&gt;'));
  });

  it('answers unknown stories with an HTML 404 and unknown API paths with JSON', async () => {
    for (const pathname of ['/stories/no-such-story', '/stories/Not_A_Story_Id']) {
      const response = await h.app.request(pathname);
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await response.text()).toContain('Story not found');
    }
    const api = await h.getJson('/v1/no-such-route');
    expect(api.status).toBe(404);
    expect(api.body.error.code).toBe('route_not_found');
    const story = await h.getJson('/v1/stories/no-such-story');
    expect(story.body.error.code).toBe('story_not_found');
  });

  it('serves the stylesheet and the bundled script with content-hash ETags', async () => {
    for (const [asset, type] of [
      ['/assets/live-blog.css', /^text\/css/],
      ['/assets/live-blog.js', /^text\/javascript/],
    ] as const) {
      const response = await h.app.request(asset);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(type);
      const etag = response.headers.get('etag') ?? '';
      expect(etag).toMatch(/^"[\w-]{22}"$/);
      const again = await h.app.request(asset, { headers: { 'If-None-Match': etag } });
      expect(again.status).toBe(304);
    }
  });
});
