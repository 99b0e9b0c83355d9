/**
 * The live blog's markup, shared by the server and the browser: text from the log can only
 * become text, JSON-LD cannot close its script element, and times read the same everywhere.
 */
import { describe, expect, it } from 'vitest';
import { escapeHtml, html, jsonForScript } from '../../src/web/html.ts';
import { describePrevious, renderEntry } from '../../src/web/story-markup.ts';
import { formatInZone, readerTime, zoneLabel } from '../../src/web/times.ts';
import { entryOf, fold, opened, reported } from './story-builders.ts';

describe('html', () => {
  it('escapes every interpolated text, and only text', () => {
    const headline = '<script>alert("x")</script> & \'friends\'';
    const markup = html`<h3 title="${headline}">${headline}</h3>`.toString();
    expect(markup).toBe(
      `<h3 title="${escapeHtml(headline)}">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;friends&#39;</h3>`,
    );
    const nested = html`<ul>
      ${['a<b', 'c'].map((item) => html`<li>${item}</li>`)}
    </ul>`;
    expect(nested.toString()).toContain('<li>a&lt;b</li><li>c</li>');
    expect(html`${null}${undefined}${false}${0}`.toString()).toBe('0');
  });

  it('writes JSON for a script element that no text can end', () => {
    const json = jsonForScript({ headline: '</script><script>alert(1)</script> <!-- & -->' });
    expect(json.toString()).not.toMatch(/[<>&]/);
    expect(JSON.parse(json.toString())).toEqual({
      headline: '</script><script>alert(1)</script> <!-- & -->',
    });
  });
});

describe('an entry', () => {
  it('shows a hostile headline as text and links only http(s) sources', () => {
    const story = fold(
      opened(),
      reported('hostile', {
        headline: '<img src=x onerror=alert(1)>',
        sources: [
          { name: 'evil', url: 'javascript:alert(2)' },
          { name: 'good', url: 'https://example.org/a?b=1&c=2' },
        ],
      }),
    );
    const markup = renderEntry(entryOf(story, 'hostile'), story.story).toString();
    expect(markup).not.toContain('<img');
    expect(markup).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(markup).not.toContain('javascript:');
    expect(markup).toContain('href="https://example.org/a?b=1&amp;c=2"');
  });
});

describe('times', () => {
  const in2025 = Date.parse('2025-06-01T12:00:00Z');
  const in2026 = Date.parse('2026-06-01T12:00:00Z');

  it('names zones and gives the reader their own time, with the day when it differs', () => {
    expect(zoneLabel('Europe/Moscow')).toBe('Moscow');
    expect(zoneLabel('America/New_York')).toBe('New York');
    const at = '2025-12-03T00:30:00+03:00';
    expect(readerTime(at, 'Europe/Moscow', 'Europe/Moscow', in2025)).toBeNull();
    expect(readerTime(at, 'Europe/Moscow', 'Europe/London', in2025)).toBe('2 Dec 21:30 your time');
    expect(readerTime(at, 'Europe/Moscow', 'Europe/Istanbul', in2025)).toBe('00:30 your time');
  });

  it('shows the year of a date outside the current year, and only then', () => {
    const at = '2025-12-02T16:30:00+03:00';
    expect(formatInZone(at, 'Europe/Moscow', in2025)).toBe('2 Dec 16:30');
    expect(formatInZone(at, 'Europe/Moscow', in2026)).toBe('2 Dec 2025 16:30');
    expect(formatInZone(at, 'Europe/Moscow', Date.parse('2024-12-31T12:00:00Z'))).toBe(
      '2 Dec 2025 16:30',
    );
    // null: always (a feed is read long after it is written).
    expect(formatInZone(at, 'Europe/Moscow', null)).toBe('2 Dec 2025 16:30');
    expect(readerTime(at, 'Europe/Moscow', 'America/New_York', in2026)).toBe('08:30 your time');
  });

  it('takes the year in the zone: New Year’s Eve in New York is already next year in Moscow', () => {
    const at = '2025-12-31T23:30:00-05:00';
    const newYearsDay2026 = Date.parse('2026-01-01T12:00:00Z');
    expect(formatInZone(at, 'America/New_York', newYearsDay2026)).toBe('31 Dec 2025 23:30');
    expect(formatInZone(at, 'Europe/Moscow', newYearsDay2026)).toBe('1 Jan 07:30');
    expect(readerTime(at, 'America/New_York', 'Europe/Moscow', newYearsDay2026)).toBe(
      '1 Jan 07:30 your time',
    );
    expect(readerTime(at, 'Europe/Moscow', 'America/New_York', newYearsDay2026)).toBe(
      '31 Dec 2025 23:30 your time',
    );
  });

  it('describes what a correction replaced', () => {
    const previous = {
      headline: 'Old',
      occurredAt: '2025-12-02T16:30:00+03:00',
      actors: [{ name: 'A' }],
    };
    expect(describePrevious(previous, 'Europe/Moscow', in2025)).toBe(
      'headline “Old”; time 2 Dec 16:30 Moscow; people A',
    );
    expect(describePrevious(previous, 'Europe/Moscow', in2026)).toBe(
      'headline “Old”; time 2 Dec 2025 16:30 Moscow; people A',
    );
  });

  it('shows an entry’s times from another year with their year', () => {
    const story = fold(opened(), reported('talks'));
    const entry = { ...entryOf(story, 'talks'), occurredAt: '2019-03-04T10:00:00+03:00' };
    const markup = renderEntry(entry, story.story).toString();
    expect(markup).toContain('4 Mar 2019 10:00 Moscow');
  });
});
