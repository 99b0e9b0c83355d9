/**
 * Times as the live blog shows them: in the story's zone ("2 Dec 16:30 Moscow"), and, added by
 * the browser, in the reader's ("14:30 your time"). Formats are assembled from parts so the
 * server and the browser print exactly the same text.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-GB', {
      timeZone,
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
  readonly day: string;
  readonly clock: string;
}

function partsOf(iso: string, timeZone: string): Parts {
  const parts = formatterFor(timeZone).formatToParts(new Date(iso));
  const part = (type: Intl.DateTimeFormatPartTypes) =>
    parts.find((candidate) => candidate.type === type)?.value ?? '';
  return {
    day: `${part('day')} ${part('month')}`,
    clock: `${part('hour')}:${part('minute')}`,
  };
}

/** "Europe/Moscow" → "Moscow", "America/New_York" → "New York". */
export function zoneLabel(timeZone: string): string {
  return (timeZone.split('/').at(-1) ?? timeZone).replace(/_/g, ' ');
}

/** "2 Dec 16:30" in the given zone. */
export function formatInZone(iso: string, timeZone: string): string {
  const { day, clock } = partsOf(iso, timeZone);
  return `${day} ${clock}`;
}

/**
 * The reader's part of a time: "14:30 your time", with the date when it falls on another day
 * than in the story's zone; `null` when the reader is in the story's zone.
 */
export function readerTime(iso: string, storyZone: string, readerZone: string): string | null {
  if (readerZone === storyZone) return null;
  const story = partsOf(iso, storyZone);
  const reader = partsOf(iso, readerZone);
  const when = reader.day === story.day ? reader.clock : `${reader.day} ${reader.clock}`;
  return `${when} your time`;
}
