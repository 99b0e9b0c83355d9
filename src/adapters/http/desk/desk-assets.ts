/**
 * The desk's script (src/web/desk.ts, bundled with esbuild in memory like the live blog's) and
 * stylesheet, built once per process on first request and served with a content-hash ETag at
 * `/assets/desk.js` and `/assets/desk.css`. Once the pages keep one list of browser assets built
 * ahead of time, these two become entries of that list and this module goes.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Asset } from '../pages/page-assets.ts';

const webDir = path.resolve(import.meta.dirname, '../../../web');

const asset = (body: string, contentType: string): Asset => ({
  body,
  contentType,
  etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
});

async function bundleScript(): Promise<Asset> {
  // Imported on first use: a process that serves no desk never loads the bundler.
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [path.join(webDir, 'desk.ts')],
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
  if (output === undefined) throw new Error('esbuild produced no output for desk.ts');
  return asset(output.text, 'text/javascript; charset=utf-8');
}

async function readStylesheet(): Promise<Asset> {
  return asset(await readFile(path.join(webDir, 'desk.css'), 'utf8'), 'text/css; charset=utf-8');
}

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

export const deskScript = once(bundleScript);
export const deskStylesheet = once(readStylesheet);
