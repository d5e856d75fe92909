// The process entry point behind bin/pophook.js: the command line, with the long-running commands wired to
// the service (scheduler, poll and deliver workers), which stop when npm started them and went away.

import type { CliIo } from '../src/cli/io.ts';
import { runCli } from '../src/cli.ts';
import { stopWhenOrphaned } from './orphan-guard.ts';

/**
 * The service's modules: loaded on use, not at the top, as one-shot commands and --help need none of them
 * (and by the build's warm-up, scripts/warm-code-cache.cjs, so their compiled code is in the cache).
 */
export const loadService = () => import('./service.ts');

export function main(argv: string[], io: CliIo): Promise<number> {
  return runCli(argv, io, (roles, config, logger) => {
    const unwatch = stopWhenOrphaned(io.env);
    return loadService()
      .then(({ runService }) => runService(roles, config, logger))
      .finally(unwatch);
  });
}
