// Entry of a ParserPool thread. A worker thread inherits neither tsx's loader hooks (registered in the main
// thread by bin/pophook.js) nor vitest's transform, and Node 20 rejects `--import tsx` in a Worker's
// execArgv, so this plain module registers tsx inside the thread itself and then loads the TypeScript.
// Checked both ways: under vitest, and under `node` with tsx registered as bin/pophook.js does.
import { register } from 'tsx/esm/api';

register();
await import('./parse-thread.ts');
