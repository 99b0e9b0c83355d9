/**
 * The newsroom desk in real Chromium: two editors (two browser contexts, one of them 390 px
 * wide) and a reader on the public page, against a real server and PostgreSQL. Sign in, open a
 * story, publish, correct with a diff, retract, pin, collide and resolve without losing text,
 * resend after a lost answer without publishing twice, and sign out.
 */
import type { ChildProcess } from 'node:child_process';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStoryline, type Storyline } from '../../src/composition.ts';
import { localInputValue } from '../../src/web/desk-times.ts';
import { silentLogger } from '../support/harness.ts';
import { startLiveServer, type LiveServer } from '../support/live-server.ts';
import { startServe, stopRunning } from '../support/run-cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import {
  connectionIs,
  eventually,
  expectNoScriptErrors,
  launchChromium,
  openPage,
  type OpenedPage,
} from './support/chromium.ts';

interface Editor {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly errors: string[];
}

describe('the desk', () => {
  let live: LiveServer;
  let browser: Browser;
  let token: string;
  let alice: Editor;
  let bob: Editor;
  let reader: OpenedPage;
  let storyId = '';
  const firstHeadline = 'Envoys land in Geneva for a second round';

  const newEditor = async (viewport: { width: number; height: number }): Promise<Editor> => {
    const context = await browser.newContext({
      viewport,
      timezoneId: 'Europe/Berlin',
      locale: 'en-GB',
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (/content security policy/i.test(message.text())) errors.push(message.text());
    });
    return { context, page, errors };
  };
  const entry = (page: Page, headline: string | RegExp) =>
    page.locator('li.desk-entry').filter({ has: page.getByRole('heading', { name: headline }) });
  const compose = (page: Page) => page.locator('form#compose');
  const readerEntry = (headline: string) =>
    reader.page.locator('#timeline-entries > li').filter({ hasText: headline });

  async function signIn(editor: Editor, secret: string): Promise<void> {
    await editor.page.goto(`${live.url}/desk`);
    await editor.page.getByLabel('Publish token').fill(secret);
    // The keyboard alone: Enter submits.
    await editor.page.getByLabel('Publish token').press('Enter');
  }

  async function publish(page: Page, headline: string, body?: string): Promise<void> {
    const form = compose(page);
    await form.getByLabel('Headline').fill(headline);
    if (body !== undefined) await form.getByLabel('Body').fill(body);
    await form.getByRole('button', { name: 'Publish' }).click();
    await entry(page, headline).waitFor();
  }

  beforeAll(async () => {
    live = await startLiveServer();
    token = await live.h.storyline.tokens.create('Alice');
    browser = await launchChromium();
    alice = await newEditor({ width: 1280, height: 900 });
    bob = await newEditor({ width: 390, height: 844 });
  });

  afterAll(async () => {
    for (const editor of [alice, bob]) {
      expect(editor.errors, 'script errors and CSP violations on the desk').toEqual([]);
      await editor.context.close();
    }
    // Unset if an earlier step failed.
    const readerPage = reader as OpenedPage | undefined;
    if (readerPage !== undefined) {
      expectNoScriptErrors(readerPage);
      await readerPage.close();
    }
    await browser.close();
    await live.close();
  });

  it('signs in with a publish token into a session cookie that is not the token', async () => {
    await signIn(alice, 'sl_not-a-token');
    await expect(alice.page.locator('#token-error').textContent()).resolves.toContain(
      'unknown or revoked',
    );
    await expect(alice.page.getByLabel('Publish token').getAttribute('aria-invalid')).resolves.toBe(
      'true',
    );

    await signIn(alice, token);
    await alice.page.getByRole('heading', { name: 'Stories' }).waitFor();
    const cookies = await alice.context.cookies();
    const session = cookies.find((cookie) => cookie.name === 'storyline_desk');
    expect(session).toBeDefined();
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe('Strict');
    expect(session?.value).not.toContain(token);
    expect(JSON.stringify(cookies)).not.toContain(token);

    const bobToken = await live.h.storyline.tokens.create('Bob');
    await signIn(bob, bobToken);
    await bob.page.getByRole('heading', { name: 'Stories' }).waitFor();
  });

  it('opens a new story, its time zone taken from the browser', async () => {
    await alice.page.getByRole('link', { name: 'New story' }).click();
    await eventually(
      () => alice.page.getByLabel('Time zone').inputValue(),
      (zone) => zone === 'Europe/Berlin',
      'the time zone to default to the browser’s',
    );
    await alice.page.getByLabel('Title').fill('Geneva talks, second round');
    await alice.page.getByLabel('Summary').fill('Envoys meet again in Geneva.');
    await alice.page.getByLabel('Tags').fill('diplomacy, ukraine');
    await alice.page.getByRole('button', { name: 'Open story' }).click();
    await alice.page.waitForURL(/\/desk\/stories\//);
    storyId = new URL(alice.page.url()).pathname.split('/').at(-1) ?? '';
    const story = await live.h.getJson(`/v1/stories/${storyId}`);
    expect(story.body).toMatchObject({
      title: 'Geneva talks, second round',
      summary: 'Envoys meet again in Geneva.',
      timeZone: 'Europe/Berlin',
      tags: ['diplomacy', 'ukraine'],
    });

    // Bob finds it in his list, live stories first, by its title.
    await bob.page.reload();
    await bob.page.getByRole('link', { name: 'Geneva talks, second round' }).click();
    await bob.page.waitForURL(/\/desk\/stories\//);
    await connectionIs(alice.page, 'live');
    await connectionIs(bob.page, 'live');
    reader = await openPage(browser, `${live.url}/stories/${storyId}`);
    await connectionIs(reader.page, 'live');
  });

  it('shows the server’s validation message next to the field', async () => {
    const form = compose(alice.page);
    await form.getByLabel('Body').fill('A body without a headline.');
    await form.getByRole('button', { name: 'Publish' }).click();
    const error = alice.page.locator('#compose-headline-error');
    await error.waitFor();
    await expect(error.textContent()).resolves.toMatch(/\S/);
    await expect(form.getByLabel('Headline').getAttribute('aria-invalid')).resolves.toBe('true');
    // Nothing was lost: the body is still there.
    await expect(form.getByLabel('Body').inputValue()).resolves.toBe('A body without a headline.');
  });

  it('publishes with Ctrl+Enter after a preview; the reader and the colleague see it live', async () => {
    const form = compose(alice.page);
    await form.getByLabel('Headline').fill(firstHeadline);
    await form
      .getByLabel('Body')
      .fill(
        'The delegations arrived overnight.\n\nTalks start at noon (https://example.org/agenda). <script>alert(1)</script>',
      );
    await form.getByLabel('Kind').selectOption('diplomatic');
    await form.getByLabel('Actors').fill('Steve Witkoff, US envoy');
    await form.getByLabel('Location').fill('Geneva');
    await form.getByLabel('Sources').fill('Reuters https://www.reuters.com/world/');
    await form.getByLabel('Key event').check();
    const preview = form.locator('[data-preview] li');
    await expect(preview.locator('h3').textContent()).resolves.toBe(firstHeadline);
    await expect(preview.locator('.entry-body').count()).resolves.toBe(2);
    await expect(preview.locator('.tag-key').count()).resolves.toBe(1);
    await expect(
      preview.locator('.entry-body a[href="https://example.org/agenda"]').count(),
    ).resolves.toBe(1);

    await form.getByLabel('Headline').press('Control+Enter');
    await entry(alice.page, firstHeadline).waitFor();
    await expect(form.getByLabel('Headline').inputValue()).resolves.toBe('');

    await readerEntry(firstHeadline).waitFor();
    await expect(
      readerEntry(firstHeadline).locator('a[href^="https://www.reuters.com"]').count(),
    ).resolves.toBe(1);
    await expect(readerEntry(firstHeadline).textContent()).resolves.toContain('<script>');
    await expect(
      readerEntry(firstHeadline)
        .locator('.entry-body a[href="https://example.org/agenda"]')
        .count(),
    ).resolves.toBe(1);
    await entry(bob.page, firstHeadline).waitFor();
    await bob.page
      .locator('#desk-activity')
      .getByText(`Alice published “${firstHeadline}”`)
      .waitFor();
  });

  it('corrects an entry with a diff of what readers will see', async () => {
    const item = entry(alice.page, firstHeadline);
    await item.getByRole('button', { name: 'Correct' }).click();
    const form = item.locator('form[data-form="correct"]');
    await expect(form.getByLabel('Headline').inputValue()).resolves.toBe(firstHeadline);
    await expect(form.getByLabel('Location').inputValue()).resolves.toBe('Geneva');
    const corrected = 'Envoys land in Geneva for a third round';
    await form.getByLabel('Headline').fill(corrected);
    await form.getByLabel('Note').fill('It is the third round, not the second.');
    await form.getByLabel('Correction', { exact: true }).check();
    const diff = form.locator('.diff-preview');
    await expect(diff.locator('del').first().textContent()).resolves.toBe(firstHeadline);
    await expect(diff.locator('ins').first().textContent()).resolves.toBe(corrected);
    await expect(diff.locator('.entry-corrections').textContent()).resolves.toContain(
      'It is the third round',
    );
    await form.getByRole('button', { name: 'Publish correction' }).click();

    await readerEntry(corrected).waitFor();
    await expect(
      readerEntry(corrected).locator('.entry-corrections').textContent(),
    ).resolves.toContain('It is the third round, not the second.');
    const body = await live.h.getJson(`/v1/stories/${storyId}/corrections`);
    expect(body.body.corrections).toHaveLength(1);
    expect(body.body.corrections[0]).toMatchObject({
      severity: 'correction',
      changes: { headline: corrected },
      previous: { headline: firstHeadline },
    });
  });

  it('retracts an entry with a reason, and pins another', async () => {
    const wrong = 'Talks moved to Vienna';
    await publish(alice.page, wrong);
    const item = entry(alice.page, wrong);
    await item.getByRole('button', { name: 'Retract' }).click();
    await item.getByLabel('Reason').fill('The venue did not change.');
    await item.getByRole('button', { name: 'Retract' }).last().click();
    await readerEntry(wrong).locator('.retraction').waitFor();
    await expect(readerEntry(wrong).locator('.retraction').textContent()).resolves.toContain(
      'The venue did not change.',
    );

    const pinned = entry(alice.page, /third round/);
    await pinned.getByRole('button', { name: 'Pin' }).click();
    await reader.page
      .locator('#pinned .pinned-headline')
      .getByText(/third round/)
      .waitFor();
    await pinned.getByRole('button', { name: 'Unpin' }).waitFor();
  });

  it('disputes a claim, revises the key points and sets the status, from the 390 px desk', async () => {
    const claim = 'Moscow says the talks will move to Riyadh';
    await publish(alice.page, claim);
    const item = entry(bob.page, claim);
    await item.getByRole('button', { name: 'Dispute' }).click();
    await item.getByLabel('Disputed by').fill('Kyiv');
    await item.getByLabel('Statement').fill('No venue change was agreed.');
    await item.getByRole('button', { name: 'Publish dispute' }).click();
    await readerEntry(claim)
      .locator('.disputes')
      .getByText('No venue change was agreed.')
      .waitFor();

    // The keyboard alone: focus the field, type, Tab to the button, Enter.
    await bob.page.getByLabel('Key points').focus();
    await bob.page.keyboard.type('Envoys meet in Geneva\nA third round is planned');
    await bob.page.keyboard.press('Tab');
    await expect(
      bob.page.evaluate<string>(
        "document.activeElement.tagName + ': ' + document.activeElement.textContent.trim()",
      ),
    ).resolves.toBe('BUTTON: Revise key points');
    await bob.page.keyboard.press('Enter');
    await reader.page.locator('#key-points li').getByText('A third round is planned').waitFor();

    await bob.page.getByLabel('Status').selectOption('paused');
    await bob.page.getByRole('button', { name: 'Set status' }).click();
    await reader.page.locator('#story-status .badge').getByText('Paused').waitFor();
    await alice.page.locator('#desk-activity').getByText('Bob set the status to paused').waitFor();
  });

  it('shows a conflict between two editors and resolves it with no text lost', async () => {
    const headline = 'Kremlin comments on the talks';
    await publish(alice.page, headline, 'Peskov: no comment yet.');
    await entry(bob.page, headline).waitFor();

    // Alice starts a correction of the headline…
    const aliceItem = entry(alice.page, headline);
    await aliceItem.getByRole('button', { name: 'Correct' }).click();
    const aliceForm = aliceItem.locator('form[data-form="correct"]');
    const aliceHeadline = 'Kremlin: too early to judge the talks';
    await aliceForm.getByLabel('Headline').fill(aliceHeadline);
    await aliceForm.getByLabel('Note').fill('Peskov spoke after all.');

    // …while Bob corrects the body of the same entry and publishes first.
    const bobItem = entry(bob.page, headline);
    await bobItem.getByRole('button', { name: 'Correct' }).click();
    const bobForm = bobItem.locator('form[data-form="correct"]');
    await bobForm.getByLabel('Body').fill('Peskov: it is too early to judge.');
    await bobForm.getByLabel('Note').fill('Peskov’s words.');
    await bobForm.getByRole('button', { name: 'Publish correction' }).click();
    await readerEntry('Peskov: it is too early to judge.').waitFor();

    await aliceForm.getByRole('button', { name: 'Publish correction' }).click();
    const conflict = aliceForm.locator('.conflict');
    await conflict.getByText('This story changed while you were working.').waitFor();
    await expect(conflict.textContent()).resolves.toContain('Bob corrected');
    await expect(conflict.textContent()).resolves.toContain('too early to judge');
    await expect(aliceForm.getByLabel('Headline').inputValue()).resolves.toBe(aliceHeadline);
    await expect(aliceForm.getByLabel('Note').inputValue()).resolves.toBe(
      'Peskov spoke after all.',
    );

    await aliceForm.getByRole('button', { name: 'Publish correction' }).click();
    await readerEntry(aliceHeadline).waitFor();
    // Bob's body stands: Alice's correction changed only the headline she edited.
    await expect(readerEntry(aliceHeadline).locator('.entry-body').textContent()).resolves.toBe(
      'Peskov: it is too early to judge.',
    );
  });

  it('resends an unacknowledged post with the same ids: published once', async () => {
    const headline = 'Delegations break for lunch';
    const sent: string[] = [];
    await alice.page.route(`**/v1/stories/${storyId}/events`, async (route) => {
      if (route.request().method() !== 'POST') return route.fallback();
      const body = route.request().postDataJSON() as { events: { id: string }[] };
      sent.push(body.events[0]?.id ?? '');
      if (sent.length > 1) return route.fallback();
      // The server gets the post and appends it; the desk never hears back.
      await route.fetch();
      await route.abort('connectionreset');
    });
    await publish(alice.page, headline);
    // Acknowledged at last (the form clears only then), by a resend with the same id.
    await eventually(
      () => compose(alice.page).getByLabel('Headline').inputValue(),
      (value) => value === '',
      'the post to be acknowledged',
    );
    await alice.page.locator('#desk-pending').waitFor({ state: 'hidden' });
    await alice.page.unroute(`**/v1/stories/${storyId}/events`);
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(new Set(sent).size).toBe(1);
    await readerEntry(headline).waitFor();
    const timeline = await live.h.getJson(`/v1/stories/${storyId}/timeline?limit=100`);
    const copies = timeline.body.entries.filter((item: any) => item.headline === headline);
    expect(copies).toHaveLength(1);
    await expect(readerEntry(headline).count()).resolves.toBe(1);
  });

  it('is readable at 390 px and refuses API writes without the CSRF header', async () => {
    const overflow = await bob.page.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(overflow).toBeLessThanOrEqual(0);

    const status = await bob.page.evaluate(async (id) => {
      const response = await fetch(`/v1/stories/${id}/events`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          events: [{ type: 'story.status_changed', data: { status: 'paused' } }],
        }),
      });
      return response.status;
    }, storyId);
    expect(status).toBe(403);
  });

  it('signs out: the session is gone on the server too', async () => {
    const csrf = await bob.page.locator('meta[name="csrf-token"]').getAttribute('content');
    await bob.page.getByRole('button', { name: 'Sign out' }).click();
    await bob.page.getByLabel('Publish token').waitFor();
    const status = await bob.page.evaluate(
      async ({ id, token }) => {
        const response = await fetch(`/v1/stories/${id}/events`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': token ?? '' },
          body: JSON.stringify({
            events: [{ type: 'story.status_changed', data: { status: 'paused' } }],
          }),
        });
        return response.status;
      },
      { id: storyId, token: csrf },
    );
    expect(status).toBe(401);
    await eventually(
      () => bob.context.cookies(),
      (cookies) => !cookies.some((cookie) => cookie.name === 'storyline_desk'),
      'the session cookie to be cleared',
    );
  });
});

