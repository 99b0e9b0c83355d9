/**
 * Who publishes, and when things changed, in what machines read: the JSON-LD names an author and
 * a publisher from configuration, the Atom feed names the same and dates its entries by their
 * corrections, and the story list carries what the home page shows.
 */
import path from 'node:path';
import { parseFeed } from '@rowanmanning/feed-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedIfEmpty } from '../../src/composition.ts';
import { readConfig } from '../../src/config.ts';
import { appOver, createHarness, silentLogger, type Harness } from '../support/harness.ts';
import { projectRoot } from '../support/run-cli.ts';

const jsonLdOf = (page: string): any =>
  JSON.parse(/<script type="application\/ld\+json">([\s\S]*?)<\/script>/.exec(page)?.[1] ?? 'null');

describe('publisher and times in pages and feeds', () => {
  let h: Harness;
  const publisher = readConfig({
    STORYLINE_PUBLISHER_NAME: 'Kyiv Ledger',
    STORYLINE_PUBLISHER_URL: 'https://news.example.com',
    STORYLINE_PUBLISHER_LOGO: 'https://news.example.com/logo.png',
  }).publisher;
  const appWith = (withPublisher: boolean) => appOver(h, withPublisher ? { publisher } : {});

  beforeAll(async () => {
    h = await createHarness();
    await seedIfEmpty(h.storyline, path.join(projectRoot, 'events'), silentLogger);
  });
  afterAll(() => h.close());

  it('reads the publisher settings, checking the URLs', () => {
    expect(publisher).toEqual({
      name: 'Kyiv Ledger',
      url: 'https://news.example.com',
      logo: 'https://news.example.com/logo.png',
    });
    expect(readConfig({}).publisher).toEqual({
      name: 'Storyline',
      url: undefined,
      logo: undefined,
    });
    expect(() => readConfig({ STORYLINE_PUBLISHER_LOGO: 'javascript:alert(1)' })).toThrow(
      /STORYLINE_PUBLISHER_LOGO/,
    );
  });

  it('names an author and a publisher in the JSON-LD, from configuration', async () => {
    const page = await (await appWith(true).request('/stories/kremlin-talks')).text();
    expect(jsonLdOf(page)).toMatchObject({
      author: { '@type': 'Organization', name: 'Kyiv Ledger', url: 'https://news.example.com' },
      publisher: {
        '@type': 'Organization',
        name: 'Kyiv Ledger',
        url: 'https://news.example.com',
        logo: { '@type': 'ImageObject', url: 'https://news.example.com/logo.png' },
      },
    });
    const unset = await (await appWith(false).request('/stories/kremlin-talks')).text();
    expect(jsonLdOf(unset)).toMatchObject({
      author: { '@type': 'Organization', name: 'Storyline' },
      publisher: { '@type': 'Organization', name: 'Storyline' },
    });
  });

  it('names the publisher in the feed, and dates corrected entries by their corrections', async () => {
    const xml = await (await appWith(true).request('/v1/stories/kremlin-talks/feed.atom')).text();
    expect(xml).toContain(
      '<author><name>Kyiv Ledger</name><uri>https://news.example.com</uri></author>',
    );
    expect(xml).toContain('<logo>https://news.example.com/logo.png</logo>');
    const feed = parseFeed(xml);
    const entry = (id: string) => {
      const item = feed.items.find((candidate) => candidate.id?.endsWith(`:${id}`));
      if (item === undefined) throw new Error(`no entry ${id}`);
      return item;
    };
    // meeting-starts was reported at 13:35 UTC and corrected at 21:50 UTC on 2 December 2025.
    expect(entry('meeting-starts').published?.toISOString()).toBe('2025-12-02T13:35:00.000Z');
    expect(entry('meeting-starts').updated?.toISOString()).toBe('2025-12-02T21:50:00.000Z');
    // An entry nobody touched since: updated when published.
    expect(entry('meeting-ends').updated?.toISOString()).toBe('2025-12-02T21:35:00.000Z');
    expect(feed.updated?.toISOString()).toBe('2025-12-03T08:15:00.000Z');
  });

  it('writes times for people in the feed with their year and zone', async () => {
    const xml = await (await appWith(false).request('/v1/stories/kremlin-talks/feed.atom')).text();
    expect(xml).toContain('When: 3 Dec 2025 00:30 Moscow');
    expect(xml).toContain('(correction, 3 Dec 2025 00:50 Moscow)');
  });

  it('lists stories with their zone and counts for the home page', async () => {
    const { body } = await h.getJson('/v1/stories');
    const { body: story } = await h.getJson('/v1/stories/kremlin-talks');
    expect(body.stories).toEqual([
      {
        storyId: 'kremlin-talks',
        title: story.title,
        status: 'live',
        version: story.version,
        position: story.position,
        updatedAt: '2025-12-03T08:15:00.000Z',
        timeZone: 'Europe/Moscow',
        counts: story.counts,
      },
    ]);
  });
});
