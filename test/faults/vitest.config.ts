// The fault suite (`npm run test:faults`): long scenarios against real processes, kept out of `npm test`.
// Scenarios run one at a time (two cores; each starts Dovecot, Redis and a fleet of pophook processes).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // test/faults/slow/: the wedged-worker scenario waits out the watchdog's 5-minute stall threshold.
    include: [
      'test/faults/*.fault.ts',
      ...(process.env.FAULT_WEDGED === '1' ? ['test/faults/slow/*.fault.ts'] : []),
    ],
    globalSetup: ['test/faults/lib/global-setup.ts'],
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 600_000,
    hookTimeout: 60_000,
  },
});
