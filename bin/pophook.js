#!/usr/bin/env -S MALLOC_ARENA_MAX=1 MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=2 --single-threaded-gc --no-concurrent-recompilation
// The pophook command. It runs the compiled JavaScript in dist/ (bundled by scripts/build.mjs, which `npm ci`
// runs through the prepare script, or `npm run build`) through V8's code cache the build wrote beside it
// (dist/boot.cjs, from src/boot/code-cache.ts), with no TypeScript loader at run time. It runs the
// TypeScript sources through tsx (a dev dependency) instead when POPHOOK_FROM_SOURCE=1 (the tests set it),
// when there is no dist/ yet, or when a source file is newer than the build: a stale dist/ never runs old
// code silently (it says so on stderr).
//
// The first line sets what must be set as the process starts, to hold memory down at less CPU than
// --optimize-for-size (which slowed every JIT-compiled function; docs/performance.md, "V8 flags"): a 2 MB
// young generation for the main thread (V8 sizes it as the thread's heap is made; the parse threads get
// theirs from src/payload/parser-pool.ts; with 1 MB, what deliveries hold in flight outlived it and was
// promoted: more mark-compacts and a higher peak RSS), garbage collected on the thread that made it (no
// background GC threads to wake and join), TurboFan compiling on the thread that asked (handing each compile
// to a helper thread and back cost more than it saved; V8 makes its compiler's queue as the process starts).
// glibc's malloc keeps one arena for every thread (MALLOC_ARENA_MAX=1): with an arena per thread (main, parse
// thread, V8's and libuv's), what each freed stayed with it, about 8 MB at the peak, and sharing one cost no
// CPU measured; and it maps blocks of 128 KiB and more on their own, returned when freed
// (MALLOC_MMAP_THRESHOLD_: by default the threshold rises to the largest block freed, so a compiler's big
// scratch blocks stayed in the arena); glibc reads both once. The service sets V8's other flags once it is up
// (src/runtime/v8-flags.ts): V8 takes a code cache only under the flags it was made with, Node's of its own
// modules under V8's defaults, dist/'s as the build wrote them (src/boot/code-cache.ts puts the young
// generation's flag back to its default once V8 has used it, so both are taken). The first line stays under
// the kernel's 256 bytes (a test execs the bin). The command runs this file (`pophook`, `npm run pophook`,
// the image's entry point); `node bin/pophook.js` runs without them.
//
// This file is CommonJS (bin/package.json): Node starts an ES module through its module loader, which cost
// a start about 18 ms of CPU (docs/performance.md, "start-up under Node's own code cache").
'use strict';

const { readdirSync, statSync } = require('node:fs');
const { enableCompileCache } = require('node:module');
const { join } = require('node:path');

// Node 22.1+: V8's compiled code is cached on disk, so the next start compiles less (absent on Node 20).
enableCompileCache?.();

const root = join(__dirname, '..');
const built = join(root, 'dist', 'pophook.cjs');

/** Why the sources run instead of dist/, or undefined to run dist/. */
function reasonForSources() {
  if (process.env.POPHOOK_FROM_SOURCE === '1') return 'quiet';
  const builtAt = statSync(built, { throwIfNoEntry: false })?.mtimeMs;
  if (builtAt === undefined) return 'dist/ is not built (npm run build)';
  for (const dir of ['src', 'workers']) {
    const files = readdirSync(join(root, dir), { recursive: true, withFileTypes: true });
    for (const file of files) {
      // `path` on Node 20.12+, `parentPath` from 20.19/21.4 on.
      const parent = file.parentPath ?? file.path;
      if (file.isFile() && statSync(`${parent}/${file.name}`).mtimeMs > builtAt) {
        return `${dir}/ changed since dist/ was built (npm run build)`;
      }
    }
  }
  return undefined;
}

/** The command's entry point: dist/'s, or the sources' through tsx. */
async function loadMain() {
  // A checkout has src/ beside dist/; an installed image may ship dist/ alone (then there is nothing to compare).
  const hasSources = statSync(join(root, 'src'), { throwIfNoEntry: false })?.isDirectory() ?? false;
  const reason = hasSources ? reasonForSources() : undefined;
  if (reason === undefined) {
    const { loadBundle } = require('../dist/boot.cjs');
    return loadBundle(built).exports.main;
  }
  if (reason !== 'quiet')
    process.stderr.write(`pophook: ${reason}: running the TypeScript sources through tsx\n`);
  const { register } = await import('tsx/esm/api');
  register();
  return (await import('../workers/main.ts')).main;
}

async function run() {
  const main = await loadMain();
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
}

run();