describe('drafts and scheduling on the desk, with two server processes', () => {
  let database: TestDatabase;
  let storyline: Storyline;
  let browser: Browser;
  let editor: OpenedPage | undefined;
  let reader: OpenedPage | undefined;
  const servers: ChildProcess[] = [];
  const storyId = 'tokyo-summit';
  const zone = 'Asia/Tokyo';

  beforeAll(async () => {
    database = await createTestDatabase();
    storyline = await openStoryline(
      { databaseUrl: database.url, dataDir: '/nonexistent', poolSize: 2 },
      silentLogger,
    );
    await storyline.appender.append({
      storyId,
      author: 'e2e',
      events: [{ type: 'story.opened', data: { title: 'Tokyo summit', timeZone: zone } }],
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const opened of [editor, reader]) {
      if (opened === undefined) continue;
      expectNoScriptErrors(opened);
      await opened.close();
    }
    await browser.close();
    await stopRunning(servers);
    await storyline.close();
    await database.drop();
  });

  it('publishes a scheduled entry at its time, once, and drafts on demand or never', async () => {
    const env = {
      DATABASE_URL: database.url,
      HOST: '127.0.0.1',
      PORT: '0',
      STORYLINE_SEED: 'off',
      STORYLINE_SCHEDULER_INTERVAL_MS: '200',
    };
    // Two processes on one database, each running the scheduler.
    const [first, second] = await Promise.all([startServe(env), startServe(env)]);
    servers.push(first.child, second.child);
    const token = await storyline.tokens.create('Scheduler desk');

    editor = await openPage(browser, `${first.url}/desk`);
    const { page } = editor;
    await page.getByLabel('Publish token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Tokyo summit' }).click();
    await connectionIs(page, 'live');
    reader = await openPage(browser, `${second.url}/stories/${storyId}`);
    await connectionIs(reader.page, 'live');
    const form = page.locator('form#compose');
    const drafts = page.locator('#desk-drafts');

    // A draft, cancelled: it never reaches the log.
    await form.getByLabel('Headline').fill('Draft that is never published');
    await form.getByRole('button', { name: 'Save draft' }).click();
    const cancelled = drafts.locator('li').filter({ hasText: 'Draft that is never published' });
    await cancelled.waitFor();
    await cancelled.getByRole('button', { name: 'Cancel' }).click();
    await cancelled.waitFor({ state: 'detached' });

    // A draft, published now.
    await form.getByLabel('Headline').fill('Leaders arrive at the venue');
    await form.getByRole('button', { name: 'Save draft' }).click();
    const now = drafts.locator('li').filter({ hasText: 'Leaders arrive at the venue' });
    await now.getByRole('button', { name: 'Publish now' }).click();
    await reader.page
      .locator('#timeline-entries > li')
      .filter({ hasText: 'Leaders arrive' })
      .waitFor();

    // Scheduled a few seconds ahead, in the story's zone (the editor's browser is elsewhere).
    const publishAt = Date.now() + 4000;
    const local = `${localInputValue(publishAt, zone)}:${String(new Date(publishAt).getUTCSeconds()).padStart(2, '0')}`;
    await form.getByLabel('Headline').fill('Joint statement at noon');
    await form.getByLabel('Publish at').fill(local);
    await form.getByRole('button', { name: 'Schedule' }).click();
    const scheduled = drafts.locator('li').filter({ hasText: 'Joint statement at noon' });
    await expect(scheduled.textContent()).resolves.toContain('Scheduled for');
    await scheduled.getByRole('button', { name: 'Publish now' }).waitFor();

    const entry = reader.page
      .locator('#timeline-entries > li')
      .filter({ hasText: 'Joint statement' });
    await entry.waitFor({ timeout: 30_000 });
    await scheduled.waitFor({ state: 'detached' });
    const { events } = (await (
      await fetch(`${second.url}/v1/stories/${storyId}/events?after=0&limit=100`)
    ).json()) as { events: any[] };
    const published = events.filter((event) => event.data.headline === 'Joint statement at noon');
    expect(published).toHaveLength(1);
    expect(Date.parse(published[0].recordedAt)).toBeGreaterThanOrEqual(
      Math.floor(publishAt / 1000) * 1000,
    );
    expect(events.some((event) => event.data.headline === 'Draft that is never published')).toBe(
      false,
    );
    await expect(entry.count()).resolves.toBe(1);
  });
});
