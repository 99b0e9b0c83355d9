import path from 'node:path';
import { seedIfEmpty } from '../../../src/composition.ts';
import { silentLogger } from '../../support/harness.ts';
import { startLiveServer, type LiveServer } from '../../support/live-server.ts';
import { projectRoot } from '../../support/run-cli.ts';

/** A live server (in-process, port 0) whose database holds the stories of events/, as served. */
export async function startSeededLiveServer(): Promise<LiveServer> {
  const live = await startLiveServer();
  await seedIfEmpty(live.h.storyline, path.join(projectRoot, 'events'), silentLogger);
  return live;
}
