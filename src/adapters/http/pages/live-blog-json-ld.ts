/**
 * schema.org's LiveBlogPosting for a story page (https://schema.org/LiveBlogPosting): the story,
 * its coverage window, who wrote and publishes it, and one BlogPosting per development, newest
 * first as on the page.
 */
import type { StoryProjection } from '../../../domain/story-view.ts';
import { entryAnchor } from '../../../web/story-markup.ts';

/** The newsroom that publishes the stories (STORYLINE_PUBLISHER_NAME, _URL, _LOGO). */
export interface NewsPublisher {
  readonly name: string;
  readonly url?: string | undefined;
  readonly logo?: string | undefined;
}

export const defaultPublisher: NewsPublisher = { name: 'Storyline' };

/**
 * The newsroom as a schema.org Organization. It is also the author: a story is written by its
 * desk, and the log records editors by token name, which is no byline.
 */
function organization(publisher: NewsPublisher, withLogo: boolean) {
  return {
    '@type': 'Organization',
    name: publisher.name,
    ...(publisher.url === undefined ? {} : { url: publisher.url }),
    ...(withLogo && publisher.logo !== undefined
      ? { logo: { '@type': 'ImageObject', url: publisher.logo } }
      : {}),
  };
}

export function liveBlogJsonLd(
  { story, timeline }: StoryProjection,
  pageUrl: string,
  publisher: NewsPublisher = defaultPublisher,
) {
  return {
    '@context': 'https://schema.org',
    '@type': 'LiveBlogPosting',
    '@id': pageUrl,
    url: pageUrl,
    headline: story.title,
    ...(story.summary === null ? {} : { description: story.summary }),
    ...(story.tags.length === 0 ? {} : { keywords: story.tags.join(', ') }),
    author: organization(publisher, false),
    publisher: organization(publisher, true),
    datePublished: story.firstUpdateAt,
    dateModified: story.lastUpdateAt,
    // The story's first event; a closed story's coverage ended with its last (the closing).
    coverageStartTime: story.openedAt,
    ...(story.status === 'closed' ? { coverageEndTime: story.lastUpdateAt } : {}),
    liveBlogUpdate: [...timeline].reverse().map((entry) => {
      const text = entry.body ?? entry.headline;
      return {
        '@type': 'BlogPosting',
        '@id': `${pageUrl}#${entryAnchor(entry.developmentId)}`,
        url: `${pageUrl}#${entryAnchor(entry.developmentId)}`,
        headline: entry.headline,
        datePublished: entry.reportedAt,
        dateModified: entry.updatedAt,
        articleBody:
          entry.retracted === null ? text : `Retracted: ${entry.retracted.reason}\n\n${text}`,
      };
    }),
  };
}
