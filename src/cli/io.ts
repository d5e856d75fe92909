// The streams and environment a command runs with, passed in so commands can be run and tested in-process.
import type { Readable, Writable } from 'node:stream';

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
  env: NodeJS.ProcessEnv;
  isTTY: boolean;
  /** Where a relative default (./pophook.yml) is looked for; the process's working directory when absent. */
  cwd?: string;
}
