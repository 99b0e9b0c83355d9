/**
 * Request bodies: JSON in UTF-8, up to a byte limit, and always read to their end before the
 * answer.
 *
 * That last part is what keeps a 413 (or a 401 to a large body) from turning into a reset: a
 * server that answers and closes while the client is still sending closes a socket with unread
 * data, the kernel resets the connection, and the client sees the reset instead of the answer.
 * So `withBody` drains whatever the route did not read (up to `maxDrainBytes`, past which the
 * connection is closed instead) before it lets an error become the response.
 *
 * On Node the request stream is read directly: asking hono for the body as a web stream builds
 * a Request and a stream, which cost more than the rest of an append. Without a Node request
 * (`app.request()` in tests) the Request's own stream is read the same way.
 */
import type { IncomingMessage } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { StorylineError, isStorylineError } from '../../domain/errors.ts';
import { clientText } from './error-responses.ts';

/**
 * Bytes of a body read and dropped at most before the connection is closed instead: enough for
 * any honest mistake, little enough that a flood costs the server little.
 */
export const maxDrainBytes = 64 * 1024 * 1024;

const tooLarge = (limit: number) =>
  new StorylineError(
    'payload_too_large',
    `the body is larger than ${limit} bytes; send fewer events per request`,
    { limit },
  );

/** What reading a body to its end found. */
interface BodyRead {
  /** The body, or null when it was over the limit (its bytes were dropped). */
  readonly bytes: Buffer | null;
  /** False when the client sent more than `maxDrainBytes`: close, don't wait for the rest. */
  readonly complete: boolean;
}

export class RequestBody {
  readonly #c: Context;
  readonly #limit: number;
  /** Content-Length, when the body is not chunked. */
  readonly #declared: number | null;
  #read: Promise<BodyRead> | null = null;

  constructor(c: Context, limit: number) {
    this.#c = c;
    this.#limit = limit;
    const length = c.req.header('Content-Length');
    this.#declared =
      length !== undefined &&
      /^\d{1,15}$/.test(length) &&
      c.req.header('Transfer-Encoding') === undefined
        ? Number(length)
        : null;
  }

  /** Refuses a body declared larger than the limit, before anything else is looked at. */
  refuseDeclaredExcess(): void {
    if (this.#declared !== null && this.#declared > this.#limit) throw tooLarge(this.#limit);
  }

  /**
   * The body as JSON. Only `application/json`, in UTF-8 (RFC 8259 allows no other encoding): a
   * declared charset other than UTF-8 is refused rather than decoded as if it were UTF-8.
   */
  async json(): Promise<unknown> {
    const type = this.#c.req.header('Content-Type') ?? '';
    const [mediaType = '', ...parameters] = type.split(';');
    if (mediaType.trim().toLowerCase() !== 'application/json') {
      throw new StorylineError('unsupported_media_type', 'send the body as application/json', {
        contentType: clientText(type),
      });
    }
    for (const parameter of parameters) {
      const [name = '', value = ''] = parameter.split('=');
      const charset = value
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .toLowerCase();
      if (name.trim().toLowerCase() === 'charset' && charset !== 'utf-8' && charset !== 'utf8') {
        throw new StorylineError(
          'unsupported_media_type',
          'send the body as application/json in UTF-8 (charset=utf-8, or no charset)',
          { contentType: clientText(type) },
        );
      }
    }
    this.refuseDeclaredExcess();
    const { bytes } = await this.#readAll();
    if (bytes === null) throw tooLarge(this.#limit);
    let text: string;
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      throw new StorylineError('invalid_json', 'the body is not UTF-8 text');
    }
    try {
      // A body nested deep enough makes the parser run out of stack: a RangeError, caught too.
      return JSON.parse(text);
    } catch {
      throw new StorylineError('invalid_json', 'the body is not valid JSON');
    }
  }

  /**
   * Reads the rest of the body and drops it: `too_much` when there is more than
   * `maxDrainBytes` (the connection must close), `gone` when the client went away.
   */
  async drain(): Promise<'drained' | 'too_much' | 'gone'> {
    if (this.#declared !== null && this.#declared > maxDrainBytes) return 'too_much';
    try {
      return (await this.#readAll()).complete ? 'drained' : 'too_much';
    } catch {
      return 'gone';
    }
  }

  /** Reads the whole body once, keeping at most the limit. */
  #readAll(): Promise<BodyRead> {
    if (this.#read === null) {
      const incoming = (this.#c.env as Partial<HttpBindings> | undefined)?.incoming;
      this.#read =
        incoming === undefined
          ? readStream(this.#c.req.raw.body, this.#limit)
          : readIncoming(incoming, this.#limit);
    }
    return this.#read;
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function collected(chunks: Uint8Array[], size: number, limit: number): Buffer | null {
  return size > limit ? null : Buffer.concat(chunks, size);
}

function readIncoming(incoming: IncomingMessage, limit: number): Promise<BodyRead> {
  if (incoming.readableEnded) return Promise.resolve({ bytes: Buffer.alloc(0), complete: true });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > maxDrainBytes) {
        cleanup();
        incoming.pause();
        resolve({ bytes: null, complete: false });
      }
    };
    const onEnd = () => {
      cleanup();
      resolve({ bytes: collected(chunks, size, limit), complete: true });
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      if (incoming.readableEnded) return;
      cleanup();
      reject(new StorylineError('invalid_request', 'the body ended before it was complete'));
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
}

async function readStream(
  stream: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<BodyRead> {
  if (stream === null) return { bytes: Buffer.alloc(0), complete: true };
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let result: Awaited<ReturnType<typeof reader.read>>;
    try {
      result = await reader.read();
    } catch {
      throw new StorylineError('invalid_request', 'the body ended before it was complete');
    }
    if (result.done) return { bytes: collected(chunks, size, limit), complete: true };
    size += result.value.byteLength;
    if (size <= limit) chunks.push(result.value);
    else if (size > maxDrainBytes) {
      await reader.cancel();
      return { bytes: null, complete: false };
    }
  }
}

/**
 * Runs a route that takes a body. Whatever it answers, and however early, the body is read to
 * its end first (see the top of this file). A body too large to drain is a 413 whatever else
 * was wrong with the request.
 */
export async function withBody(
  c: Context,
  limit: number,
  work: (body: RequestBody) => Promise<Response>,
): Promise<Response> {
  const body = new RequestBody(c, limit);
  try {
    return await work(body);
  } catch (error) {
    const rest = await body.drain();
    if (rest === 'too_much' && !(isStorylineError(error) && error.code === 'payload_too_large')) {
      throw tooLarge(limit);
    }
    throw error;
  }
}
