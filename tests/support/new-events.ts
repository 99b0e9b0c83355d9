/** Events as a client sends them to `POST /v1/stories/{storyId}/events`, for tests to append. */

export const opened = (title = 'A story') => ({
  type: 'story.opened',
  data: { title, timeZone: 'Europe/Moscow' },
});

export const corrected = (developmentId: string) => ({
  type: 'development.corrected',
  data: {
    developmentId,
    changes: { headline: `Corrected ${developmentId}` },
    note: 'the headline was wrong',
    severity: 'correction',
  },
});

export const retracted = (developmentId: string) => ({
  type: 'development.retracted',
  data: { developmentId, reason: 'unsourced' },
});
