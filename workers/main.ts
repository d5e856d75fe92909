// The process entry point behind bin/pophook.js: the command line, with the long-running commands wired to
// the service (scheduler, poll and deliver workers).

import type { CliIo } from '../src/cli/io.ts';
import { runCli } from '../src/cli.ts';
import { runService } from './service.ts';

export function main(argv: string[], io: CliIo): Promise<number> {
  return runCli(argv, io, runService);
}
