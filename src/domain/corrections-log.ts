/**
 * The corrections log: every correction of a story, oldest first, each naming the development it
 * changed. It is derived from the timeline entries, which carry their own corrections, so the
 * story view stays small however often a story is corrected.
 */
import type { CorrectionView, TimelineEntry } from './story-view.ts';

export function correctionsLog(timeline: Iterable<TimelineEntry>): CorrectionView[] {
  const log: CorrectionView[] = [];
  for (const entry of timeline) {
    for (const correction of entry.corrections) {
      log.push({ developmentId: entry.developmentId, ...correction });
    }
  }
  return log.sort((a, b) => a.position - b.position);
}
