/**
 * Serves the browser assets listed in browser-assets.ts. The built server (dist) reads them from
 * dist/assets, where `npm run build` put them; the server run from its TypeScript sources bundles
 * each with esbuild on first request, so an edit in src/web shows after a restart with no build
 * step. Either way each is loaded once per process and served with a content-hash ETag: a restart
 * with changed assets gives browsers the new file, an unchanged one answers 304.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleBrowserAsset, type BrowserAssetName } from './browser-assets.ts';

export interface Asset {
  readonly body: string;
  readonly contentType: string;
  readonly etag: string;
}

/** Whether this module runs compiled (dist/src/adapters/http/pages/page-assets.js). */
const built = import.meta.url.endsWith('.js');

/** dist/assets, from dist/src/adapters/http/pages. */
const builtAssetsDir = path.resolve(import.meta.dirname, '../../../../assets');

const contentTypes = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
} as const;

async function load(name: BrowserAssetName): Promise<Asset> {
  const body = built
    ? await readFile(path.join(builtAssetsDir, name), 'utf8')
    : await bundleBrowserAsset(name);
  const extension = path.extname(name) as keyof typeof contentTypes;
  return {
    body,
    contentType: contentTypes[extension],
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
  };
}

const loaded = new Map<BrowserAssetName, Promise<Asset>>();

/** Loads on first use and keeps the result; a failed load is retried on the next request. */
export function pageAsset(name: BrowserAssetName): Promise<Asset> {
  let pending = loaded.get(name);
  if (pending === undefined) {
    pending = load(name).catch((error: unknown) => {
      loaded.delete(name);
      throw error;
    });
    loaded.set(name, pending);
  }
  return pending;
}
