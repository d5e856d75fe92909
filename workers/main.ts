// The process entry point behind bin/pophook.js: the command line, with the long-running commands wired to
// the service (scheduler, poll and deliver workers), which stop when npm started them and went away.

import type { CliIo } from '../src/cli/io.ts';
import { runCli } from '../src/cli.ts';
import { stopWhenOrphaned } from './orphan-guard.ts';

export function main(argv: string[], io: CliIo): Promise<number> {
  return runCli(argv, io, (roles, config, logger) => {
    const unwatch = stopWhenOrphaned(io.env);
    // Loaded here, not at the top: one-shot commands and --help need none of the workers' modules.
    return import('./service.ts')
      .then(({ runService }) => runService(roles, config, logger))
      .finally(unwatch);
  });
}
