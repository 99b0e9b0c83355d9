/**
 * A story as an Atom 1.0 feed (RFC 4287): one entry per development, newest first. Entry ids
 * are stable URNs, so a feed reader recognises an entry again after a correction; `updated`
 * moves with every correction, retraction or dispute, so readers show the change.
 *
 * Every text is escaped here and nowhere else: titles and summaries as XML text, the content as
 * HTML that is then escaped again as XML text (`type="html"`).
 */
import type { Source } from '../../domain/event-types.ts';
import type { StoryView, TimelineEntry } from '../../domain/story-view.ts';
import { entryAnchor } from '../../web/story-markup.ts';
import { formatInZone, zoneLabel } from '../../web/times.ts';
import { defaultPublisher, type NewsPublisher } from './pages/live-blog-json-ld.ts';

export const atomContentType = 'application/atom+xml; charset=utf-8';

export interface AtomLinks {
  /** The feed's own URL. */
  readonly self: string;
  /** The story's live-blog page; each entry links to its anchor there. */
  readonly alternate: string;
}

export const entryUrn = (storyId: string, developmentId: string): string =>
  `urn:storyline:${storyId}:${developmentId}`;

export function renderAtomFeed(
  story: StoryView,
  entries: readonly TimelineEntry[],
  links: AtomLinks,
  publisher: NewsPublisher = defaultPublisher,
): string {
  // The story and its timeline are separate reads: an entry may be newer than the story view.
  const updated = [story.lastUpdateAt, ...entries.map((entry) => entry.updatedAt)].reduce(
    (latest, at) => (Date.parse(at) > Date.parse(latest) ? at : latest),
  );
  const lines = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    `  <id>${xmlText(`urn:storyline:${story.storyId}`)}</id>`,
    `  <title type="text">${xmlText(story.title)}</title>`,
    ...(story.summary === null
      ? []
      : [`  <subtitle type="text">${xmlText(story.summary)}</subtitle>`]),
    `  <updated>${xmlText(updated)}</updated>`,
    `  <link rel="self" type="application/atom+xml" href="${xmlText(links.self)}"/>`,
    `  <link rel="alternate" type="text/html" href="${xmlText(links.alternate)}"/>`,
    `  <author><name>${xmlText(publisher.name)}</name>${
      publisher.url === undefined ? '' : `<uri>${xmlText(publisher.url)}</uri>`
    }</author>`,
    ...(publisher.logo === undefined ? [] : [`  <logo>${xmlText(publisher.logo)}</logo>`]),
    '  <generator>Storyline</generator>',
    ...story.tags.map((tag) => `  <category term="${xmlText(tag)}"/>`),
    ...entries.map((entry) => renderEntry(story, entry, links)),
    '</feed>',
    '',
  ];
  return lines.join('\n');
}

function renderEntry(story: StoryView, entry: TimelineEntry, links: AtomLinks): string {
  const { storyId, timeZone } = story;
  const title = entry.retracted === null ? entry.headline : `Retracted: ${entry.headline}`;
  const link = `${links.alternate}#${encodeURIComponent(entryAnchor(entry.developmentId))}`;
  return [
    '  <entry>',
    `    <id>${xmlText(entryUrn(storyId, entry.developmentId))}</id>`,
    `    <title type="text">${xmlText(title)}</title>`,
    `    <published>${xmlText(entry.reportedAt)}</published>`,
    `    <updated>${xmlText(entry.updatedAt)}</updated>`,
    `    <link rel="alternate" type="text/html" href="${xmlText(link)}"/>`,
    `    <category term="${xmlText(entry.kind)}"/>`,
    `    <summary type="text">${xmlText(summaryText(entry))}</summary>`,
    `    <content type="html">${xmlText(contentHtml(entry, timeZone))}</content>`,
    '  </entry>',
  ].join('\n');
}

/** Plain text: the body (or the headline), then what changed since it was first reported. */
function summaryText(entry: TimelineEntry): string {
  return [
    ...(entry.retracted === null ? [] : [`Retracted: ${entry.retracted.reason}`]),
    entry.body ?? entry.headline,
    ...entry.corrections.map((correction) => `Corrected: ${correction.note}`),
  ].join('\n\n');
}

/**
 * A time for people, in the story's zone and always with its year: a feed entry is read long
 * after it is written (the machine-readable times are `published` and `updated`).
 */
const readableTime = (iso: string, timeZone: string): string =>
  `${formatInZone(iso, timeZone, null)} ${zoneLabel(timeZone)}`;

function contentHtml(entry: TimelineEntry, timeZone: string): string {
  const parts: string[] = [];
  if (entry.retracted !== null) {
    parts.push(`<p><strong>Retracted:</strong> ${html(entry.retracted.reason)}</p>`);
  }
  const paragraphs = (entry.body ?? '').split(/\n\s*\n/).filter((text) => text.trim() !== '');
  for (const paragraph of paragraphs) parts.push(`<p>${html(paragraph.trim())}</p>`);
  if (entry.quote !== null) {
    const by = entry.quote.by === undefined ? '' : `<footer>${html(entry.quote.by)}</footer>`;
    parts.push(`<blockquote><p>${html(entry.quote.text)}</p>${by}</blockquote>`);
  }
  const facts: string[] = [];
  if (entry.actors.length > 0) {
    const actors = entry.actors.map((actor) =>
      actor.role === undefined ? html(actor.name) : `${html(actor.name)} (${html(actor.role)})`,
    );
    facts.push(`<li>Who: ${actors.join(', ')}</li>`);
  }
  if (entry.location !== null) facts.push(`<li>Where: ${html(entry.location)}</li>`);
  facts.push(`<li>When: ${html(readableTime(entry.occurredAt, timeZone))}</li>`);
  if (entry.sources.length > 0) {
    facts.push(`<li>Sources: ${entry.sources.map(sourceHtml).join(', ')}</li>`);
  }
  parts.push(`<ul>${facts.join('')}</ul>`);
  for (const dispute of entry.disputes) {
    parts.push(
      `<p><strong>Disputed by ${html(dispute.by)}:</strong> ${html(dispute.statement)}</p>`,
    );
  }
  if (entry.corrections.length > 0) {
    const items = entry.corrections.map(
      (correction) =>
        `<li>Corrected: ${html(correction.note)} (${html(correction.severity)}, ${html(readableTime(correction.correctedAt, timeZone))})</li>`,
    );
    parts.push(`<ul>${items.join('')}</ul>`);
  }
  return parts.join('\n');
}

function sourceHtml(source: Source): string {
  // Only web links become links: a `javascript:` URL is valid to the schema, not to a reader.
  if (source.url === undefined || !/^https?:\/\//i.test(source.url)) return html(source.name);
  return `<a href="${html(source.url)}">${html(source.name)}</a>`;
}

/**
 * Characters XML 1.0 does not allow at all (most C0 controls, lone surrogates, U+FFFE/U+FFFF):
 * escaping cannot express them, so they are dropped.
 */
const notXmlChar =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes text for XML element content and attribute values alike. */
export function xmlText(text: string): string {
  return text
    .replace(notXmlChar, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** The same escaping for HTML text and attributes (the HTML is then escaped again as XML). */
const html = xmlText;
