#!/usr/bin/env node
// The `storyline` command. In a checkout, with the TypeScript sources and tsx (a development
// dependency) at hand, it runs the sources through tsx: no build step between a clone and
// `npm start`, and never a build older than the code being edited. A built package (`npm pack`,
// the Docker image, `npm ci --omit=dev`) has no sources and no tsx: it runs the JavaScript that
// `npm run build` wrote to dist/.
import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

const source = new URL('../src/cli.ts', import.meta.url);
const built = new URL('../dist/src/cli.js', import.meta.url);

function tsxInstalled() {
  try {
    import.meta.resolve('tsx/esm/api');
    return true;
  } catch {
    return false;
  }
}

if (existsSync(source) && tsxInstalled()) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else if (existsSync(built)) {
  await import(built.href);
} else {
  process.stderr.write(
    'storyline: found neither dist/ (run `npm run build`) nor the TypeScript sources with tsx ' +
      '(run `npm install`)\n',
  );
  process.exitCode = 1;
}
