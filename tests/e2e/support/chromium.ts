/**
 * Real Chromium for the browser tests: Debian's `chromium` package, driven by playwright-core
 * (which never downloads a browser of its own). Each page records what must never happen: a
 * dialog (an injected script ran) or a Content-Security-Policy violation.
 */
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Page,
  type Response,
} from 'playwright-core';
import { expect } from 'vitest';
import { until } from '../../support/live-client.ts';

export const chromiumPath = '/usr/bin/chromium';

/** The story in events/, which the server under test seeds into its empty database. */
export const seededStoryId = 'kremlin-talks';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export interface OpenedPage {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly response: Response | null;
  /** Messages of any alert/confirm/prompt the page opened. */
  readonly dialogs: string[];
  /** Console errors about the Content-Security-Policy. */
  readonly cspViolations: string[];
  /** Uncaught errors in the page's script. */
  readonly pageErrors: string[];
  close(): Promise<void>;
}

/** Opens `url` in a fresh context, in a reader's zone other than the story's. */
export async function openPage(
  browser: Browser,
  url: string,
  options: { viewport?: { width: number; height: number } } = {},
): Promise<OpenedPage> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 900 },
    timezoneId: 'America/New_York',
    locale: 'en-GB',
  });
  const page = await context.newPage();
  const dialogs: string[] = [];
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('console', (message) => {
    if (/content security policy/i.test(message.text())) cspViolations.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  const response = await page.goto(url);
  return {
    context,
    page,
    response,
    dialogs,
    cspViolations,
    pageErrors,
    close: () => context.close(),
  };
}

/**
 * Opens pages under a base URL known once the suite's server is up, and keeps every one, so
 * the suite can check them all for script errors at its end.
 */
export function pageOpener(browser: () => Browser, base: () => string) {
  const opened: OpenedPage[] = [];
  const open = async (pathname: string, viewport?: { width: number; height: number }) => {
    const page = await openPage(browser(), `${base()}${pathname}`, viewport ? { viewport } : {});
    opened.push(page);
    return page;
  };
  return { opened, open };
}

/** Asserts the page's script threw nothing and broke no Content-Security-Policy rule. */
export function expectNoScriptErrors(opened: OpenedPage): void {
  expect(opened.pageErrors, 'uncaught errors in the page').toEqual([]);
  expect(opened.cspViolations, 'Content-Security-Policy violations').toEqual([]);
}

/** Waits until the page's live connection says `state` (the page's own indicator). */
export async function connectionIs(page: Page, state: string): Promise<void> {
  await page.locator(`#connection[data-state="${state}"]`).waitFor({ timeout: 60_000 });
}

/** Polls a page value until `accept` holds; fails after the deadline naming what it waited for. */
export async function eventually<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  what: string,
  ms = 30_000,
): Promise<T> {
  let last: T | undefined;
  try {
    await until(
      async () => {
        last = await read();
        return accept(last);
      },
      what,
      ms,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; last value: ${JSON.stringify(last)}`);
  }
  return last as T;
}

/** The development ids on the timeline, top to bottom. */
export function timelineIds(page: Page): Promise<string[]> {
  return page
    .locator('#timeline-entries > li')
    .evaluateAll((items) => items.map((item) => item.getAttribute('data-development-id') ?? ''));
}
