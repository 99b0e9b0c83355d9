/**
 * A live subscriber that does what the protocol asks of a client: when its connection ends (a
 * server killed, restarted or shutting down) it connects again, to wherever the server now is,
 * with the last position it received and the epoch, and keeps every event it was sent.
 */
import { LiveClient, until } from './live-client.ts';

export interface ResumingSubscriber {
  /** Positions of the events received, in arrival order, over every connection. */
  readonly received: number[];
  /** `recovered` of each `subscribed` frame. */
  readonly recovered: boolean[];
  readonly connections: () => number;
  /** Waits until `count` events have arrived. */
  waitFor(count: number, what: string, ms?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startResumingSubscriber(options: {
  readonly url: () => string;
  readonly stories: readonly string[];
  readonly after: number;
  readonly epoch: string;
}): Promise<ResumingSubscriber> {
  const received: number[] = [];
  const recovered: boolean[] = [];
  let connections = 0;
  /** Objects, so that what a callback changes is seen by the loops. */
  const state: { stopped: boolean; current: LiveClient | null } = { stopped: false, current: null };

  const connectOnce = async (): Promise<void> => {
    const after = received.at(-1) ?? options.after;
    const client = await LiveClient.open(
      options.url(),
      `?stories=${options.stories.join(',')}&after=${after}&epoch=${options.epoch}`,
      {},
      (frame) => {
        if (frame.type === 'subscribed') recovered.push(frame.recovered === true);
        if (frame.type === 'event') received.push(frame.event.position as number);
      },
    );
    connections += 1;
    state.current = client;
    if (state.stopped) void client.close();
    await new Promise<void>((resolve) => {
      if (client.closed !== null) resolve();
      else client.socket.once('close', () => resolve());
    });
    state.current = null;
  };

  const running = (async () => {
    while (!state.stopped) {
      try {
        await connectOnce();
      } catch {
        // The server is down or not yet back: try again shortly.
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  })();
  await until(() => connections > 0 || state.stopped, 'the first subscription');

  return {
    received,
    recovered,
    connections: () => connections,
    waitFor: (count, what, ms = 30_000) => until(() => received.length >= count, what, ms),
    stop: async () => {
      state.stopped = true;
      await state.current?.close();
      await running;
    },
  };
}
