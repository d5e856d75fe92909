// The fault suite (`npm run test:faults`): long scenarios against real processes, kept out of `npm test`.
// Scenarios run one at a time (two cores; each starts Dovecot, Redis and a fleet of pophook processes).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/faults/*.fault.ts'],
    globalSetup: ['test/faults/lib/global-setup.ts'],
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 600_000,
    hookTimeout: 60_000,
    // The pophook processes run the TypeScript sources (bin/pophook.js), never a stale dist/.
    env: { POPHOOK_FROM_SOURCE: '1' },
  },
});
