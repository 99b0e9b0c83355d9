/**
 * The HTTP API's error body, `{ error: { code, message, requestId, ... } }`, as every test of a
 * failing request checks it: documented status and code, JSON, and never a stack trace.
 */
import { expect } from 'vitest';
import type { z } from 'zod';
import type { errorBodySchema } from '../../src/adapters/http/response-schemas.ts';
import type { ErrorCode } from '../../src/domain/errors.ts';

/** The `error` object: code, message, requestId, issues, and the code's own details. */
export type ApiError = z.infer<typeof errorBodySchema>['error'];

/** Asserts the status, the code and the error body's shape; returns the error object. */
export async function expectError(
  response: Response | Promise<Response>,
  status: number,
  code: ErrorCode,
): Promise<ApiError> {
  const res = await response;
  const text = await res.text();
  let body: { error?: ApiError } = {};
  try {
    body = JSON.parse(text) as { error?: ApiError };
  } catch {
    // leave the body empty: the assertion below shows the raw text
  }
  expect({ status: res.status, code: body.error?.code }, text).toEqual({ status, code });
  expect(res.headers.get('Content-Type')).toMatch(/^application\/json/);
  const error = body.error as ApiError;
  expect(typeof error.message).toBe('string');
  expect(error.message.length).toBeGreaterThan(0);
  expect(typeof error.requestId).toBe('string');
  expect(Object.keys(body)).toEqual(['error']);
  expect(error).not.toHaveProperty('stack');
  expect(text).not.toMatch(/\n\s+at /);
  expect(text).not.toMatch(/StorylineError|ZodError|node_modules/);
  return error;
}
