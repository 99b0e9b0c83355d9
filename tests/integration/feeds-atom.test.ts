/**
 * A story's Atom feed, read the way a feed reader reads it: checked to be well-formed XML, then
 * parsed by a real feed parser. Entries are the developments, newest first, with stable ids; a
 * correction moves an entry's `updated`; every text survives escaping as text.
 */
import { parseFeed } from '@rowanmanning/feed-parser';
import { XMLParser } from 'fast-xml-parser';
import { SyntaxValidator } from 'fast-xml-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent as AcceptedEvent } from '../../src/domain/event-types.ts';
import { createHarness, type Harness } from '../support/harness.ts';

type NewEvent = Record<string, unknown>;

const hostile = '<script>alert("x")</script> & "quotes" \'apostrophes\' ]]> </feed>';

const reported = (developmentId: string, headline: string, occurredAt: string, extra = {}) => ({
  type: 'development.reported',
  occurredAt,
  data: { developmentId, kind: 'statement', headline, ...extra },
});

describe('the Atom feed of a story', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
    await append('talks', [
      {
        type: 'story.opened',
        data: {
          title: 'Talks in the <Kremlin> & after',
          summary: 'Envoys meet; both sides brief.',
          timeZone: 'Europe/Moscow',
          tags: ['diplomacy'],
        },
      },
    ]);
    // The API takes only web links now, but a log may still hold another kind from before,
    // which the feed must not turn into a link: appended past the API's schema, as it was then.
    await h.storyline.appender.append({
      storyId: 'talks',
      author: 'before the rule',
      events: [
        reported('meeting-starts', 'The meeting starts', '2025-12-02T19:00:00+03:00', {
          kind: 'meeting',
          body: 'The envoys arrive.\n\nThe doors close.',
          actors: [{ name: 'Envoy', role: 'special envoy' }],
          sources: [
            { name: 'Pool report', url: 'https://example.com/pool?a=1&b=2' },
            { name: 'Sketchy', url: 'javascript:alert(1)' },
          ],
        }) as AcceptedEvent,
      ],
    });
    await append('talks', [
      reported('hostile-headline', hostile, '2025-12-02T20:00:00+03:00', {
        body: `Body with ${hostile}`,
        quote: { text: 'We <never> said that & more', by: 'Aide' },
      }),
      reported(
        'control-chars',
        'Bell \u0007 and escape \u001b dropped',
        '2025-12-02T21:00:00+03:00',
      ),
      reported('meeting-ends', 'The meeting ends', '2025-12-02T22:00:00+03:00'),
    ]);
  });
  afterAll(() => h.close());

  async function append(storyId: string, events: NewEvent[]): Promise<void> {
    const response = await h.append(storyId, { events });
    expect(response.status, await response.text()).toBe(201);
  }

  async function feedXml(storyId = 'talks'): Promise<string> {
    const response = await h.app.request(`/v1/stories/${storyId}/feed.atom`);
    const text = await response.text();
    expect(response.status, text).toBe(200);
    expect(response.headers.get('Content-Type')).toBe('application/atom+xml; charset=utf-8');
    // A lenient parser would forgive broken escaping; a validator does not.
    expect(() =>
      SyntaxValidator.validate(text, {
        xmlDeclaraion: { optional: false },
        invalidCharSequence: { tagValue: true, attrLt: true },
      }),
    ).not.toThrow();
    return text;
  }

  /**
   * Each entry's HTML content, exactly as XML carries it. (The feed parser decodes entities in
   * `content` once more, as lenient readers do, so it cannot show what the HTML escaped.)
   */
  function htmlContent(xml: string, developmentId: string): string {
    const parsed = new XMLParser({
      ignoreAttributes: false,
      isArray: (name) => name === 'entry',
    }).parse(xml);
    const entry = parsed.feed.entry.find(
      (candidate: any) => candidate.id === `urn:storyline:talks:${developmentId}`,
    );
    expect(entry.content['@_type']).toBe('html');
    return entry.content['#text'];
  }

  const entryOf = (feed: ReturnType<typeof parseFeed>, developmentId: string) => {
    const entry = feed.items.find((item) => item.id === `urn:storyline:talks:${developmentId}`);
    if (entry === undefined) throw new Error(`no entry for ${developmentId}`);
    return entry;
  };

  it('describes the story and lists its developments newest first, with stable ids', async () => {
    const feed = parseFeed(await feedXml());
    expect(feed.meta.type).toBe('atom');
    expect(feed.title).toBe('Talks in the <Kremlin> & after');
    expect(feed.description).toBe('Envoys meet; both sides brief.');
    // Without STORYLINE_PUBLIC_URL the links are relative: never built from the Host header.
    expect(feed.self).toBe('/v1/stories/talks/feed.atom');
    expect(feed.url).toBe('/stories/talks');
    expect(feed.categories.map((category) => category.term)).toEqual(['diplomacy']);
    expect(feed.items.map((item) => item.id)).toEqual([
      'urn:storyline:talks:meeting-ends',
      'urn:storyline:talks:control-chars',
      'urn:storyline:talks:hostile-headline',
      'urn:storyline:talks:meeting-starts',
    ]);

    const story = (await h.getJson('/v1/stories/talks')).body;
    expect(feed.updated?.toISOString()).toBe(story.lastUpdateAt);
    const timeline = (await h.getJson('/v1/stories/talks/timeline')).body.entries;
    const start = timeline.find((entry: any) => entry.developmentId === 'meeting-starts');
    const item = entryOf(feed, 'meeting-starts');
    expect(item.title).toBe('The meeting starts');
    expect(item.published?.toISOString()).toBe(start.reportedAt);
    expect(item.updated?.toISOString()).toBe(start.updatedAt);
    expect(item.url).toBe('/stories/talks#entry-meeting-starts');
    expect(item.categories.map((category) => category.term)).toEqual(['meeting']);
    expect(item.content).toContain('<p>The envoys arrive.</p>\n<p>The doors close.</p>');
    const html = htmlContent(await feedXml(), 'meeting-starts');
    expect(html).toContain('Who: Envoy (special envoy)');
    expect(html).toContain('<a href="https://example.com/pool?a=1&amp;b=2">Pool report</a>');
    // A source URL that is not a web link stays text.
    expect(html).toContain('Sketchy</li>');
    expect(html).not.toContain('javascript:');
    expect(item.description).toBe('The envoys arrive.\n\nThe doors close.');
  });

  it('keeps markup and ampersands in headlines, bodies and quotes as text', async () => {
    const xml = await feedXml();
    expect(xml).not.toContain('<script>');
    const item = entryOf(parseFeed(xml), 'hostile-headline');
    expect(item.title).toBe(hostile);
    expect(item.description).toBe(`Body with ${hostile}`);
    // The HTML content holds the text escaped as HTML: never as live markup.
    const html = htmlContent(xml, 'hostile-headline');
    expect(html).toContain('<p>Body with &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp;');
    expect(html).not.toContain('<script>');
    expect(html).toContain('<blockquote><p>We &lt;never&gt; said that &amp; more</p>');
    // Characters XML cannot carry at all are dropped, and the feed stays well-formed.
    expect(entryOf(parseFeed(xml), 'control-chars').title).toBe('Bell  and escape  dropped');
  });

  it('moves an entry’s updated time on a correction, notes it, and marks retractions', async () => {
    const before = entryOf(parseFeed(await feedXml()), 'meeting-ends');
    await append('talks', [
      {
        type: 'development.corrected',
        data: {
          developmentId: 'meeting-ends',
          changes: { headline: 'The meeting ends after five hours' },
          note: 'The meeting lasted five hours, not three & a half',
          severity: 'correction',
        },
      },
      {
        type: 'development.retracted',
        data: { developmentId: 'control-chars', reason: 'Not confirmed <yet>' },
      },
    ]);
    const xml = await feedXml();
    const feed = parseFeed(xml);
    const after = entryOf(feed, 'meeting-ends');
    expect(after.title).toBe('The meeting ends after five hours');
    expect(after.published?.getTime()).toBe(before.published?.getTime());
    expect(after.updated?.getTime()).toBeGreaterThan(before.updated?.getTime() ?? Infinity);
    expect(after.description).toContain(
      'Corrected: The meeting lasted five hours, not three & a half',
    );
    expect(htmlContent(xml, 'meeting-ends')).toContain(
      '<li>Corrected: The meeting lasted five hours, not three &amp; a half (correction, ',
    );
    expect(feed.updated?.getTime()).toBe(after.updated?.getTime());

    const retracted = entryOf(feed, 'control-chars');
    expect(retracted.title).toBe('Retracted: Bell  and escape  dropped');
    expect(retracted.description).toContain('Retracted: Not confirmed <yet>');
    // Untouched entries keep their times.
    const start = entryOf(feed, 'meeting-starts');
    expect(start.updated?.getTime()).toBe(start.published?.getTime());
  });

  it('answers 304 to a reader that already has the current version', async () => {
    const first = await h.app.request('/v1/stories/talks/feed.atom');
    const etag = first.headers.get('ETag');
    // The story's own ETag: the log's epoch and the story's position.
    expect(etag).toMatch(/^"[0-9a-f-]+:p\d+"$/);
    expect(etag).toBe((await h.app.request('/v1/stories/talks')).headers.get('ETag'));
    const again = await h.app.request('/v1/stories/talks/feed.atom', {
      headers: { 'If-None-Match': etag ?? '' },
    });
    expect(again.status).toBe(304);
  });

  it('caps the feed at the 100 latest developments', async () => {
    const events = Array.from({ length: 105 }, (_, index) =>
      reported(
        `d-${index}`,
        `Update ${index}`,
        `2025-12-03T10:${String(index % 60).padStart(2, '0')}:00Z`,
      ),
    );
    await append('busy', [
      { type: 'story.opened', data: { title: 'Busy', timeZone: 'UTC' } },
      ...events,
    ]);
    const feed = parseFeed(await feedXml('busy'));
    expect(feed.items).toHaveLength(100);
  });

  it('answers an unknown story like every other route: 404 JSON', async () => {
    const missing = await h.getJson('/v1/stories/no-such-story/feed.atom');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('story_not_found');
    const invalid = await h.getJson('/v1/stories/Not_Valid/feed.atom');
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.code).toBe('invalid_request');
  });
});
