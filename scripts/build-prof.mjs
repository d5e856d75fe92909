// `npm run build` (and npm's prepare, so `npm ci` builds it): the compiled JavaScript bin/pophook.js runs.
// esbuild turns the TypeScript sources into two CommonJS bundles, dist/pophook.cjs (the command, what the
// main thread runs) and dist/parse-thread.cjs (a ParserPool thread), then V8's code cache of each is written
// beside it (`.v8cache`, by scripts/warm-code-cache.cjs): a start deserializes what V8 compiled instead of
// parsing and compiling megabytes of JavaScript again (src/boot/code-cache.ts says how, docs/performance.md
// "Start-up: compiled once" why). Bundled, not one file per module: resolving and loading ~600 module files
// cost a fresh process about a second of CPU. Types are checked by `npm run typecheck`, not here.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { build } from 'esbuild';

const root = new URL('../', import.meta.url);
const outdir = new URL('dist/', root).pathname;

// `--metafile <path>`: also write esbuild's account of what each bundle holds (a test reads which modules
// the main thread's bundle carries).
const metafileAt = process.argv.indexOf('--metafile');
const metafilePath = metafileAt === -1 ? undefined : process.argv[metafileAt + 1];

// Left in node_modules, required on use: the native msgpack decoder (below), pino-pretty (for a terminal) and
// the SDKs of optional features (S3 references, OAuth providers).
const onUse = ['msgpackr-extract', 'pino-pretty', '@aws-sdk/*', '@azure/msal-node', 'google-auth-library'];
// The parser's libraries, in the main thread only on rare paths (`pophook check`, onboarding by date,
// dead-letter headers, oversize splits): out of its bundle, which every start reads, and bundled into the
// parse thread's, which needs them at once.
const parserLibraries = ['mailparser', 'libmime', 'iconv-lite', 'email-reply-parser', '@zone-eu/mailsplit'];

// libmime learns the class of iconv-lite's double-byte decoder at load by building a whole GBK codec
// (`iconv.getCodec('gbk').decoder`): about 45 ms of the parse thread's start plus about 55 ms of TurboFan
// compiling the table loops. The class is DBCSCodec.prototype.decoder, the same object without the tables
// (test/integration/cli/compiled.test.ts checks that against the installed iconv-lite); the tables are built
// when a message in such a charset first needs them. The build fails if libmime's line changes.
const GBK_AT_LOAD = /([\w.]+)\.getCodec\('gbk'\)\.decoder/g;
const DBCS_DECODER_CLASS = "($1.getCodec('utf-8'), $1.encodings._dbcs.prototype.decoder)";
const libmimeWithoutGbkAtLoad = {
  name: 'libmime-without-gbk-at-load',
  setup(build) {
    // Its ES module and CommonJS builds both: mailparser imports the one, a dependency requires the other.
    build.onLoad({ filter: /[\\/]libmime[\\/]dist[\\/](esm|cjs)[\\/]charset\.js$/ }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      if (source.match(GBK_AT_LOAD)?.length !== 1) throw new Error(`${path}: ${GBK_AT_LOAD} not found once`);
      return { contents: source.replace(GBK_AT_LOAD, DBCS_DECODER_CLASS), loader: 'js' };
    });
  },
};

// esbuild writes letters beyond ASCII in strings as escapes but leaves them in regular expression literals,
// and one such letter makes V8 hold the whole bundle as a two-byte string (2.6 MB for the parse thread's
// instead of 1.3). email-reply-parser's patterns are the only ones; as \u escapes they match the same.
const regexLettersEscaped = {
  name: 'regex-letters-escaped',
  setup(build) {
    build.onLoad({ filter: /[\\/]email-reply-parser[\\/]dist[\\/]regex\.js$/ }, async ({ path }) => ({
      contents: (await readFile(path, 'utf8')).replace(
        /[^\x00-\x7f]/g,
        (letter) => `\\u${letter.charCodeAt(0).toString(16).padStart(4, '0')}`,
      ),
      loader: 'js',
    }));
  },
};

// mailsplit requires libmime, libqp and libbase64 while mailparser imports them: esbuild would bundle each
// twice, the CommonJS build and the ES module build, and the parse thread would load both (libmime's
// type tables twice). The imports take the CommonJS builds too, which export the same names.
const oneCopyOfMimeLibraries = {
  name: 'one-copy-of-mime-libraries',
  setup(build) {
    build.onResolve({ filter: /^(libmime|libqp|libbase64)$/ }, ({ path, kind, resolveDir }) =>
      kind === 'import-statement' ? build.resolve(path, { kind: 'require-call', resolveDir }) : undefined,
    );
  },
};

