// Runs a bundle of dist/ through V8's code cache. scripts/build.mjs writes each bundle as one CommonJS
// module already inside the function Node would wrap it in, runs its top level once (the service's modules
// loaded, the parse thread started) and saves what V8 compiled beside it (`<bundle>.v8cache`); a start
// deserializes that instead of parsing and compiling megabytes of JavaScript again. Node 20 has no compile
// cache of its own (module.enableCompileCache is 22.1+), hence a vm.Script here. V8 checks a cache against
// its version, its flags and the source's length, and compiles from the source when one differs; a length is
// not the content, so a cache older than its bundle is not offered at all. An `import()` inside a bundle
// has no loader (Node 20 drops a cached script's import callback, and the one vm offers is experimental):
// esbuild turns pophook's into requires, and the test of the compiled command allows only BullMQ's, for
// the sandboxed processors pophook does not use.
import { isAscii } from 'node:buffer';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';

// V8 takes a code cache only under the flags it was made with. The bin's first line sets the main thread's
// young generation (--max-semi-space-size), which V8 read as it made the heap; back at its default, the
// flags are V8's defaults as far as a cache can tell (the first line's others are not among those it
// compares), so V8 takes Node's own cache of its built-in modules (made under the defaults; compiling them
// from their source cost each thread 0.05 s of CPU at start) and dist/'s, which the build's warm-up wrote
// through this module too. The service sets its other flags once its threads are up (src/runtime/v8-flags.ts).
setFlagsFromString('--max-semi-space-size=0');

export interface LoadedBundle {
  exports: Record<string, unknown>;
  /** Whether V8 took the cache (false: none, older than the bundle, or another V8 or other flags). */
  cached: boolean;
  /** Saves what V8 has compiled of the bundle so far as its cache (the build's warm-up). */
  saveCodeCache(): void;
}

/** Runs `file` (an absolute path) as a CommonJS module. */
export function loadBundle(file: string): LoadedBundle {
  const bytes = readFileSync(file);
  // An ASCII bundle as a one-byte string: half the memory of UTF-8's two-byte one, and no decoding.
  const source = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  const cacheFile = `${file}.v8cache`;
  const cachedData = freshCache(file, cacheFile);
  const script = new Script(source, {
    filename: file,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  return {
    exports: module.exports,
    cached: cachedData !== undefined && !script.cachedDataRejected,
    saveCodeCache() {
      writeFileSync(`${cacheFile}.tmp`, script.createCachedData());
      renameSync(`${cacheFile}.tmp`, cacheFile);
    },
  };
}

function freshCache(file: string, cacheFile: string): Buffer | undefined {
  const cachedAt = statSync(cacheFile, { throwIfNoEntry: false })?.mtimeMs;
  if (cachedAt === undefined || cachedAt < statSync(file).mtimeMs) return undefined;
  return readFileSync(cacheFile);
}
