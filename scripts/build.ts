/**
 * `npm run build`: dist/ from scratch. tsc compiles the server and the SDK (with declarations)
 * into dist/src and dist/migrations (tsconfig.build.json); esbuild bundles the pages' browser
 * assets into dist/assets. `bin/storyline.js` runs dist when there are no TypeScript sources.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  browserAssetNames,
  bundleBrowserAsset,
} from '../src/adapters/http/pages/browser-assets.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');
const dist = path.join(projectRoot, 'dist');

await rm(dist, { recursive: true, force: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', path.join(projectRoot, 'tsconfig.build.json')], {
  stdio: 'inherit',
});

// Where the compiled page-assets.js looks for them.
const assetsDir = path.join(dist, 'assets');
await mkdir(assetsDir, { recursive: true });
for (const name of browserAssetNames) {
  await writeFile(path.join(assetsDir, name), await bundleBrowserAsset(name));
}
console.log(`built dist/: the server, the SDK, and ${browserAssetNames.join(', ')}`);
