/**
 * Drafts over HTTP: kept privately until published, edited and cancelled only while unpublished,
 * validated like appends, guarded like appends, and published exactly once however often (and
 * however concurrently) "publish" is asked, with a crash between the append and the bookkeeping
 * healed by the next attempt.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  draftListSchema,
  draftPublishedSchema,
  draftResultSchema,
} from '../../src/adapters/http/draft-schemas.ts';
import { Drafts, type Draft } from '../../src/app/drafts.ts';
import { StorylineError } from '../../src/domain/errors.ts';
import type { RecordedEvent } from '../../src/domain/event-types.ts';
import { expectError } from '../support/api-errors.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { corrected, opened, retracted } from '../support/new-events.ts';

type NewEvent = Record<string, unknown>;

const reported = (developmentId: string, headline = `About ${developmentId}`): NewEvent => ({
  type: 'development.reported',
  data: { developmentId, kind: 'statement', headline },
});

let h: Harness;
let storyCount = 0;

/** A fresh, opened story. */
async function newStory(): Promise<string> {
  const storyId = `drafts-${++storyCount}`;
  const response = await h.append(storyId, { events: [opened(storyId)] });
  expect(response.status).toBe(201);
  return storyId;
}

function request(
  method: string,
  path: string,
  body?: unknown,
  token: string | null = h.token,
): Promise<Response> {
  return Promise.resolve(
    h.app.request(path, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(token === null ? {} : { Authorization: `Bearer ${token}` }),
      },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    }),
  );
}

/** The body of a response with that status, checked against its documented schema if given. */
async function expectJson<T>(
  response: Promise<Response>,
  status: number,
  schema?: z.ZodType,
): Promise<T> {
  const res = await response;
  const text = await res.text();
  expect(res.status, text).toBe(status);
  const body = JSON.parse(text) as T;
  if (schema !== undefined) {
    const parsed = schema.safeParse(body);
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
  }
  return body;
}

async function createDraft(storyId: string, body: unknown): Promise<Draft> {
  const { draft } = await expectJson<{ draft: Draft }>(
    request('POST', `/v1/stories/${storyId}/drafts`, body),
    201,
    draftResultSchema,
  );
  return draft;
}

const listDrafts = async (storyId: string, query = ''): Promise<Draft[]> =>
  (
    await expectJson<{ drafts: Draft[] }>(
      request('GET', `/v1/stories/${storyId}/drafts${query}`),
      200,
      draftListSchema,
    )
  ).drafts;

/** Every event of the whole log, as any reader can see it. */
async function publicLog(): Promise<RecordedEvent[]> {
  const { body } = await h.getJson('/v1/events?after=0&limit=1000');
  return body.events as RecordedEvent[];
}

beforeAll(async () => {
  h = await createHarness();
});

afterAll(async () => {
  await h.close();
});

