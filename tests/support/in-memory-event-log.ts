/**
 * The EventLog port held in memory: the same contract as PostgreSQL's (tests/integration/
 * event-log-contract.test.ts runs one suite against both), so the app layer's append logic can be
 * tested without a database and the two implementations keep each other honest. A transaction's
 * writes are staged and applied only when its work resolves; one promise chain plays the lock.
 */
import type {
  AppendAttempt,
  AppendExpectations,
  EventLog,
  LogChanges,
  LogTransaction,
} from '../../src/app/ports.ts';
import { entryKey } from '../../src/app/ports.ts';
import type { RecordedEvent } from '../../src/domain/event-types.ts';
import type { StoryView, TimelineEntry } from '../../src/domain/story-view.ts';

export class InMemoryEventLog implements EventLog {
  readonly events: RecordedEvent[] = [];
  readonly stories = new Map<string, StoryView>();
  readonly entries = new Map<string, TimelineEntry>();
  readonly #ids = new Map<string, RecordedEvent>();
  #lock: Promise<unknown> = Promise.resolve();
  /** Set to make the next write fail after it was applied: a commit whose answer was lost. */
  loseNextCommitAnswer = false;

  get head(): number {
    return this.events.at(-1)?.position ?? 0;
  }

  appendIfCurrent(expected: AppendExpectations, changes: LogChanges): Promise<AppendAttempt> {
    return this.#locked(() => {
      const last = this.events.at(-1);
      const stale =
        expected.head !== this.head ||
        (last !== undefined && last.recordedAt > expected.recordedAt) ||
        [...expected.storyVersions].some(
          ([storyId, version]) => (this.stories.get(storyId)?.version ?? 0) !== version,
        ) ||
        expected.absentEntries.some(({ storyId, developmentId }) =>
          this.entries.has(entryKey(storyId, developmentId)),
        ) ||
        expected.eventIds.some((id) => this.#ids.has(id));
      if (stale) {
        return { written: false, head: this.head, lastRecordedAt: last?.recordedAt ?? null };
      }
      this.#apply(changes);
      return { written: true };
    });
  }

  withAppendLock<T>(work: (tx: LogTransaction) => Promise<T>): Promise<T> {
    return this.#locked(async () => {
      const tx = new InMemoryTransaction(this, this.#ids);
      const result = await work(tx);
      for (const changes of tx.staged) this.#apply(changes);
      return result;
    });
  }

  #apply(changes: LogChanges): void {
    for (const event of changes.events) {
      if (event.position !== this.head + 1) throw new Error(`gap before ${event.position}`);
      if (this.#ids.has(event.id)) throw new Error(`duplicate id ${event.id}`);
      this.events.push(event);
      this.#ids.set(event.id, event);
    }
    for (const story of changes.stories) this.stories.set(story.storyId, story);
    for (const { storyId, entry } of changes.entries) {
      this.entries.set(entryKey(storyId, entry.developmentId), entry);
    }
    if (this.loseNextCommitAnswer && changes.events.length > 0) {
      this.loseNextCommitAnswer = false;
      throw new Error('Connection terminated unexpectedly (after the commit)');
    }
  }

  #locked<T>(work: () => T | Promise<T>): Promise<T> {
    const run = this.#lock.then(work);
    this.#lock = run.catch(() => undefined);
    return run;
  }
}

class InMemoryTransaction implements LogTransaction {
  readonly head: number;
  readonly lastRecordedAt: string | null;
  readonly staged: LogChanges[] = [];
  readonly #log: InMemoryEventLog;
  readonly #ids: ReadonlyMap<string, RecordedEvent>;

  constructor(log: InMemoryEventLog, ids: ReadonlyMap<string, RecordedEvent>) {
    this.#log = log;
    this.#ids = ids;
    this.head = log.head;
    this.lastRecordedAt = log.events.at(-1)?.recordedAt ?? null;
  }

  findEvents(ids: readonly string[]): Promise<ReadonlyMap<string, RecordedEvent>> {
    return Promise.resolve(
      new Map(
        ids.flatMap((id) => {
          const event = this.#ids.get(id);
          return event === undefined ? [] : [[id, event] as const];
        }),
      ),
    );
  }

  loadStories(storyIds: readonly string[]): Promise<ReadonlyMap<string, StoryView>> {
    return Promise.resolve(
      new Map(
        storyIds.flatMap((storyId) => {
          const view = this.#log.stories.get(storyId);
          return view === undefined ? [] : [[storyId, view] as const];
        }),
      ),
    );
  }

  loadEntries(
    keys: readonly { readonly storyId: string; readonly developmentId: string }[],
  ): Promise<ReadonlyMap<string, TimelineEntry>> {
    return Promise.resolve(
      new Map(
        keys.flatMap(({ storyId, developmentId }) => {
          const key = entryKey(storyId, developmentId);
          const entry = this.#log.entries.get(key);
          return entry === undefined ? [] : [[key, entry] as const];
        }),
      ),
    );
  }

  write(changes: LogChanges): Promise<void> {
    this.staged.push(changes);
    return Promise.resolve();
  }

  storyIds(): Promise<readonly string[]> {
    return Promise.resolve([...new Set(this.#log.events.map((event) => event.storyId))]);
  }

  storyEvents(storyId: string): Promise<readonly RecordedEvent[]> {
    return Promise.resolve(this.#log.events.filter((event) => event.storyId === storyId));
  }

  clearViews(): Promise<void> {
    this.#log.stories.clear();
    this.#log.entries.clear();
    return Promise.resolve();
  }
}
