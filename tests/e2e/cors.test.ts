/**
 * CORS in real Chromium: a live-blog front-end served from another origin (a tiny server of its
 * own on another port) reads a story with fetch, follows it over Server-Sent Events with
 * EventSource, and appends with its token when its origin is on the write list. A page from an
 * origin not on that list can still read, but its append fails in the browser and never reaches
 * the log.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type RunningServer } from '../../src/composition.ts';
import { readConfig } from '../../src/config.ts';
import { createHarness, silentLogger, type Harness } from '../support/harness.ts';
import { development } from '../support/live-server.ts';
import { eventually, launchChromium, openPage, type OpenedPage } from './support/chromium.ts';

/** The front-end's own script: what a live-blog page on another site would do. */
const frontEndScript = `
window.seen = { snapshots: 0, events: [], errors: 0 };
// A request the browser refuses rejects with a TypeError: kept as \`failed\` for the test to see.
const settled = (work) => work().catch((error) => ({ failed: String(error) }));
window.readStory = (url) =>
  settled(async () => {
    const response = await fetch(url);
    return {
      status: response.status,
      etag: response.headers.get('ETag'),
      requestId: response.headers.get('X-Request-Id'),
      body: await response.json(),
    };
  });
window.readAgain = (url, etag) =>
  settled(async () => ({ status: (await fetch(url, { headers: { 'If-None-Match': etag } })).status }));
window.follow = (url) => {
  const source = new EventSource(url);
  source.addEventListener('snapshot', () => { window.seen.snapshots += 1; });
  source.addEventListener('event', (message) => { window.seen.events.push(JSON.parse(message.data)); });
  source.onerror = () => { window.seen.errors += 1; };
};
window.append = (url, token, body) =>
  settled(async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  });
`;

/** A server for the front-end's page: its port makes it an origin of its own. */
async function startFrontEnd(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html><title>Front-end</title><script>${frontEndScript}</script>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const call = <T>(page: Page, name: string, ...args: unknown[]): Promise<T> =>
  page.evaluate<T>(`${name}(${args.map((arg) => JSON.stringify(arg)).join(', ')})`);

describe('a front-end on another origin, in Chromium', () => {
  let h: Harness;
  let api: RunningServer;
  let browser: Browser;
  let desk: { server: Server; origin: string };
  let elsewhere: { server: Server; origin: string };
  const pages: OpenedPage[] = [];
  const storyId = 'cross-origin';

  beforeAll(async () => {
    desk = await startFrontEnd();
    elsewhere = await startFrontEnd();
    h = await createHarness();
    // Reads from any origin (the default); writes from the desk's only.
    const config = readConfig({ STORYLINE_CORS_WRITE_ORIGINS: desk.origin });
    api = await startHttpServer(
      h.storyline,
      { ...config, host: '127.0.0.1', port: 0 },
      silentLogger,
    );
    const opened = await h.append(storyId, {
      events: [{ type: 'story.opened', data: { title: 'Across origins', timeZone: 'UTC' } }],
    });
    expect(opened.status).toBe(201);
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const page of pages) await page.close();
    await browser.close();
    await api.close();
    await h.close();
    for (const frontEnd of [desk, elsewhere]) {
      await new Promise((resolve) => frontEnd.server.close(resolve));
    }
  });

  const open = async (origin: string) => {
    const page = await openPage(browser, `${origin}/`);
    pages.push(page);
    expect(page.pageErrors).toEqual([]);
    return page.page;
  };

  it('reads the story, follows it over SSE and appends from the write origin', async () => {
    const page = await open(desk.origin);
    const storyUrl = `${api.url}/v1/stories/${storyId}`;

    const story = await call<{
      status: number;
      etag: string | null;
      requestId: string | null;
      body: any;
    }>(page, 'readStory', storyUrl);
    expect(story, JSON.stringify(story)).toMatchObject({ status: 200 });
    expect(story.body.title).toBe('Across origins');
    // Exposed to the page's script, so it can revalidate and quote the request in a report.
    expect(story.etag).toMatch(/^"[0-9a-f-]+:p\d+"$/);
    expect(story.requestId).toMatch(/.+/);
    // If-None-Match is not a safelisted header: this goes through a preflight first.
    expect(await call(page, 'readAgain', storyUrl, story.etag)).toEqual({ status: 304 });

    await call(page, 'follow', `${storyUrl}/live`);
    await eventually(
      () => page.evaluate<number>('window.seen.snapshots'),
      (snapshots) => snapshots === 1,
      'the snapshot over SSE',
    );

    const event = development('Posted from the desk on another origin');
    const appended = await call<{ status?: number; body?: any; failed?: string }>(
      page,
      'append',
      `${storyUrl}/events`,
      h.token,
      { events: [event] },
    );
    expect(appended).toMatchObject({ status: 201, body: { storyId } });
    const received = await eventually(
      () => page.evaluate<any[]>('window.seen.events'),
      (events) => events.length === 1,
      'the appended event over SSE',
    );
    expect(received[0]).toMatchObject({ storyId, data: { headline: event.data.headline } });
  });

  it('from an origin not on the write list: reads work, the append fails in the browser', async () => {
    const page = await open(elsewhere.origin);
    const storyUrl = `${api.url}/v1/stories/${storyId}`;
    const before = await call<{ status: number; body: any }>(page, 'readStory', storyUrl);
    expect(before, JSON.stringify(before)).toMatchObject({ status: 200 });

    const refused = await call<{ status?: number; failed?: string }>(
      page,
      'append',
      `${storyUrl}/events`,
      h.token,
      { events: [development('Posted from a stranger')] },
    );
    expect(refused.status).toBeUndefined();
    expect(refused.failed).toMatch(/TypeError: Failed to fetch/);

    // The preflight stopped it: the POST never reached the log.
    const after = (await (await fetch(storyUrl)).json()) as { version: number };
    expect(after.version).toBe(before.body.version);
  });
});
