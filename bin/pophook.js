#!/usr/bin/env node
// The pophook command: runs the TypeScript sources through tsx, so a checkout works right after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../workers/main.ts');
const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  isTTY: Boolean(process.stdin.isTTY && process.stdout.isTTY),
});
process.exitCode = code;
// A command is done when runCli returns; don't let a forgotten handle keep the process up.
setTimeout(() => process.exit(code), 1_000).unref();
