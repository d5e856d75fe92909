// V8's settings for a running service, set once it is up rather than on the bin's first line. V8 takes a
// code cache only under the flags it was made with: Node's cache of its own modules was made under V8's
// defaults, so any such flag on the command line had every thread compile Node's modules from their source
// as it started (0.05 s of CPU per thread on the benchmark's machine), and dist/'s caches of pophook's
// bundles were refused under any flags but the build's. Set while the service runs, a flag changes nothing
// already compiled and acts on what follows; what the bin's first line still sets must be set as a thread
// is made (docs/performance.md, "start-up under Node's own code cache"). A parse thread started later (in
// place of one a hostile message ended) compiles its modules from source: 0.07 s more CPU per restart.
import { setFlagsFromString } from 'node:v8';
import { collectGarbage } from '../gc.ts';

/**
 * - The heap grows by 20% past what a full collection left live (V8's default is up to 100%): memory.
 * - WebAssembly (undici's HTTP parser, llhttp, compiled at the first webhook request) stays on V8's baseline
 *   compiler: tiering its one giant function up took about 35 MB for a moment, the process's peak, for no CPU
 *   it saved.
 * - A function is optimized after an eighth of V8's default budget of bytecode run, so the code each message
 *   runs reaches optimized code within the first thousand messages rather than still compiling through a
 *   backlog (bench e2e, with TurboFan compiling on the thread that asked: 0.35-0.38 against 0.47-0.49 ms of
 *   CPU per message). At start it only made TurboFan compile start-up code that runs once (0.15 s of CPU).
 */
export const SERVICE_V8_FLAGS = [
  '--heap-growing-percent=20',
  '--no-wasm-dynamic-tiering',
  '--no-wasm-tier-up',
  '--interrupt-budget=8448',
] as const;

let applied = false;

/** Sets SERVICE_V8_FLAGS (process-wide, once): after the parse threads loaded, before the first webhook request. */
export function useServiceV8Flags(): void {
  if (applied) return;
  applied = true;
  setFlagsFromString(SERVICE_V8_FLAGS.join(' '));
  // V8 sets the heap's next limit at each full collection: the one start-up ended with, by V8's default
  // growth, let the main thread's heap grow by tens of MB before its next (peak RSS 138 against 114 MB).
  // A parse thread's first full collection comes later, under the flag.
  collectGarbage();
}
