import { defineConfig } from 'vitest/config';

/** Browser tests in real Chromium (Debian's `chromium` package): `npm run test:e2e`. */
export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    // A browser, server processes and a database: generous deadlines, not timing assertions.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