describe('making, listing and editing drafts', () => {
  it('keeps a draft with ids fixed for each event, by its author, out of every public read', async () => {
    const storyId = await newStory();
    const before = await publicLog();
    const draft = await createDraft(storyId, {
      events: [reported('secret', 'Embargoed headline')],
    });

    expect(draft).toMatchObject({
      storyId,
      status: 'draft',
      publishAt: null,
      author: 'test desk',
      positions: null,
      lastError: null,
    });
    expect(draft.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(draft.events).toHaveLength(1);
    expect(draft.events[0]?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(draft.events[0]).toMatchObject(reported('secret', 'Embargoed headline'));

    expect(await listDrafts(storyId)).toEqual([draft]);
    const got = await expectJson<{ draft: Draft }>(
      request('GET', `/v1/stories/${storyId}/drafts/${draft.id}`),
      200,
    );
    expect(got.draft).toEqual(draft);

    // Nowhere public: the log, the story, its timeline, its feed.
    expect(await publicLog()).toEqual(before);
    for (const path of [
      `/v1/stories/${storyId}`,
      `/v1/stories/${storyId}/timeline`,
      `/v1/stories/${storyId}/events`,
      `/v1/stories/${storyId}/feed.atom`,
      `/stories/${storyId}`,
    ]) {
      const response = await h.app.request(path);
      expect(response.status, path).toBe(200);
      expect(await response.text(), path).not.toContain('Embargoed');
    }
  });

  it('answers drafts with Cache-Control: no-store', async () => {
    const storyId = await newStory();
    const response = await request('POST', `/v1/stories/${storyId}/drafts`, {
      events: [reported('a')],
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('Cache-Control')).toBe('no-store');
    const list = await request('GET', `/v1/stories/${storyId}/drafts`);
    expect(list.headers.get('Cache-Control')).toBe('no-store');
  });

  it('keeps ids the client gave, and schedules with publishAt, normalized to UTC', async () => {
    const storyId = await newStory();
    const id = randomUUID().toUpperCase();
    const draft = await createDraft(storyId, {
      events: [{ ...reported('later'), id }],
      publishAt: '2099-01-02T03:04:05+03:00',
    });
    expect(draft.status).toBe('scheduled');
    expect(draft.publishAt).toBe('2099-01-02T00:04:05.000Z');
    expect(draft.events[0]?.id).toBe(id.toLowerCase());
  });

  it('lists drafts and scheduled ones by publishAt, then by creation; other statuses on request', async () => {
    const storyId = await newStory();
    const plain = await createDraft(storyId, { events: [reported('plain')] });
    const late = await createDraft(storyId, {
      events: [reported('late')],
      publishAt: '2099-06-01T00:00:00Z',
    });
    const early = await createDraft(storyId, {
      events: [reported('early')],
      publishAt: '2099-01-01T00:00:00Z',
    });
    const plain2 = await createDraft(storyId, { events: [reported('plain2')] });
    const cancelled = await createDraft(storyId, { events: [reported('gone')] });
    await expectJson(request('DELETE', `/v1/stories/${storyId}/drafts/${cancelled.id}`), 200);

    expect((await listDrafts(storyId)).map((draft) => draft.id)).toEqual([
      early.id,
      late.id,
      plain.id,
      plain2.id,
    ]);
    expect((await listDrafts(storyId, '?status=cancelled')).map((draft) => draft.id)).toEqual([
      cancelled.id,
    ]);
    expect(await listDrafts(storyId, '?status=all')).toHaveLength(5);
    expect(await listDrafts('no-such-story')).toEqual([]);
    await expectError(
      request('GET', `/v1/stories/${storyId}/drafts?status=bogus`),
      400,
      'invalid_request',
    );
  });

  it('edits events and publishAt while a draft is unpublished', async () => {
    const storyId = await newStory();
    const draft = await createDraft(storyId, { events: [reported('edit-me')] });
    const path = `/v1/stories/${storyId}/drafts/${draft.id}`;

    const scheduled = await expectJson<{ draft: Draft }>(
      request('PATCH', path, { publishAt: '2099-01-01T00:00:00Z' }),
      200,
    );
    expect(scheduled.draft).toMatchObject({
      status: 'scheduled',
      publishAt: '2099-01-01T00:00:00.000Z',
      events: draft.events,
    });

    const edited = await expectJson<{ draft: Draft }>(
      request('PATCH', path, { events: [reported('edit-me', 'Better headline')] }),
      200,
    );
    expect(edited.draft.status).toBe('scheduled');
    expect(edited.draft.events[0]).toMatchObject(reported('edit-me', 'Better headline'));
    expect(edited.draft.events[0]?.id).toMatch(/^[0-9a-f-]{36}$/);

    const unscheduled = await expectJson<{ draft: Draft }>(
      request('PATCH', path, { publishAt: null }),
      200,
    );
    expect(unscheduled.draft).toMatchObject({ status: 'draft', publishAt: null });
    expect(Date.parse(unscheduled.draft.updatedAt)).toBeGreaterThanOrEqual(
      Date.parse(draft.updatedAt),
    );
  });

  it('cancels a draft; cancelling again changes nothing; a cancelled draft is not published', async () => {
    const storyId = await newStory();
    const draft = await createDraft(storyId, { events: [reported('cancel-me')] });
    const path = `/v1/stories/${storyId}/drafts/${draft.id}`;
    const first = await expectJson<{ draft: Draft }>(request('DELETE', path), 200);
    expect(first.draft.status).toBe('cancelled');
    const second = await expectJson<{ draft: Draft }>(request('DELETE', path), 200);
    expect(second.draft).toEqual(first.draft);
    expect(await listDrafts(storyId)).toEqual([]);

    await expectError(request('POST', `${path}/publish`), 409, 'draft_not_editable');
    await expectError(request('PATCH', path, { publishAt: null }), 409, 'draft_not_editable');
    expect(JSON.stringify(await publicLog())).not.toContain('cancel-me');
  });
});

describe('validation', () => {
  it('refuses what an append would refuse, with the same codes', async () => {
    const storyId = await newStory();
    const drafts = `/v1/stories/${storyId}/drafts`;
    await expectError(request('POST', drafts, '{"events": ['), 400, 'invalid_json');
    await expectError(request('POST', drafts, { events: [] }), 400, 'invalid_request');
    await expectError(request('POST', drafts, {}), 400, 'invalid_request');
    await expectError(
      request('POST', drafts, { events: [reported('x')], expectedVersion: 1 }),
      400,
      'invalid_request',
    );
    const bad = await expectError(
      request('POST', drafts, {
        events: [reported('ok'), { type: 'development.reported', data: {} }],
      }),
      400,
      'invalid_event',
    );
    expect(bad.message).toContain('events[1]');
    await expectError(
      request('POST', drafts, {
        events: [
          {
            type: 'development.reported',
            data: {
              developmentId: 'x',
              kind: 'statement',
              headline: 'h',
              sources: [{ name: 's', url: 'javascript:alert(1)' }],
            },
          },
        ],
      }),
      400,
      'invalid_event',
    );
    await expectError(
      request('POST', drafts, { events: [reported('x')], publishAt: 'tomorrow' }),
      400,
      'invalid_request',
    );
    await expectError(
      request('POST', drafts, { events: [reported('x')], publishAt: '2099-01-01T00:00:00' }),
      400,
      'invalid_request',
    );
    const id = randomUUID();
    await expectError(
      request('POST', drafts, {
        events: [
          { ...reported('a'), id },
          { ...reported('b'), id },
        ],
      }),
      400,
      'duplicate_id_in_request',
    );
    await expectError(
      request('POST', `/v1/stories/Bad_Id/drafts`, { events: [reported('x')] }),
      400,
      'invalid_request',
    );
    expect(await listDrafts(storyId)).toEqual([]);

    const draft = await createDraft(storyId, { events: [reported('x')] });
    const path = `${drafts}/${draft.id}`;
    await expectError(request('PATCH', path, { events: [] }), 400, 'invalid_request');
    await expectError(request('PATCH', path, { publishAt: 5 }), 400, 'invalid_request');
    await expectError(request('PATCH', path, { status: 'published' }), 400, 'invalid_request');
    await expectError(request('PATCH', path, { events: [{ type: 'nope' }] }), 400, 'invalid_event');
  });

  it('answers 404 draft_not_found for a draft that does not exist, or belongs to another story', async () => {
    const storyId = await newStory();
    const other = await newStory();
    const draft = await createDraft(storyId, { events: [reported('x')] });
    for (const path of [
      `/v1/stories/${storyId}/drafts/${randomUUID()}`,
      `/v1/stories/${storyId}/drafts/not-a-uuid`,
      `/v1/stories/${other}/drafts/${draft.id}`,
    ]) {
      await expectError(request('GET', path), 404, 'draft_not_found');
      await expectError(request('PATCH', path, { publishAt: null }), 404, 'draft_not_found');
      await expectError(request('DELETE', path), 404, 'draft_not_found');
      await expectError(request('POST', `${path}/publish`), 404, 'draft_not_found');
    }
  });
});

describe('credentials', () => {
  it('needs a token that may publish to the story, on every route', async () => {
    const storyId = await newStory();
    const draft = await createDraft(storyId, { events: [reported('x')] });
    const elsewhere = await h.storyline.tokens.create('elsewhere', ['some-other-story']);
    const here = await h.storyline.tokens.create('here only', [storyId]);
    const base = `/v1/stories/${storyId}/drafts`;
    const routes: [string, string, unknown?][] = [
      ['POST', base, { events: [reported('y')] }],
      ['GET', base],
      ['GET', `${base}/${draft.id}`],
      ['PATCH', `${base}/${draft.id}`, { publishAt: null }],
      ['DELETE', `${base}/${draft.id}`],
      ['POST', `${base}/${draft.id}/publish`],
    ];
    for (const [method, path, body] of routes) {
      await expectError(request(method, path, body, null), 401, 'unauthorized');
      await expectError(request(method, path, body, 'sl_not-a-real-token'), 401, 'unauthorized');
      await expectError(request(method, path, body, elsewhere), 403, 'forbidden');
    }
    // A token scoped to this story may do all of it.
    const made = await expectJson<{ draft: Draft }>(
      request('POST', base, { events: [reported('z')] }, here),
      201,
    );
    expect(made.draft.author).toBe('here only');
    expect((await listDrafts(storyId)).map((each) => each.id)).toEqual([draft.id, made.draft.id]);
    await expectJson(request('POST', `${base}/${made.draft.id}/publish`, undefined, here), 201);
  });
});

describe('publishing now', () => {
  it('appends the events with their ids, under the author’s name, and answers the same positions ever after', async () => {
    const storyId = await newStory();
    const draft = await createDraft(storyId, {
      events: [reported('p1', 'First'), reported('p2', 'Second')],
    });
    const path = `/v1/stories/${storyId}/drafts/${draft.id}`;
    const published = await expectJson<{ draft: Draft; version: number; positions: number[] }>(
      request('POST', `${path}/publish`),
      201,
      draftPublishedSchema,
    );
    expect(published.version).toBe(3);
    expect(published.positions).toHaveLength(2);
    expect(published.draft).toMatchObject({
      status: 'published',
      positions: published.positions,
      lastError: null,
    });

    const log = await publicLog();
    const appended = log.filter((event) => published.positions.includes(event.position));
    expect(appended.map((event) => event.id)).toEqual(draft.events.map((event) => event.id));
    expect(appended.map((event) => event.metadata['author'])).toEqual(['test desk', 'test desk']);

    const again = await expectJson<{ draft: Draft; version: number; positions: number[] }>(
      request('POST', `${path}/publish`),
      200,
      draftPublishedSchema,
    );
    expect(again.positions).toEqual(published.positions);
    expect(again.version).toBe(published.version);
    expect(await publicLog()).toEqual(log);

    await expectError(request('PATCH', path, { publishAt: null }), 409, 'draft_not_editable');
    await expectError(request('DELETE', path), 409, 'draft_not_editable');
    expect(await listDrafts(storyId)).toEqual([]);
    expect((await listDrafts(storyId, '?status=published')).map((each) => each.id)).toEqual([
      draft.id,
    ]);
  });

  it('appends once when many ask at the same time', async () => {
    const storyId = await newStory();
    const draft = await createDraft(storyId, { events: [reported('race')] });
    const responses = await Promise.all(
      Array.from({ length: 8 }, () =>
        request('POST', `/v1/stories/${storyId}/drafts/${draft.id}/publish`),
      ),
    );
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 200)).toHaveLength(7);
    const bodies = (await Promise.all(responses.map((response) => response.json()))) as {
      positions: number[];
    }[];
    expect(new Set(bodies.map((body) => JSON.stringify(body.positions))).size).toBe(1);
    const ids = (await publicLog()).map((event) => event.id);
    expect(ids.filter((id) => id === draft.events[0]?.id)).toHaveLength(1);
  });

  it('heals a crash between the append and marking the draft published', async () => {
    const storyId = await newStory();
    const draft = await createDraft(storyId, { events: [reported('crash')] });
    // As if a publisher claimed it and appended, then died before writing down the result.
    const claim = await h.storyline.draftStore.claim(storyId, draft.id, 60_000);
    expect(claim.claimed).toBe(true);
    const appended = await expectJson<{ positions: number[] }>(
      h.append(storyId, { events: draft.events }),
      201,
    );
    expect((await listDrafts(storyId, '?status=publishing')).map((each) => each.id)).toEqual([
      draft.id,
    ]);

    const healed = await expectJson<{ draft: Draft; positions: number[] }>(
      request('POST', `/v1/stories/${storyId}/drafts/${draft.id}/publish`),
      200,
    );
    expect(healed.positions).toEqual(appended.positions);
    expect(healed.draft.status).toBe('published');
    const ids = (await publicLog()).map((event) => event.id);
    expect(ids.filter((id) => id === draft.events[0]?.id)).toHaveLength(1);
  });

  it('keeps a draft publishing, not editable, when the append’s outcome is unknown, and retries it with the same ids', async () => {
    const storyId = await newStory();
    const draft = await createDraft(storyId, { events: [reported('lost-ack')] });
    // The append commits, but the answer is lost (a connection dying at commit).
    const flaky = new Drafts(h.storyline.draftStore, {
      append: async (request) => {
        await h.storyline.appender.append(request);
        throw new StorylineError('unavailable', 'the database is not reachable right now');
      },
    });
    await expect(flaky.publish(storyId, draft.id)).rejects.toMatchObject({ code: 'unavailable' });
    const [publishing] = await listDrafts(storyId, '?status=publishing');
    expect(publishing).toMatchObject({
      id: draft.id,
      lastError: { code: 'unavailable' },
      positions: null,
    });
    const path = `/v1/stories/${storyId}/drafts/${draft.id}`;
    await expectError(request('PATCH', path, { publishAt: null }), 409, 'draft_not_editable');
    await expectError(request('DELETE', path), 409, 'draft_not_editable');

    const retried = await expectJson<{ draft: Draft; positions: number[] }>(
      request('POST', `${path}/publish`),
      200,
      draftPublishedSchema,
    );
    expect(retried.draft).toMatchObject({ status: 'published', lastError: null, attempts: 2 });
    const ids = (await publicLog()).map((event) => event.id);
    expect(ids.filter((id) => id === draft.events[0]?.id)).toHaveLength(1);
  });

  it('marks a draft failed, with the reason, when the story no longer allows it, and does not retry it', async () => {
    const storyId = await newStory();
    expect((await h.append(storyId, { events: [reported('doomed')] })).status).toBe(201);
    const draft = await createDraft(storyId, {
      events: [corrected('doomed')],
      publishAt: '2000-01-01T00:00:00Z',
    });
    expect((await h.append(storyId, { events: [retracted('doomed')] })).status).toBe(201);
    const before = await publicLog();

    const refused = await expectError(
      request('POST', `/v1/stories/${storyId}/drafts/${draft.id}/publish`),
      422,
      'development_retracted',
    );
    expect(refused['draftId']).toBe(draft.id);
    const [failed] = await listDrafts(storyId, '?status=failed');
    expect(failed).toMatchObject({
      id: draft.id,
      status: 'failed',
      positions: null,
      lastError: { code: 'development_retracted' },
    });
    expect(failed?.lastError?.message).toContain('retracted');

    // Due by its time, but failed: the scheduler leaves it alone.
    const drafts = draftsOf(h);
    expect(await drafts.publishDue(10)).toBe(0);
    expect(await publicLog()).toEqual(before);

    // A failed draft can be cancelled, not edited.
    const path = `/v1/stories/${storyId}/drafts/${draft.id}`;
    await expectError(request('PATCH', path, { publishAt: null }), 409, 'draft_not_editable');
    expect((await expectJson<{ draft: Draft }>(request('DELETE', path), 200)).draft.status).toBe(
      'cancelled',
    );
  });
});

describe('publishing what is due', () => {
  it('publishes scheduled drafts whose time has come, in publishAt order, and leaves the rest', async () => {
    const storyId = await newStory();
    const second = await createDraft(storyId, {
      events: [reported('second')],
      publishAt: new Date(Date.now() - 1000).toISOString(),
    });
    const first = await createDraft(storyId, {
      events: [reported('first')],
      publishAt: new Date(Date.now() - 2000).toISOString(),
    });
    const future = await createDraft(storyId, {
      events: [reported('future')],
      publishAt: '2099-01-01T00:00:00Z',
    });
    const plain = await createDraft(storyId, { events: [reported('plain')] });

    const drafts = draftsOf(h);
    expect(await drafts.publishDue(10)).toBe(2);
    expect(await drafts.publishDue(10)).toBe(0);

    const published = await listDrafts(storyId, '?status=published');
    expect(published.map((draft) => draft.id).sort()).toEqual([first.id, second.id].sort());
    const position = (draft: Draft | undefined) =>
      published.find((each) => each.id === draft?.id)?.positions?.[0] ?? 0;
    expect(position(first)).toBeLessThan(position(second));
    expect((await listDrafts(storyId)).map((draft) => draft.id)).toEqual([future.id, plain.id]);
  });

  it('publishes a scheduled draft now on request, and the scheduler then leaves it alone', async () => {
    const storyId = await newStory();
    const draft = await createDraft(storyId, {
      events: [reported('early-bird')],
      publishAt: '2099-01-01T00:00:00Z',
    });
    const published = await expectJson<{ draft: Draft; positions: number[] }>(
      request('POST', `/v1/stories/${storyId}/drafts/${draft.id}/publish`),
      201,
      draftPublishedSchema,
    );
    expect(published.draft).toMatchObject({
      status: 'published',
      publishAt: '2099-01-01T00:00:00.000Z',
    });
    await sql`update drafts set publish_at = now() - interval '1 second' where id = ${draft.id}`.execute(
      h.storyline.connection.db,
    );
    const before = await publicLog();
    expect(await draftsOf(h).publishDue(10)).toBe(0);
    expect(await publicLog()).toEqual(before);
  });

  it('takes over a claim whose lease lapsed (its publisher died), appending nothing twice', async () => {
    const storyId = await newStory();
    const draft = await createDraft(storyId, {
      events: [reported('orphan')],
      publishAt: new Date(Date.now() - 1000).toISOString(),
    });
    // A publisher claimed it, appended, and died; its lease has run out.
    expect((await h.storyline.draftStore.claimDue(10, 60_000)).map((each) => each.id)).toContain(
      draft.id,
    );
    const appended = await expectJson<{ positions: number[] }>(
      h.append(storyId, { events: draft.events }),
      201,
    );
    const drafts = draftsOf(h);
    expect(await drafts.publishDue(10)).toBe(0); // still leased
    await sql`update drafts set claimed_until = now() - interval '1 second' where id = ${draft.id}`.execute(
      h.storyline.connection.db,
    );
    expect(await drafts.publishDue(10)).toBe(1);
    const [published] = await listDrafts(storyId, '?status=published');
    expect(published?.positions).toEqual(appended.positions);
    expect(published?.attempts).toBe(2);
  });
});

/** The use case on the harness's store and appender, as the scheduler runs it. */
const draftsOf = (harness: Harness): Drafts =>
  new Drafts(harness.storyline.draftStore, harness.storyline.appender);
