/**
 * A scenario's Storyline database, made ready through the exported composition root: a fresh
 * database, migrated by `openStoryline`, seeded with `seedIfEmpty` where the scenario reads the
 * shipped story, and a publish token from `storyline.tokens.create`. The servers themselves run
 * as `storyline serve` child processes (processes.ts) against this database.
 */
import path from 'node:path';
import pino from 'pino';
import { openStoryline, seedIfEmpty } from '../../src/composition.ts';
import { projectRoot } from '../../src/config.ts';
import type { ScenarioContext } from './scenario.ts';

export interface PreparedDatabase {
  readonly url: string;
  readonly token: string;
}

export async function prepareDatabase(
  context: ScenarioContext,
  label: string,
  options: { readonly seed?: boolean } = {},
): Promise<PreparedDatabase> {
  const url = await context.server.createDatabase(label);
  context.scope.defer(() => context.server.dropDatabase(url));
  const logger = pino({ level: 'silent' });
  const storyline = await openStoryline(
    { databaseUrl: url, dataDir: path.join(projectRoot, '.data-unused'), poolSize: 2 },
    logger,
  );
  try {
    if (options.seed === true)
      await seedIfEmpty(storyline, path.join(projectRoot, 'events'), logger);
    const token = await storyline.tokens.create('bench');
    return { url, token };
  } finally {
    await storyline.close();
  }
}
