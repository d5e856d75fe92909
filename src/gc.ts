// Full garbage collections on demand, for the streamed big-message path only (messages of
// STREAM_THRESHOLD_BYTES or more). Reading 50 MB from a socket leaves 50 MB of dead reply Buffers, and
// parsing it as much again in the parse thread, and V8 collects external memory only once tens of MB of it
// have piled up: without help a 50 MB delivery grew the worker by 1.9x the message, with a collection each
// MiB (main thread while reading, parse thread while encoding) by 1.3x (npm run bench -- --only memory).
// The price is a full collection per MiB of a big message, a few ms each with a worker's small heap.
// The collector is looked up at the first collection, not as the module loads: `--expose-gc` is one of V8's
// flags, and V8 takes a code cache (Node's of its own modules, dist/'s of pophook's) only under the flags it
// was made with (src/runtime/v8-flags.ts). Under node's --expose-gc a thread's global object has `gc`;
// otherwise the flag is set then (it is process-wide) and `gc` read from a new context, as only contexts
// made after the flag get it (about 2 ms and 150 KB, once per thread).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collector: (() => void) | undefined;

/** One full collection of this thread's heap. */
export function collectGarbage(): void {
  collector ??= findCollector();
  collector();
}

function findCollector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed !== undefined) return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Bytes handled between two collections. */
export const COLLECT_EVERY_BYTES = 1024 * 1024;

/** Counts bytes as a big message flows through and collects garbage each `everyBytes`. */
export class GarbagePacer {
  #since = 0;

  constructor(
    private readonly everyBytes = COLLECT_EVERY_BYTES,
    private readonly collect = collectGarbage,
  ) {}

  add(bytes: number): void {
    this.#since += bytes;
    if (this.#since < this.everyBytes) return;
    this.#since = 0;
    this.collect();
  }

  /** Collects now (the end of a step whose garbage should not outlive it). */
  flush(): void {
    this.#since = 0;
    this.collect();
  }
}
