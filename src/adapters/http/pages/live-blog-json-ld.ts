/**
 * schema.org's LiveBlogPosting for a story page (https://schema.org/LiveBlogPosting): the story,
 * its coverage window, and one BlogPosting per development, newest first as on the page.
 */
import type { StoryProjection } from '../../../domain/story-view.ts';
import { entryAnchor } from '../../../web/story-markup.ts';

export function liveBlogJsonLd({ story, timeline }: StoryProjection, pageUrl: string) {
  return {
    '@context': 'https://schema.org',
    '@type': 'LiveBlogPosting',
    '@id': pageUrl,
    url: pageUrl,
    headline: story.title,
    ...(story.summary === null ? {} : { description: story.summary }),
    ...(story.tags.length === 0 ? {} : { keywords: story.tags.join(', ') }),
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