// mailparser builds linkify-it's matcher at load (every top-level domain in a few large patterns, compiled
// four times over: about 10 ms of the parse thread's start) for its textAsHtml, which pophook turns off
// (skipTextToHtml in src/payload/mail-parser.ts), so findLinks is never reached. The parse thread's bundle
// gets a linkify-it that answers mailparser's set-up calls and throws if it is ever asked to find a link;
// a set-up call it does not know fails the build's warm-up, which loads the bundle.
const linkifyLeftOut = {
  name: 'linkify-left-out',
  setup(build) {
    build.onResolve({ filter: /^linkify-it$/ }, () => ({ path: 'linkify-it', namespace: 'left-out' }));
    build.onLoad({ filter: /.*/, namespace: 'left-out' }, () => ({
      contents: `const leftOut = () => { throw new Error('linkify-it is left out of the parse thread: mailparser runs with skipTextToHtml'); };
const linkify = { tlds: () => linkify, add: () => linkify, set: () => linkify, pretest: leftOut, match: leftOut, test: leftOut };
export default () => linkify;`,
      loader: 'js',
    }));
  },
};

const common = {
  absWorkingDir: root.pathname,
  outdir,
  bundle: true,
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  platform: 'node',
  target: 'node20.18',
  legalComments: 'none',
  minifyWhitespace: false,
  minifySyntax: true,
  logLevel: 'warning',
  metafile: metafilePath !== undefined,
};
// The two bundles are each the function Node wraps a CommonJS module in (src/boot/code-cache.ts runs it), so
// the source V8 keeps is the file as read, not a copy with the wrapper added. Code that finds package files
// from its own URL (src/package-files.ts) reads it from the bundle's path.
const wrapped = {
  ...common,
  banner: {
    js: "(function (exports, require, module, __filename, __dirname) {var __pophookUrl = require('node:url').pathToFileURL(__filename).href;",
  },
  footer: { js: '})' },
  define: {
    'import.meta.url': '__pophookUrl',
    // msgpackr looks for its native decoder (msgpackr-extract, through node-gyp-build's search of the
    // package's prebuilt binaries) as it loads, unless this says not to: BullMQ only packs with it (its Lua
    // scripts unpack), so the decoder was never used, and the search cost the main thread 10 ms at start.
    'process.env.MSGPACKR_NATIVE_ACCELERATION_DISABLED': '"true"',
  },
};

rmSync(outdir, { recursive: true, force: true });
const results = await Promise.all([
  build({
    ...wrapped,
    entryPoints: { pophook: 'workers/main.ts' },
    external: [...onUse, ...parserLibraries],
  }),
  build({
    ...wrapped,
    entryPoints: { 'parse-thread': 'src/payload/parse-thread.ts' },
    external: onUse,
    plugins: [libmimeWithoutGbkAtLoad, regexLettersEscaped, oneCopyOfMimeLibraries, linkifyLeftOut],
  }),
  // Plain CommonJS modules that node itself loads: the loader (the bin requires it) and the thread's entry.
  build({
    ...common,
    entryPoints: { boot: 'src/boot/code-cache.ts', 'parse-thread-main': 'src/payload/parse-thread-main.ts' },
  }),
]);
if (metafilePath !== undefined) {
  const outputs = Object.assign({}, ...results.map((r) => r.metafile.outputs));
  const inputs = Object.assign({}, ...results.map((r) => r.metafile.inputs));
  writeFileSync(metafilePath, JSON.stringify({ inputs, outputs }));
}

// V8 takes a cache only under the flags it was made with, so the warm-up runs as the kernel runs the bin: the
// interpreter of its first line, given the rest of that line as one argument (env -S splits it).
const binLine = readFileSync(new URL('bin/pophook.js', root), 'utf8').split('\n', 1)[0].slice('#!'.length);
const interpreterEnd = binLine.indexOf(' ');
execFileSync(
  binLine.slice(0, interpreterEnd),
  [binLine.slice(interpreterEnd + 1), new URL('scripts/warm-code-cache.cjs', root).pathname],
  { stdio: 'inherit' },
);
