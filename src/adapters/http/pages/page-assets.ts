/**
 * The live blog's two static assets: the stylesheet, read from src/web, and the browser script,
 * bundled from src/web/live-blog.ts with esbuild in memory. Each is built once per process, on
 * first request (so tests that never load a page never pay for a bundle), and served with a
 * content-hash ETag: a restart with changed sources gives browsers the new file, an unchanged one
 * answers 304.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

export interface Asset {
  readonly body: string;
  readonly contentType: string;
  readonly etag: string;
}

const webDir = path.resolve(import.meta.dirname, '../../../web');

const asset = (body: string, contentType: string): Asset => ({
  body,
  contentType,
  etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
});

async function bundleScript(): Promise<Asset> {
  const result = await build({
    entryPoints: [path.join(webDir, 'live-blog.ts')],
    write: false,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error('esbuild produced no output for live-blog.ts');
  return asset(output.text, 'text/javascript; charset=utf-8');
}

async function readStylesheet(): Promise<Asset> {
  const css = await readFile(path.join(webDir, 'live-blog.css'), 'utf8');
  return asset(css, 'text/css; charset=utf-8');
}

/** Builds on first use and keeps the result; a failed build is retried on the next request. */
function once(make: () => Promise<Asset>): () => Promise<Asset> {
  let pending: Promise<Asset> | null = null;
  return () => {
    pending ??= make().catch((error: unknown) => {
      pending = null;
      throw error;
    });
    return pending;
  };
}

export const liveBlogScript = once(bundleScript);
export const liveBlogStylesheet = once(readStylesheet);
