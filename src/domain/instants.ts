/**
 * Ordering ISO 8601 instants exactly. `Date.parse` keeps milliseconds only, while PostgreSQL (and
 * so the timeline endpoint) keeps microseconds; comparing the digits past the millisecond too
 * makes the fold order developments exactly as the database does.
 */
export function compareInstants(a: string, b: string): number {
  return Date.parse(a) - Date.parse(b) || subMillisecond(a) - subMillisecond(b);
}

/** The digits after the millisecond, as nanoseconds (0 to 999,999). */
function subMillisecond(iso: string): number {
  const fraction = /\.(\d+)/.exec(iso)?.[1] ?? '';
  return Number(fraction.slice(3, 9).padEnd(6, '0'));
}
