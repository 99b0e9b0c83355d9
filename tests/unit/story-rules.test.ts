/**
 * The newsroom's rules as given/when/then specifications: given the events already in a story's
 * log, when an editor submits one more, then it is accepted or rejected with a stable code.
 */
import { describe, expect, it } from 'vitest';
import { StorylineError, type ErrorCode } from '../../src/domain/errors.ts';
import type { StoryEventBody } from '../../src/domain/event-types.ts';
import { checkRules } from '../../src/domain/story-rules.ts';
import {
  applyLive,
  corrected,
  disputed,
  emptyState,
  entryNamedBy,
  opened,
  pinned,
  record,
  reported,
  retracted,
  statusChanged,
  storyId,
  summaryRevised,
  unpinned,
} from './story-builders.ts';

function given(...history: StoryEventBody[]) {
  const state = emptyState();
  history.forEach((event, index) => {
    // A specification built on an impossible history would prove nothing.
    const broken = checkRules(storyId, state.story, entryNamedBy(state, event), event);
    if (broken !== null) throw new Error(`given[${index}] (${event.type}) breaks ${broken.code}`);
    applyLive(state, record(event, index + 1));
  });
  return {
    when(event: StoryEventBody) {
      const outcome = () => checkRules(storyId, state.story, entryNamedBy(state, event), event);
      return {
        thenAccepts(): void {
          expect(outcome()).toBeNull();
        },
        thenRejects(code: ErrorCode): StorylineError {
          const error = outcome();
          expect(error).toBeInstanceOf(StorylineError);
          expect(error?.code).toBe(code);
          return error as StorylineError;
        },
      };
    },
  };
}

describe('opening a story', () => {
  it('accepts story.opened as the first event', () => {
    given().when(opened()).thenAccepts();
  });

  it('rejects any other first event: the story has not been opened', () => {
    given().when(reported('talks')).thenRejects('story_not_opened');
    given().when(summaryRevised('Talks begin')).thenRejects('story_not_opened');
    given().when(statusChanged('paused')).thenRejects('story_not_opened');
  });

  it('rejects opening a story twice', () => {
    given(opened()).when(opened()).thenRejects('story_already_opened');
  });

  it('rejects opening a story twice even after it was closed', () => {
    given(opened(), statusChanged('closed')).when(opened()).thenRejects('story_already_opened');
  });
});

describe('reporting developments', () => {
  it('accepts a new development', () => {
    given(opened()).when(reported('talks')).thenAccepts();
  });

  it('rejects a second report with the same developmentId and names it', () => {
    const error = given(opened(), reported('talks'))
      .when(reported('talks', { headline: 'Talks, again' }))
      .thenRejects('development_already_reported');
    expect(error.details).toEqual({ developmentId: 'talks' });
  });

  it('rejects reporting again a development that was retracted', () => {
    given(opened(), reported('talks'), retracted('talks'))
      .when(reported('talks'))
      .thenRejects('development_already_reported');
  });
});

describe('acting on a development that was never reported', () => {
  const story = [opened(), reported('talks')];

  it.each([
    ['correcting', corrected('ghost', { headline: 'Ghost' })],
    ['disputing', disputed('ghost', 'Kremlin')],
    ['pinning', pinned('ghost')],
    ['unpinning', unpinned('ghost')],
    ['retracting', retracted('ghost')],
  ])('rejects %s it as development_not_found', (_, event) => {
    const error = given(...story)
      .when(event)
      .thenRejects('development_not_found');
    expect(error.details).toEqual({ developmentId: 'ghost' });
  });
});

describe('acting on a retracted development', () => {
  const story = [opened(), reported('talks'), retracted('talks')];

  it.each([
    ['correcting', corrected('talks', { headline: 'Talks, corrected' })],
    ['disputing', disputed('talks', 'Kremlin')],
    ['pinning', pinned('talks')],
    ['retracting it twice', retracted('talks', 'still wrong')],
  ])('rejects %s as development_retracted', (_, event) => {
    given(...story)
      .when(event)
      .thenRejects('development_retracted');
  });

  it('rejects unpinning it because the retraction already unpinned it', () => {
    given(opened(), reported('talks'), pinned('talks'), retracted('talks'))
      .when(unpinned('talks'))
      .thenRejects('development_not_pinned');
  });
});

describe('pinning', () => {
  it('accepts pinning a reported development', () => {
    given(opened(), reported('talks')).when(pinned('talks')).thenAccepts();
  });

  it('accepts unpinning the pinned development', () => {
    given(opened(), reported('talks'), pinned('talks')).when(unpinned('talks')).thenAccepts();
  });

  it('rejects unpinning a development that is not pinned', () => {
    given(opened(), reported('talks'))
      .when(unpinned('talks'))
      .thenRejects('development_not_pinned');
  });

  it('rejects unpinning a development that another pin replaced', () => {
    given(opened(), reported('talks'), reported('dinner'), pinned('talks'), pinned('dinner'))
      .when(unpinned('talks'))
      .thenRejects('development_not_pinned');
  });
});

describe('corrections and disputes', () => {
  it('accepts correcting, disputing and retracting a live development', () => {
    const story = given(opened(), reported('talks', { kind: 'claim' }));
    story.when(corrected('talks', { headline: 'Talks last five hours' })).thenAccepts();
    story.when(disputed('talks', 'Kyiv')).thenAccepts();
    story.when(retracted('talks')).thenAccepts();
  });
});

describe('story status', () => {
  it('accepts pausing a live story and resuming it', () => {
    given(opened()).when(statusChanged('paused')).thenAccepts();
    given(opened(), statusChanged('paused')).when(statusChanged('live')).thenAccepts();
  });

  it('rejects a status change to the status the story already has', () => {
    given(opened()).when(statusChanged('live')).thenRejects('status_unchanged');
    given(opened(), statusChanged('paused'))
      .when(statusChanged('paused'))
      .thenRejects('status_unchanged');
  });

  describe('a closed story', () => {
    const closed = [opened(), reported('talks'), pinned('talks'), statusChanged('closed')];

    it.each([
      ['a report', reported('dinner')],
      ['a correction', corrected('talks', { headline: 'Talks end' })],
      ['a retraction', retracted('talks')],
      ['a pin', pinned('talks')],
      ['an unpin', unpinned('talks')],
      ['a dispute', disputed('talks', 'Kyiv')],
      ['a summary revision', summaryRevised('Talks end without a deal')],
      ['closing it again', statusChanged('closed')],
    ])('rejects %s as story_closed', (_, event) => {
      given(...closed)
        .when(event)
        .thenRejects('story_closed');
    });

    it('accepts a reopen: story.status_changed to live', () => {
      given(...closed)
        .when(statusChanged('live'))
        .thenAccepts();
    });

    it('accepts events again once reopened', () => {
      given(...closed, statusChanged('live'))
        .when(reported('dinner'))
        .thenAccepts();
    });
  });
});
