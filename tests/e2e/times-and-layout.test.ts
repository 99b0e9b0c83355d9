/**
 * Times that tell the truth, in real Chromium: the seeded story shows when it last changed (its
 * original times, with their year), the replay names the year too, the page offers its Atom feed,
 * the first update is on the first screen of a phone, and the home page lists every story with
 * its status, last update and counts.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opened, type LiveServer } from '../support/live-server.ts';
import {
  connectionIs,
  eventually,
  expectNoScriptErrors,
  launchChromium,
  pageOpener,
  seededStoryId as storyId,
} from './support/chromium.ts';
import { startSeededLiveServer } from './support/seeded-server.ts';

describe('times, feeds and layout on the page', () => {
  let live: LiveServer;
  let browser: Browser;
  const { opened: pages, open } = pageOpener(
    () => browser,
    () => live.url,
  );

  beforeAll(async () => {
    live = await startSeededLiveServer();
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const page of pages) expectNoScriptErrors(page);
    await browser.close();
    await live.close();
  });

  it('shows when the seeded story last changed, with the year of dates outside this one', async () => {
    const { page } = await open(`/stories/${storyId}`);
    // The story's last event was recorded at 08:15 UTC on 3 December 2025: 11:15 in Moscow.
    await expect(page.locator('#story-status').textContent()).resolves.toContain(
      'Updated 3 Dec 2025 11:15 Moscow',
    );
    await expect(page.locator('#entry-meeting-ends .when time').textContent()).resolves.toBe(
      '3 Dec 2025 00:30 Moscow',
    );
    // The reader (New York) gets their own time, on their own day, with its year.
    await expect(page.locator('#entry-meeting-ends .reader-time').textContent()).resolves.toBe(
      ' · 2 Dec 2025 16:30 your time',
    );
    // A correction is dated after the entry it corrects.
    await expect(page.locator('#entry-meeting-starts').textContent()).resolves.toContain(
      'Corrected 3 Dec 2025 00:50 Moscow',
    );
  });

  it('names the year in the replay', async () => {
    const { page } = await open(`/stories/${storyId}`);
    await connectionIs(page, 'live');
    await page.locator('#replay').waitFor();
    await page.locator('#replay-scrubber').focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowRight');
    await eventually(
      () => page.locator('#replay-position').textContent(),
      (text) => text?.includes('Event 2 of') === true && text.includes('2025'),
      'the replay label with the year',
    );
  });

  it('offers the Atom feed: an autodiscovery link and a visible link', async () => {
    const { page } = await open(`/stories/${storyId}`);
    const feedPath = `/v1/stories/${storyId}/feed.atom`;
    await expect(
      page.locator('link[rel="alternate"][type="application/atom+xml"]').getAttribute('href'),
    ).resolves.toBe(feedPath);
    const visible = page.locator(`a[href="${feedPath}"]`);
    await expect(visible.isVisible()).resolves.toBe(true);
    await expect(visible.textContent()).resolves.toMatch(/feed/i);
    const feed = await fetch(`${live.url}${feedPath}`);
    expect(feed.headers.get('content-type')).toMatch(/^application\/atom\+xml/);
  });

  it('shows the first update on the first screen of a 390 px phone, panels below', async () => {
    const { page } = await open(`/stories/${storyId}`, { width: 390, height: 844 });
    await connectionIs(page, 'live');
    const first = page.locator('#timeline-entries > li').first();
    const entry = await first.boundingBox();
    const headline = await first.locator('h3').boundingBox();
    expect(entry).not.toBeNull();
    expect(headline).not.toBeNull();
    if (entry === null || headline === null) return;
    expect(entry.y).toBeGreaterThanOrEqual(0);
    expect(headline.y + headline.height).toBeLessThanOrEqual(844);
    // Nothing is wider than the screen.
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth');
    expect(overflow).toBeLessThanOrEqual(390);
    // The side panels come after the updates.
    const side = await page.locator('.live-blog-side').boundingBox();
    expect(side?.y ?? 0).toBeGreaterThan(entry.y);
  });

  it('lists the stories on the home page: live first, with status, last update and counts', async () => {
    // A story updated after the seeded one, but paused: it comes after the live one.
    await live.post('paused-story', [
      opened('A paused story'),
      { type: 'story.status_changed', data: { status: 'paused' } },
    ]);
    const { page } = await open('/');
    const cards = page.locator('.story-list > li');
    await expect(cards.count()).resolves.toBe(2);
    const seeded = cards.nth(0);
    await expect(seeded.locator('h2').textContent()).resolves.toContain('Putin hosts Witkoff');
    await expect(seeded.locator('.badge').textContent()).resolves.toBe('Live');
    await expect(seeded.textContent()).resolves.toContain('Updated 3 Dec 2025 11:15 Moscow');
    const { body } = await live.h.getJson(`/v1/stories/${storyId}`);
    await expect(seeded.locator('.story-card-counts').innerText()).resolves.toBe(
      `${body.counts.developments} updates · ${body.counts.corrections} corrections`,
    );
    const paused = cards.nth(1);
    await expect(paused.locator('.badge').textContent()).resolves.toBe('Paused');
    await expect(paused.locator('.story-card-counts').innerText()).resolves.toBe(
      '0 updates · 0 corrections',
    );
  });
});
