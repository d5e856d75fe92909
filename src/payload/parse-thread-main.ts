// The parse thread's entry point in dist/: the bundle beside it, run through the code cache. The build's
// warm-up starts this thread with POPHOOK_WRITE_CODE_CACHE=1: it writes the cache and ends.
import { join } from 'node:path';
import { loadBundle } from '../boot/code-cache.ts';

const bundle = loadBundle(join(__dirname, 'parse-thread.cjs'));
if (process.env.POPHOOK_WRITE_CODE_CACHE === '1') {
  bundle.saveCodeCache();
  process.exit(0);
}
