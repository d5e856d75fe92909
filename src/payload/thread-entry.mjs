// Entry of a ParserPool thread run from the TypeScript sources (the bundle in dist/ starts its own
// parse-thread.js). A worker thread inherits neither tsx's loader hooks (registered in the main thread by
// bin/pophook.js) nor vitest's transform, and on Node 20 `execArgv: ['--import', 'tsx']` does not give the
// thread the hooks either (it fails with "Unknown file extension .ts"). So this plain module registers tsx
// inside the thread itself, then loads the TypeScript. Checked both ways: under vitest, and under plain
// `node` with tsx registered as bin/pophook.js does (test/integration/payload/pool-under-tsx).
import { register } from 'tsx/esm/api';

register();
await import('./parse-thread.ts');
