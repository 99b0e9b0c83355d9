/**
 * A database that is away (restarting, unreachable, out of connections) is the server's
 * temporary problem, not the client's: it becomes `unavailable` (HTTP 503), which tells clients
 * to retry. Retrying is safe because appends are idempotent by event id, even when the
 * connection died during a commit whose outcome the server never learned.
 */
import { StorylineError } from '../../domain/errors.ts';

const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH']);
/**
 * SQLSTATEs for: admin or crash shutdown, cannot connect now, too many connections; and the
 * bounds we set on every connection: a lock not granted in time (`lock_timeout`), a statement
 * cancelled (`statement_timeout`), a session ended for idling in a transaction.
 */
const unavailableStates = new Set(['57P01', '57P02', '57P03', '53300', '55P03', '57014', '25P03']);

export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (networkCodes.has(code) || unavailableStates.has(code)) return true;
    if (code.startsWith('08')) return true; // connection exception class
  }
  // The last: no free connection in the pool within the connect timeout.
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(
    error.message,
  );
}

/** Rethrows a database-away error as `unavailable`; anything else as it was. */
export function rethrowUnavailable(error: unknown): never {
  if (isDatabaseUnavailable(error)) {
    throw new StorylineError(
      'unavailable',
      'the database is not reachable right now; retry (with the same event ids for appends)',
    );
  }
  throw error;
}
