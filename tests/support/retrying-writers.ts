/**
 * Writers as a careful client is told to write: every event carries an id the client chose, and
 * a request that failed (a refused or cut connection, a 503) is sent again, unchanged, until it
 * gets an answer. An event counts as acknowledged once a 201 or 200 says so; a request is never
 * abandoned, so at the end every event sent is acknowledged.
 */
import { randomUUID } from 'node:crypto';

export interface Acknowledged {
  readonly id: string;
  readonly storyId: string;
  readonly position: number;
}

export interface WriterRun {
  readonly acknowledged: Acknowledged[];
  /** Failed attempts by what they got: a status, or `network` for a cut or refused connection. */
  readonly failures: Map<string, number>;
  /** Resolves when every writer has had each of its events acknowledged. */
  readonly done: Promise<void>;
}

export interface WriterOptions {
  readonly writers: number;
  readonly perWriter: number;
  readonly stories: readonly string[];
  readonly token: string;
  /** Where to send the next attempt (the server may have moved to another port). */
  readonly url: () => string;
  /** Gives up on one event after this long; a bound for the test, never reached when healthy. */
  readonly deadlineMs?: number;
}

export function startRetryingWriters(options: WriterOptions): WriterRun {
  const acknowledged: Acknowledged[] = [];
  const failures = new Map<string, number>();
  const fail = (what: string) => failures.set(what, (failures.get(what) ?? 0) + 1);
  const deadlineMs = options.deadlineMs ?? 45_000;

  const send = async (storyId: string, event: unknown): Promise<void> => {
    const body = JSON.stringify({ events: [event] });
    const deadline = Date.now() + deadlineMs;
    for (let attempt = 0; ; attempt += 1) {
      if (Date.now() > deadline) throw new Error(`no answer for an append within ${deadlineMs} ms`);
      try {
        const response = await fetch(`${options.url()}/v1/stories/${storyId}/events`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${options.token}` },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        if (response.status === 201 || response.status === 200) {
          const { positions } = (await response.json()) as { positions: number[] };
          const id = (event as { id: string }).id;
          acknowledged.push({ id, storyId, position: positions[0] as number });
          return;
        }
        fail(String(response.status));
        await response.body?.cancel();
        if (response.status !== 503) {
          throw new Error(`append answered ${response.status}, which no retry can change`);
        }
      } catch (error) {
        if (error instanceof Error && error.message.startsWith('append answered')) throw error;
        fail('network');
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(20 * 2 ** attempt, 250)));
    }
  };

  const done = Promise.all(
    Array.from({ length: options.writers }, async (_, writer) => {
      for (let index = 0; index < options.perWriter; index += 1) {
        const storyId = options.stories[(writer + index) % options.stories.length] as string;
        await send(storyId, {
          id: randomUUID(),
          type: 'development.reported',
          data: {
            developmentId: `w${writer}-${index}-${randomUUID().slice(0, 8)}`,
            kind: 'statement',
            headline: `update ${index} from writer ${writer}`,
          },
        });
      }
    }),
  ).then(() => undefined);
  return { acknowledged, failures, done };
}
