/**
 * The pages' browser assets, in one list: each is served at `/assets/<name>` and bundled by
 * esbuild from its source in src/web. `npm run build` bundles them ahead of time into dist/assets
 * (scripts/build.ts); the server run from its TypeScript sources (development) bundles them on
 * first request instead. To add a page script, add one entry here.
 */
import path from 'node:path';
import type { BuildOptions } from 'esbuild';

export const browserAssets = {
  'live-blog.js': 'live-blog.ts',
  'live-blog.css': 'live-blog.css',
  'desk.js': 'desk.ts',
  'desk.css': 'desk.css',
} as const satisfies Record<string, string>;

export type BrowserAssetName = keyof typeof browserAssets;

export const browserAssetNames = Object.keys(browserAssets) as BrowserAssetName[];

/** src/web, where the sources are (from src/adapters/http/pages, as from dist/src/…). */
export const webSourceDir = path.resolve(import.meta.dirname, '../../../web');

const bundleOptions = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  logLevel: 'silent',
  write: false,
} as const satisfies BuildOptions;

/**
 * Bundles one asset from src/web with esbuild. Only the build and the development server call
 * this: esbuild is a development dependency, imported here on first use, never in production.
 */
export async function bundleBrowserAsset(name: BrowserAssetName): Promise<string> {
  const { build } = await import('esbuild');
  const result = await build({
    ...bundleOptions,
    entryPoints: [path.join(webSourceDir, browserAssets[name])],
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error(`esbuild produced no output for ${name}`);
  return output.text;
}
