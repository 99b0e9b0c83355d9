/**
 * Times as the live blog shows them: in the story's zone ("2 Dec 16:30 Moscow"), and, added by
 * the browser, in the reader's ("14:30 your time"). A date outside the current year shows its
 * year ("2 Dec 2025 16:30"). Formats are assembled from parts so the server and the browser
 * print exactly the same text.
 *
 * Pure: "now" is always passed in (the page, the desk, the feed and the replay pass their clock),
 * so the same inputs give the same text anywhere.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      day: 'numeric',
      month: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

interface Parts {
  /** "2 Dec" */
  readonly day: string;
  readonly year: string;
  readonly clock: string;
}

function partsOf(instant: string | number, timeZone: string): Parts {
  const parts = formatterFor(timeZone).formatToParts(new Date(instant));
  const part = (type: Intl.DateTimeFormatPartTypes) =>
    parts.find((candidate) => candidate.type === type)?.value ?? '';
  return {
    day: `${part('day')} ${part('month')}`,
    year: part('year'),
    clock: `${part('hour')}:${part('minute')}`,
  };
}

/** "2 Dec", or "2 Dec 2025" when that is not the year `now` is in (in the same zone). */
function dayText(parts: Parts, timeZone: string, now: number | null): string {
  const sameYear = now !== null && partsOf(now, timeZone).year === parts.year;
  return sameYear ? parts.day : `${parts.day} ${parts.year}`;
}

/** "Europe/Moscow" → "Moscow", "America/New_York" → "New York". */
export function zoneLabel(timeZone: string): string {
  return (timeZone.split('/').at(-1) ?? timeZone).replace(/_/g, ' ');
}

/**
 * "2 Dec 16:30" in the given zone; "2 Dec 2025 16:30" when its year is not the year of `now`
 * (epoch milliseconds) in that zone. `now` null: always with the year (for text read long after
 * it is written, such as a feed).
 */
export function formatInZone(iso: string, timeZone: string, now: number | null): string {
  const parts = partsOf(iso, timeZone);
  return `${dayText(parts, timeZone, now)} ${parts.clock}`;
}

/**
 * The reader's part of a time: "14:30 your time", with the date when it falls on another day
 * than in the story's zone (and its year when that is not the current one); `null` when the
 * reader is in the story's zone.
 */
export function readerTime(
  iso: string,
  storyZone: string,
  readerZone: string,
  now: number,
): string | null {
  if (readerZone === storyZone) return null;
  const story = partsOf(iso, storyZone);
  const reader = partsOf(iso, readerZone);
  const sameDay = reader.day === story.day && reader.year === story.year;
  const when = sameDay ? reader.clock : `${dayText(reader, readerZone, now)} ${reader.clock}`;
  return `${when} your time`;
}
