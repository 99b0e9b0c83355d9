/**
 * The WebSocket protocol's commands and frames (JSON text frames). Documented in README.md;
 * a type or field here is a promise to clients.
 */
import { z } from 'zod';
import type { SubscribeCommand } from '../../app/live-session.ts';
import type { StorySnapshot } from '../../app/live-snapshots.ts';
import type { RecordedEvent } from '../../domain/event-types.ts';
import { storyIdSchema } from '../../domain/event-types.ts';

const position = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const stories = z.union([z.literal('*'), z.array(storyIdSchema).min(1).max(1000)]);

export const liveCommandSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('subscribe'),
    stories,
    after: position.optional(),
    epoch: z.string().max(64).optional(),
  }),
  z.strictObject({ type: z.literal('unsubscribe'), stories }),
  z.strictObject({
    type: z.literal('replay'),
    storyId: storyIdSchema,
    from: position.optional(),
    until: position.optional(),
    speed: z.number().min(0).max(1_000_000),
    clock: z.enum(['recorded', 'occurred']).optional(),
  }),
  z.strictObject({ type: z.literal('ping') }),
]);
export type LiveCommand = z.infer<typeof liveCommandSchema>;

/** `{"type":"event","event":{envelope}}`: the envelope has a `type` of its own. */
export const encodeEventFrame = (event: RecordedEvent): Buffer =>
  Buffer.from(JSON.stringify({ type: 'event', event }));

/** `{"type":"snapshot","storyId","position","state"}`, made once per snapshot for everyone. */
export const encodeSnapshotFrame = ({ storyId, position, state }: StorySnapshot): Buffer =>
  Buffer.from(JSON.stringify({ type: 'snapshot', storyId, position, state }));

/** Close codes, each with the position to resume after in its reason where one applies. */
export const closeCodes = {
  goingAway: 1001,
  policyViolation: 1008,
  tooBig: 1009,
  /** The log was replaced (a restored database): resume with your epoch for fresh snapshots. */
  logReplaced: 1012,
  /** A subscription failed on the server's side (the database is away). */
  tryAgainLater: 1013,
  slowConsumer: 4008,
} as const;

/** Query parameters that subscribe at connect: `?stories=a,b` or `*`, `after`, `epoch`. */
export function subscribeFromQuery(url: URL): SubscribeCommand | null | Error {
  const list = url.searchParams.get('stories');
  if (list === null) return null;
  const after = url.searchParams.get('after');
  const epoch = url.searchParams.get('epoch');
  const parsed = liveCommandSchema.safeParse({
    type: 'subscribe',
    stories: list === '*' ? '*' : list.split(',').filter((id) => id !== ''),
    ...(after === null ? {} : { after: /^\d+$/.test(after) ? Number(after) : after }),
    ...(epoch === null ? {} : { epoch }),
  });
  if (!parsed.success || parsed.data.type !== 'subscribe') {
    return new Error(parsed.success ? 'not a subscription' : z.prettifyError(parsed.error));
  }
  const { type: _type, ...command } = parsed.data;
  return command;
}
