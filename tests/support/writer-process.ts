/**
 * A separate writer process for the concurrency test: `writers` concurrent loops, each appending
 * `perWriter` developments one request at a time, spread over the given stories.
 * Usage: node --import tsx writer-process.ts <databaseUrl> <writers> <perWriter> <stories,...> <tag>
 */
import { randomUUID } from 'node:crypto';
import { openStoryline } from '../../src/composition.ts';
import { silentLogger } from './harness.ts';

const [databaseUrl, writers, perWriter, storyList, tag] = process.argv.slice(2);
if (databaseUrl === undefined || storyList === undefined || tag === undefined) {
  throw new Error('usage: writer-process <databaseUrl> <writers> <perWriter> <stories> <tag>');
}
const stories = storyList.split(',');
const storyline = await openStoryline(
  { databaseUrl, dataDir: '/nonexistent', poolSize: 4 },
  silentLogger,
);
try {
  await Promise.all(
    Array.from({ length: Number(writers) }, async (_, writer) => {
      for (let index = 0; index < Number(perWriter); index += 1) {
        const storyId = stories[(writer + index) % stories.length] as string;
        await storyline.appender.append({
          storyId,
          author: `${tag}-writer-${writer}`,
          events: [
            {
              id: randomUUID(),
              type: 'development.reported',
              data: {
                developmentId: `${tag}-${writer}-${index}`,
                kind: 'statement',
                headline: `update ${index} from ${tag} writer ${writer}`,
              },
            },
          ],
        });
      }
    }),
  );
} finally {
  await storyline.close();
}
