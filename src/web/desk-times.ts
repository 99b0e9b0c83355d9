/**
 * The desk's `datetime-local` inputs speak the story's time zone, whatever the editor's browser
 * is set to: "2025-12-02T16:30" in Europe/Moscow is 2025-12-02T16:30:00+03:00. Offsets come from
 * the runtime's time-zone database through Intl, as everywhere else on the pages.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function partsIn(ms: number, timeZone: string): Record<string, number> {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  const parts: Record<string, number> = {};
  for (const part of formatter.formatToParts(new Date(ms))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return parts;
}

/** The zone's offset from UTC at an instant, in minutes (Moscow: 180). */
function offsetMinutes(ms: number, timeZone: string): number {
  const p = partsIn(ms, timeZone);
  const asUtc = Date.UTC(
    p['year'] ?? 1970,
    (p['month'] ?? 1) - 1,
    p['day'] ?? 1,
    p['hour'] ?? 0,
    p['minute'] ?? 0,
    p['second'] ?? 0,
  );
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60_000);
}

const two = (n: number) => String(n).padStart(2, '0');

/** An instant as a `datetime-local` value in the zone: "2025-12-02T16:30". */
export function localInputValue(iso: string | number, timeZone: string): string {
  const ms = typeof iso === 'number' ? iso : Date.parse(iso);
  const p = partsIn(ms, timeZone);
  return `${String(p['year']).padStart(4, '0')}-${two(p['month'] ?? 1)}-${two(p['day'] ?? 1)}T${two(p['hour'] ?? 0)}:${two(p['minute'] ?? 0)}`;
}

/**
 * A `datetime-local` value read in the zone, as ISO 8601 with that zone's offset then; null if
 * it is not a date and time. A time that a clock change skips moves forward by the gap.
 */
export function zonedInstant(local: string, timeZone: string): string | null {
  const match = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?$/.exec(local);
  if (match === null) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, ...number[]];
  const wall = Date.UTC(
    y ?? 0,
    (mo ?? 1) - 1,
    d ?? 1,
    h ?? 0,
    mi ?? 0,
    Number.isNaN(s) ? 0 : (s ?? 0),
  );
  // Twice: the offset at the first guess may differ from the one at the answer near a change.
  let utc = wall - offsetMinutes(wall, timeZone) * 60_000;
  utc = wall - offsetMinutes(utc, timeZone) * 60_000;
  const offset = offsetMinutes(utc, timeZone);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${localInputValue(utc, timeZone)}:${two(partsIn(utc, timeZone)['second'] ?? 0)}${sign}${two(Math.floor(abs / 60))}:${two(abs % 60)}`;
}
