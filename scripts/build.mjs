// `npm run build` (and npm's prepare, so `npm ci` builds it): the compiled JavaScript bin/pophook.js runs.
// esbuild turns the TypeScript sources into two bundled entry points, dist/pophook.js (the command) and
// dist/parse-thread.js (a ParserPool thread), plus shared chunks for what loads on use (one-shot commands,
// OAuth providers, the service). Bundled, not one file per module: resolving and loading ~600 module
// files cost a fresh process about a second of CPU and kept V8's background compiler busy optimizing the
// module loader (docs/performance.md, "Start-up"). Types are checked by `npm run typecheck`, not here.
import { rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('../', import.meta.url);
const outdir = new URL('dist/', root).pathname;

// `--metafile <path>`: also write esbuild's account of what each output file holds and imports (a test reads
// which modules the main thread loads at start-up).
const metafileAt = process.argv.indexOf('--metafile');
const metafilePath = metafileAt === -1 ? undefined : process.argv[metafileAt + 1];

rmSync(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root.pathname,
  entryPoints: { pophook: 'workers/main.ts', 'parse-thread': 'src/payload/parse-thread.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.18',
  // The native msgpack decoder BullMQ tries (and can do without) and pino-pretty (required on use, for a
  // terminal) stay in node_modules.
  external: ['msgpackr-extract', 'pino-pretty'],
  // CommonJS dependencies inside an ES module bundle still ask for require, __filename and __dirname
  // (BullMQ in its error paths, for one).
  banner: {
    js: [
      "import { createRequire as __pophookRequire } from 'node:module';",
      "import { fileURLToPath as __pophookPath } from 'node:url';",
      'const require = __pophookRequire(import.meta.url);',
      'const __filename = __pophookPath(import.meta.url);',
      "const __dirname = __pophookPath(new URL('.', import.meta.url));",
    ].join('\n'),
  },
  // Beside the entry points: code that finds package files from its own URL (src/package-files.ts) sits
  // one level below the package root either way.
  chunkNames: 'chunk-[hash]',
  legalComments: 'none',
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  metafile: metafilePath !== undefined,
});
if (metafilePath !== undefined) writeFileSync(metafilePath, JSON.stringify(result.metafile));
