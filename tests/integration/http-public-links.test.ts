/**
 * Absolute links (the Atom feed's, a page's canonical link and JSON-LD ids) never come from the
 * Host header: a client chooses it, and a cache in front would keep the forged links for every
 * reader. With STORYLINE_PUBLIC_URL they are built from it; without it they are relative.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type RunningServer } from '../../src/composition.ts';
import { readConfig } from '../../src/config.ts';
import { appOver, createHarness, silentLogger, type Harness } from '../support/harness.ts';

const forged = 'evil.example';

describe('links in feeds and pages', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
    const res = await h.append('linked', {
      events: [
        { type: 'story.opened', data: { title: 'Linked', timeZone: 'Europe/Moscow' } },
        {
          type: 'development.reported',
          data: { developmentId: 'first', kind: 'statement', headline: 'First' },
        },
      ],
    });
    expect(res.status).toBe(201);
  });
  afterAll(() => h.close());

  const appWith = (publicUrl?: string) => appOver(h, publicUrl === undefined ? {} : { publicUrl });

  async function textOf(app: ReturnType<typeof appWith>, path: string): Promise<string> {
    // The URL hono sees is the one the Host header makes on a real server.
    const res = await app.request(`http://${forged}${path}`, { headers: { Host: forged } });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    return text;
  }

  const jsonLdOf = (page: string) =>
    JSON.parse(
      /<script type="application\/ld\+json">([\s\S]*?)<\/script>/.exec(page)?.[1] ?? 'null',
    ) as {
      '@id': string;
      url: string;
      liveBlogUpdate: { '@id': string }[];
    };

  describe('without STORYLINE_PUBLIC_URL', () => {
    it('makes the feed’s links relative, whatever the Host', async () => {
      const feed = await textOf(appWith(), '/v1/stories/linked/feed.atom');
      expect(feed).not.toContain(forged);
      expect(feed).toContain(
        '<link rel="self" type="application/atom+xml" href="/v1/stories/linked/feed.atom"/>',
      );
      expect(feed).toContain('<link rel="alternate" type="text/html" href="/stories/linked"/>');
      expect(feed).toContain('href="/stories/linked#entry-first"');
    });

    it('makes the page’s canonical link and JSON-LD ids relative', async () => {
      const page = await textOf(appWith(), '/stories/linked');
      expect(page).not.toContain(forged);
      expect(page).toContain('<link rel="canonical" href="/stories/linked" />');
      const jsonLd = jsonLdOf(page);
      expect(jsonLd['@id']).toBe('/stories/linked');
      expect(jsonLd.url).toBe('/stories/linked');
      expect(jsonLd.liveBlogUpdate[0]?.['@id']).toBe('/stories/linked#entry-first');
    });
  });

  describe('with STORYLINE_PUBLIC_URL', () => {
    const publicUrl = 'https://news.example.com';

    it('builds the feed’s links from it', async () => {
      const feed = await textOf(appWith(publicUrl), '/v1/stories/linked/feed.atom');
      expect(feed).not.toContain(forged);
      expect(feed).toContain(`href="${publicUrl}/v1/stories/linked/feed.atom"`);
      expect(feed).toContain(`href="${publicUrl}/stories/linked"`);
    });

    it('builds the page’s canonical link and JSON-LD ids from it', async () => {
      const page = await textOf(appWith(publicUrl), '/stories/linked');
      expect(page).not.toContain(forged);
      expect(page).toContain(`<link rel="canonical" href="${publicUrl}/stories/linked" />`);
      expect(jsonLdOf(page)['@id']).toBe(`${publicUrl}/stories/linked`);
    });

    it('reads it from the environment, checked', () => {
      expect(readConfig({}).publicUrl).toBeUndefined();
      expect(readConfig({ STORYLINE_PUBLIC_URL: 'https://news.example.com/' }).publicUrl).toBe(
        'https://news.example.com',
      );
      expect(readConfig({ STORYLINE_PUBLIC_URL: 'http://127.0.0.1:3000' }).publicUrl).toBe(
        'http://127.0.0.1:3000',
      );
      for (const bad of ['news.example.com', 'javascript:alert(1)', 'https://x.example/?a=1']) {
        expect(() => readConfig({ STORYLINE_PUBLIC_URL: bad })).toThrow(/STORYLINE_PUBLIC_URL/);
      }
    });
  });

  describe('on a real server', () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startHttpServer(
        h.storyline,
        {
          host: '127.0.0.1',
          port: 0,
          bodyLimit: 1024 * 1024,
          live: readConfig({}).live,
          publicUrl: 'https://news.example.com',
        },
        silentLogger,
      );
    });
    afterAll(() => server.close());

    it('ignores a forged Host header', async () => {
      const feed = await new Promise<string>((resolve, reject) => {
        const request = http.get(`${server.url}/v1/stories/linked/feed.atom`, {
          headers: { Host: forged },
        });
        request.on('response', (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve(text));
        });
        request.on('error', reject);
      });
      expect(feed).toContain('https://news.example.com/stories/linked');
      expect(feed).not.toContain(forged);
    });
  });
});
