/**
 * Events as a newsroom client sends them to `POST /v1/stories/{id}/events` (README, "Append
 * events"): plain JSON, typed here by the wire format rather than by Storyline's internal types,
 * so the bench keeps compiling while the server's internals change. Bodies are varied text, not
 * one repeated letter, so PostgreSQL's compression does not make large rows look small.
 */

export interface AppendEvent {
  readonly id?: string;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly occurredAt?: string;
}

const words = [
  'talks',
  'kremlin',
  'envoy',
  'readout',
  'statement',
  'ceasefire',
  'delegation',
  'minister',
  'briefing',
  'sources',
  'confirmed',
  'denied',
  'meeting',
  'hours',
  'agreement',
  'proposal',
  'spokesman',
  'region',
  'frontline',
  'officials',
  'according',
  'reported',
  'earlier',
  'later',
];

/** Deterministic varied text of exactly `length` characters. */
export function text(length: number, seed = 1): string {
  let state = (seed * 2654435761) >>> 0 || 1;
  const parts: string[] = [];
  let size = 0;
  while (size < length) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    const word = words[state % words.length] ?? 'news';
    parts.push(word);
    size += word.length + 1;
  }
  return parts.join(' ').slice(0, length).padEnd(length, '.');
}

export function storyOpened(title: string): AppendEvent {
  return { type: 'story.opened', data: { title, timeZone: 'Europe/Moscow' } };
}

/** A `development.reported` whose JSON (as sent) is about `bytes` long. */
export function development(
  developmentId: string,
  options: { readonly bytes?: number; readonly kind?: string } = {},
): AppendEvent {
  const data = {
    developmentId,
    kind: options.kind ?? 'statement',
    headline: `Update ${developmentId}`,
    actors: [{ name: 'Dmitry Peskov', role: 'Kremlin spokesman' }],
    sources: [{ name: 'Kremlin briefing' }],
    body: '',
  };
  const event = { type: 'development.reported', data };
  const room = (options.bytes ?? 600) - JSON.stringify(event).length;
  data.body = text(Math.max(1, room), developmentId.length + room);
  return event;
}

/** A correction that replaces the body with one of `bodyBytes` characters (at most 20,000). */
export function correction(developmentId: string, bodyBytes: number, seed: number): AppendEvent {
  return {
    type: 'development.corrected',
    data: {
      developmentId,
      changes: { body: text(Math.min(bodyBytes, 20_000), seed) },
      note: `Corrected the account of ${developmentId}`,
      severity: 'correction',
    },
  };
}

/** A dispute of a development whose kind is `claim`. */
export function dispute(developmentId: string, seed: number): AppendEvent {
  return {
    type: 'claim.disputed',
    data: {
      developmentId,
      by: 'Ministry of Defence',
      statement: text(300, seed),
      sources: [{ name: 'Ministry briefing' }],
    },
  };
}

/** The JSON of one `development.reported` for the raw baselines: the same bytes Storyline gets. */
export const developmentJson = (developmentId: string, bytes = 600): string =>
  JSON.stringify(development(developmentId, { bytes }).data);
