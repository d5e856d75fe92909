import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites start their own redis-server and Dovecot; two cores here.
    maxWorkers: 2,
    // Spawned `pophook` commands run the TypeScript sources (bin/pophook.js), so the tests never run a
    // stale dist/; test/integration/cli/compiled.test.ts builds dist/ and runs it.
    env: { POPHOOK_FROM_SOURCE: '1' },
  },
});
