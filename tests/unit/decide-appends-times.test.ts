/**
 * Recorded times in one append batch: an import may supply its own, which must not go back (from
 * the log's latest, or within the batch) nor run ahead of now by more than the skew; a request
 * without one is recorded now, never before a supplied time ahead of it in the same batch.
 */
import { describe, expect, it } from 'vitest';
import {
  decideAppends,
  recordedAtSkewMs,
  type DecisionState,
  type IdentifiedRequest,
} from '../../src/app/decide-appends.ts';
import { StorylineError } from '../../src/domain/errors.ts';
import { opened, uuidOf } from './story-builders.ts';

const empty: DecisionState = { story: () => null, entry: () => null, knownEvent: () => undefined };
const now = '2026-03-01T12:00:00.000Z';
const plus = (ms: number) => new Date(Date.parse(now) + ms).toISOString();

let next = 0;
const request = (storyId: string, recordedAt?: string): IdentifiedRequest => ({
  storyId,
  author: 'test',
  events: [{ ...opened(), id: uuidOf((next += 1)) }],
  ...(recordedAt === undefined ? {} : { recordedAt }),
});

const decide = (requests: IdentifiedRequest[], lastRecordedAt: string | null = null) =>
  decideAppends(empty, requests, { head: 0, recordedAt: now, lastRecordedAt });

describe('recorded times in a batch', () => {
  it('keeps supplied times and records the rest now', () => {
    const { changes, outcomes } = decide([
      request('a', '2025-12-02T07:00:00.000Z'),
      request('b', '2025-12-02T07:00:00.000Z'),
      request('c'),
    ]);
    expect(outcomes.every((outcome) => !(outcome instanceof StorylineError))).toBe(true);
    expect(changes.events.map((event) => event.recordedAt)).toEqual([
      '2025-12-02T07:00:00.000Z',
      '2025-12-02T07:00:00.000Z',
      now,
    ]);
  });

  it('records a request without a time no earlier than a supplied time just ahead of now', () => {
    const ahead = plus(30_000);
    const { changes } = decide([request('a', ahead), request('b')]);
    expect(changes.events.map((event) => event.recordedAt)).toEqual([ahead, ahead]);
  });

  it('refuses a time before the log’s latest, or before an earlier request of the batch', () => {
    const { outcomes, changes } = decide(
      [
        request('a', '2025-12-01T00:00:00.000Z'),
        request('b', '2025-12-03T00:00:00.000Z'),
        request('c', '2025-12-02T12:00:00.000Z'),
      ],
      '2025-12-02T00:00:00.000Z',
    );
    expect(outcomes[0]).toBeInstanceOf(StorylineError);
    expect((outcomes[0] as StorylineError).message).toContain(
      'before the latest event in the log (2025-12-02T00:00:00.000Z)',
    );
    expect(outcomes[1]).not.toBeInstanceOf(StorylineError);
    expect((outcomes[2] as StorylineError).message).toContain(
      'before the latest event in the log (2025-12-03T00:00:00.000Z)',
    );
    expect(changes.events.map((event) => event.storyId)).toEqual(['b']);
  });

  it('does not let a refused request move the batch’s latest time', () => {
    const refused: IdentifiedRequest = {
      ...request('a', '2025-12-03T00:00:00.000Z'),
      expectedVersion: 5, // a version conflict: refused before its time counts
    };
    const { outcomes } = decide([refused, request('b', '2025-12-02T00:00:00.000Z')]);
    expect(outcomes[0]).toMatchObject({ code: 'version_conflict' });
    expect(outcomes[1]).not.toBeInstanceOf(StorylineError);
  });

  it('refuses a time further ahead of now than the skew', () => {
    expect(decide([request('a', plus(recordedAtSkewMs))]).outcomes[0]).not.toBeInstanceOf(
      StorylineError,
    );
    const { outcomes } = decide([request('a', plus(recordedAtSkewMs + 1))]);
    expect((outcomes[0] as StorylineError).message).toContain('in the future');
  });
});
