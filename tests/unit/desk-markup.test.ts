/**
 * The desk's pure parts: bodies with links (on the public page and the desk alike), times read in
 * the story's zone whatever the editor's, and the correction preview readers' text is built from.
 */
import { describe, expect, it } from 'vitest';
import { correctionPreview, deskEntryActions } from '../../src/web/desk-markup.ts';
import { localInputValue, zonedInstant } from '../../src/web/desk-times.ts';
import { renderEntry } from '../../src/web/story-markup.ts';
import { entryOf, fold, opened, reported } from './story-builders.ts';

describe('an entry body', () => {
  it('keeps paragraphs and links web addresses, escaped, and nothing else', () => {
    const story = fold(
      opened(),
      reported('linked', {
        body: 'Read https://example.com/a?b=1&c=<2>. Or javascript:alert(1)\n\nSecond <b>para</b> (see http://example.org/x).',
      }),
    );
    const markup = renderEntry(entryOf(story, 'linked'), story.story).toString();
    expect(markup.match(/<p class="entry-body">/g)).toHaveLength(2);
    expect(markup).toContain(
      '<a href="https://example.com/a?b=1&amp;c=" rel="noopener noreferrer nofollow ugc">https://example.com/a?b=1&amp;c=</a>&lt;2&gt;.',
    );
    expect(markup).toContain('>http://example.org/x</a>).');
    expect(markup).not.toContain('href="javascript');
    expect(markup).toContain('Second &lt;b&gt;para&lt;/b&gt;');
  });
});

describe('times in the story’s zone', () => {
  it('reads a datetime-local value in the zone, with its offset then', () => {
    expect(zonedInstant('2025-12-02T16:30', 'Europe/Moscow')).toBe('2025-12-02T16:30:00+03:00');
    expect(zonedInstant('2025-07-01T09:05', 'America/New_York')).toBe('2025-07-01T09:05:00-04:00');
    expect(zonedInstant('2025-01-01T09:05', 'America/New_York')).toBe('2025-01-01T09:05:00-05:00');
    expect(zonedInstant('2025-06-01T00:00', 'Asia/Kolkata')).toBe('2025-06-01T00:00:00+05:30');
    expect(zonedInstant('2025-06-01T00:00', 'UTC')).toBe('2025-06-01T00:00:00+00:00');
    expect(zonedInstant('yesterday', 'UTC')).toBeNull();
  });

  it('writes an instant as the zone’s wall clock, the inverse of reading it', () => {
    expect(localInputValue('2025-12-02T13:30:00Z', 'Europe/Moscow')).toBe('2025-12-02T16:30');
    for (const local of ['2025-03-30T01:59', '2025-10-26T04:00', '2024-02-29T23:59']) {
      const instant = zonedInstant(local, 'Europe/Kyiv');
      expect(instant).not.toBeNull();
      expect(localInputValue(instant as string, 'Europe/Kyiv')).toBe(local);
    }
  });
});

describe('the desk’s markup', () => {
  it('previews a correction as a diff and as the entry readers will see', () => {
    const story = fold(opened(), reported('talks', { headline: 'Talks <begin>' }));
    const entry = entryOf(story, 'talks');
    const corrected = { ...entry, headline: 'Talks end' };
    const preview = correctionPreview(
      [{ label: 'Headline', before: 'Talks <begin>', after: 'Talks end' }],
      corrected,
      story.story,
    ).toString();
    expect(preview).toContain('<del>Talks &lt;begin&gt;</del>');
    expect(preview).toContain('<ins>Talks end</ins>');
    expect(preview).toContain('id="entry-preview-talks"');
    expect(correctionPreview([], null, story.story).toString()).toContain('Nothing changed yet');
  });

  it('offers Unpin on the pinned entry and nothing on a retracted one', () => {
    const story = fold(
      opened(),
      reported('a'),
      reported('b'),
      { type: 'development.pinned', data: { developmentId: 'a' } },
      { type: 'development.retracted', data: { developmentId: 'b', reason: 'wrong' } },
    );
    const pinned = deskEntryActions(entryOf(story, 'a'), story.story).toString();
    expect(pinned).toMatch(/>\s*Unpin\s*<\/button>/);
    expect(pinned).toMatch(/>\s*Correct\s*<\/button>/);
    expect(deskEntryActions(entryOf(story, 'b'), story.story).toString()).not.toContain('<button');
  });
});
