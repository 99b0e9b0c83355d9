/**
 * Reading a JSON request body up to a byte limit. On Node it reads the request stream directly:
 * hono's `bodyLimit` asks for the body as a web stream, and building that Request and stream cost
 * more than the rest of an append. Without a Node request (`app.request()` in tests) it reads
 * through the Request and checks the size after.
 */
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { StorylineError } from '../../domain/errors.ts';

export async function readJsonBody(c: Context, limit: number): Promise<unknown> {
  const type = c.req.header('Content-Type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new StorylineError('unsupported_media_type', 'send the body as application/json', {
      contentType: type,
    });
  }
  const bytes = await readBody(c, limit);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new StorylineError('invalid_json', 'the body is not valid JSON');
  }
}

/** A body declared larger than the limit is refused before anything else is looked at. */
export function checkDeclaredLength(c: Context, limit: number): void {
  const declared = c.req.header('Content-Length');
  if (declared !== undefined && Number(declared) > limit) throw tooLarge(limit);
}

const tooLarge = (limit: number) =>
  new StorylineError(
    'payload_too_large',
    `the body is larger than ${limit} bytes; send fewer events per request`,
    { limit },
  );

async function readBody(c: Context, limit: number): Promise<Buffer> {
  const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
  if (incoming === undefined) {
    const buffer = Buffer.from(await c.req.arrayBuffer());
    if (buffer.length > limit) throw tooLarge(limit);
    return buffer;
  }
  return new Promise<Buffer>((resolve, reject) => {
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
      if (size > limit) {
        cleanup();
        // Read and drop the rest, so the client can finish sending and read the 413.
        incoming.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      if (incoming.readableEnded) return;
      cleanup();
      reject(new StorylineError('invalid_request', 'the body ended before its end'));
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
}
