/**
 * The live stream's promise across processes: two servers on one database, eight writers, and
 * fifty subscribers that drop at random moments and reconnect to either server with their last
 * position. Every subscriber ends with exactly its stories' events, in order, once each.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../support/harness.ts';
import { LiveClient, until } from '../support/live-client.ts';
import { development, opened } from '../support/live-server.ts';
import { exitOf, startServe } from '../support/run-cli.ts';

const stories = ['north', 'south', 'east'];
const writers = 8;
const totalEvents = 5000;
const subscriberCount = 50;

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

interface Subscriber {
  readonly stories: string[];
  readonly received: number[];
  readonly recovered: boolean[];
  connections: number;
  /** How many events it must end with; known once the writers are done. */
  target: number | null;
  current: LiveClient | null;
}

describe('two server processes, eight writers, fifty reconnecting subscribers', () => {
  let h: Harness;
  const servers: { child: ChildProcess; url: string }[] = [];

  beforeAll(async () => {
    h = await createHarness();
    for (const storyId of stories) {
      const response = await h.append(storyId, { events: [opened(storyId)] });
      expect(response.status).toBe(201);
    }
    for (let index = 0; index < 2; index += 1) {
      servers.push(
        await startServe({ DATABASE_URL: h.database.url, PORT: '0', STORYLINE_SEED: 'off' }),
      );
    }
  });

  afterAll(async () => {
    for (const server of servers) server.child.kill('SIGTERM');
    await Promise.all(servers.map((server) => exitOf(server.child)));
    await h.close();
  });

  it(
    'delivers every event of each subscriber’s stories exactly once, in order',
    { timeout: 300_000 },
    async () => {
      const next = random(20261127);
      const { body: start } = await h.getJson('/v1/events?limit=1');
      const startPosition: number = start.head;
      const epoch: string = start.epoch;
      let writing = true;

      const subscribers: Subscriber[] = Array.from({ length: subscriberCount }, () => ({
        stories: stories.filter(() => next() < 0.6),
        received: [],
        recovered: [],
        connections: 0,
        target: null,
        current: null,
      }));
      for (const subscriber of subscribers) {
        if (subscriber.stories.length === 0) subscriber.stories.push(stories[0] as string);
      }
      const complete = (subscriber: Subscriber) =>
        subscriber.target !== null && subscriber.received.length >= subscriber.target;

      /** One connection's life: subscribe from the last position, read, maybe drop. */
      const connectOnce = async (subscriber: Subscriber): Promise<void> => {
        const server = servers[Math.floor(next() * servers.length)] ?? servers[0];
        const after = subscriber.received.at(-1) ?? startPosition;
        subscriber.connections += 1;
        // Drop after a random number of events, by a clean close or by cutting the socket.
        const dropAfter = Math.floor(next() * 400) + 20;
        const abrupt = next() < 0.5;
        let seen = 0;
        const client = await LiveClient.open(
          server?.url ?? '',
          `?stories=${subscriber.stories.join(',')}&after=${after}&epoch=${epoch}`,
          {},
          (frame, self) => {
            if (frame.type === 'subscribed') subscriber.recovered.push(frame.recovered === true);
            if (frame.type !== 'event') return;
            subscriber.received.push(frame.event.position as number);
            seen += 1;
            if (complete(subscriber)) self.socket.close();
            else if (seen === dropAfter && writing) {
              if (abrupt) self.socket.terminate();
              else self.socket.close();
            }
          },
        );
        subscriber.current = client;
        await new Promise<void>((resolve) => {
          if (client.closed !== null) resolve();
          else client.socket.once('close', () => resolve());
        });
        subscriber.current = null;
      };

      const subscribing = subscribers.map(async (subscriber, index) => {
        // Connect while the writers are already at work.
        await new Promise((resolve) => setTimeout(resolve, index * 20));
        for (let attempt = 0; attempt < 1000 && !complete(subscriber); attempt += 1) {
          await connectOnce(subscriber);
        }
      });

      let sent = 0;
      const writing8 = Array.from({ length: writers }, async (_, writer) => {
        while (sent < totalEvents) {
          sent += 1;
          const storyId = stories[Math.floor(next() * stories.length)] as string;
          const server = servers[writer % servers.length];
          const response = await fetch(`${server?.url ?? ''}/v1/stories/${storyId}/events`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${h.token}` },
            body: JSON.stringify({ events: [development()] }),
          });
          expect(response.status).toBe(201);
        }
      });
      await Promise.all(writing8);
      writing = false;
      for (const subscriber of subscribers) {
        const { rows } = await h.storyline.connection.pool.query<{ count: number }>(
          'select count(*)::int8 as count from events where position > $1 and story_id = any($2)',
          [startPosition, subscriber.stories],
        );
        subscriber.target = rows[0]?.count ?? 0;
        if (complete(subscriber)) subscriber.current?.socket.close();
      }
      const behind = () =>
        JSON.stringify(
          subscribers
            .filter((subscriber) => !complete(subscriber))
            .map(({ stories: ids, received, target, connections }) => ({
              ids,
              received: received.length,
              last: received.at(-1),
              target,
              connections,
            })),
        );
      await until(() => subscribers.every(complete), 'every subscriber', 60_000).catch(
        (error: unknown) => {
          throw new Error(`${String(error)}; behind: ${behind()}`);
        },
      );
      await Promise.all(subscribing);

      const { rows } = await h.storyline.connection.pool.query<{
        position: number;
        story_id: string;
      }>('select position, story_id from events where position > $1 order by position', [
        startPosition,
      ]);
      expect(rows).toHaveLength(totalEvents);
      let reconnects = 0;
      for (const subscriber of subscribers) {
        const expected = rows
          .filter((row) => subscriber.stories.includes(row.story_id))
          .map((row) => row.position);
        expect(subscriber.received).toEqual(expected);
        expect(subscriber.recovered.every(Boolean)).toBe(true);
        reconnects += subscriber.connections - 1;
      }
      // The scenario really did reconnect, a lot.
      expect(reconnects).toBeGreaterThan(subscriberCount);
    },
  );
});
