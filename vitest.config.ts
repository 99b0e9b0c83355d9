import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  // The examples import the SDK by its package name: here, its source (as tsconfig.json's paths).
  resolve: {
    alias: { 'storyline/client': fileURLToPath(new URL('src/client/index.ts', import.meta.url)) },
  },
  test: {
    include: ['tests/**/*.test.ts', 'examples/**/*.test.ts'],
    // Browser tests need Chromium: `npm run test:e2e` (vitest.e2e.config.ts).
    exclude: [...configDefaults.exclude, 'tests/e2e/**'],
    globalSetup: ['tests/support/global-setup.ts'],
    // Integration tests start processes and a database; generous, not a timing assertion.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
