// The parse thread's entry point in dist/: the bundle beside it, run through the code cache. The build's
// warm-up starts this thread with `writeCodeCache` in its workerData: it writes the cache and ends.
import { join } from 'node:path';
import { workerData } from 'node:worker_threads';
import { loadBundle } from '../boot/code-cache.ts';

const bundle = loadBundle(join(__dirname, 'parse-thread.cjs'));
if ((workerData as { writeCodeCache?: boolean } | null)?.writeCodeCache === true) {
  bundle.saveCodeCache();
  process.exit(0);
}
