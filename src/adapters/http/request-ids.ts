/**
 * Request ids: the client's `X-Request-Id` is kept if it is short and made of letters, digits,
 * `_`, `-` and `=` (hono's `requestId` check, so that every answer follows one rule); otherwise
 * the request gets a UUID. Answers written outside hono (upgrade refusals, the connection guard)
 * use the same rule.
 */
import { randomUUID } from 'node:crypto';

export const requestIdHeader = 'X-Request-Id';
export const maxRequestIdLength = 64;

export function requestIdFrom(header: string | readonly string[] | undefined): string {
  return typeof header === 'string' &&
    header.length > 0 &&
    header.length <= maxRequestIdLength &&
    !/[^\w\-=]/.test(header)
    ? header
    : randomUUID();
}
