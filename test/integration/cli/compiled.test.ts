// The compiled pophook, as users and the image run it: `npm run build` bundles dist/, and bin/pophook.js runs
// it with no TypeScript loader (a module hook makes any tsx import fail), parse thread included, through a
// whole delivery. A dist/ older than the sources is not run: the bin says so and runs the sources.
// (Every other test runs the sources: vitest.config.ts sets POPHOOK_FROM_SOURCE=1.)
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { SERVICE_V8_FLAGS } from '../../../src/runtime/v8-flags.ts';
import { type DovecotServer, startDovecot } from '../../helpers/dovecot.ts';
import { smallCorpus } from '../../helpers/mail-corpus.ts';
import {
  BIN,
  BIN_ENV,
  BIN_NODE_FLAGS,
  idleConfig,
  startPophook,
  writeTestConfig,
} from '../../helpers/pophook-process.ts';
import { type Receiver, startReceiver } from '../../helpers/receiver.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';
import { waitUntil } from '../../helpers/wait.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BUNDLE = join(ROOT, 'dist', 'pophook.cjs');
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const USER = 'compiled';
const PASSWORD = 'compiled-password';
/** Registers a resolve hook that fails any import of tsx: the compiled run must not load it. */
const NO_TSX = `--import=data:text/javascript,${encodeURIComponent(
  `import { register } from 'node:module';
   register('data:text/javascript,' + encodeURIComponent(
     'export async function resolve(s, c, next) { if (s.includes("tsx")) throw new Error("tsx loaded: " + s); return next(s, c); }'));`,
)}`;
/** The compiled command, not the sources vitest.config.ts asks for. */
const COMPILED_ENV = { POPHOOK_FROM_SOURCE: '', NODE_OPTIONS: NO_TSX };

let dovecot: DovecotServer;
let redis: RedisServer;
let receiver: Receiver;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pophook-compiled-'));
  await run(process.execPath, ['scripts/build.mjs', '--metafile', join(dir, 'meta.json')], {
    cwd: ROOT,
    timeout: 60_000,
  });
  [dovecot, redis, receiver] = await Promise.all([
    startDovecot({ users: { [USER]: PASSWORD } }),
    startRedisServer(),
    startReceiver({ secret: SECRET }),
  ]);
}, 90_000);

afterAll(async () => {
  await Promise.all([dovecot?.stop(), redis?.stop(), receiver?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** `pophook run` from dist/ against the test's Dovecot user, Redis and verifying receiver, under a new prefix. */
async function runCompiled(prefix: string) {
  await receiver.setRespond((request) => (request.verified ? 200 : 401));
  const path = await writeTestConfig({
    dir,
    redisUrl: redis.url,
    prefix: `${prefix}${randomBytes(4).toString('hex')}`,
    webhookUrl: receiver.url,
    secret: SECRET,
    pop3: { port: dovecot.pop3Port, caPem: dovecot.caPem, username: USER, password: PASSWORD },
  });
  return startPophook(['run', '--config', path], COMPILED_ENV);
}

describe('the compiled command', () => {
  it('delivers a message from dist/ without loading tsx, in the main thread or the parse thread', async () => {
    const [message] = smallCorpus(1, 15);
    await dovecot.addMessages(USER, [message!.raw]);
    const child = await runCompiled('compiled');
    try {
      const [delivery] = await receiver.waitFor((ds) => ds.some((d) => d.status === 200), 30_000);
      expect(delivery?.verified).toBe(true);
      const started = child.logs.find((line) => line.msg === 'pophook started');
      expect(started?.startupCpuMs).toEqual(expect.any(Number));
      expect(child.text.join('\n')).not.toMatch(/tsx|sources/);
    } finally {
      await child.stop();
    }
  }, 60_000);

  it("reads GB18030, French reply headers and links in the parse thread, as its bundle's build changed them", async () => {
    // scripts/build.mjs hands libmime iconv-lite's double-byte decoder class instead of a GBK codec built
    // to read it from: the same object, checked here against the installed iconv-lite. It also writes
    // email-reply-parser's letters beyond ASCII as \u escapes: its French header ("a écrit") still cuts.
    const same = await run(
      process.execPath,
      [
        '-p',
        `const iconv = require('iconv-lite');
         iconv.getCodec('gbk').decoder === (iconv.getCodec('utf-8'), iconv.encodings._dbcs.prototype.decoder)`,
      ],
      { cwd: ROOT, timeout: 20_000 },
    );
    expect(same.stdout.trim()).toBe('true');
    const text = '\u53d1\u7968\u5df2\u6536\u5230 \ud83d\ude80 \u4e2d\u6587\u62a5\u4ef7\u5355';
    const headers = (subject: string, charset: string) =>
      Buffer.from(
        `From: a@example.com\r\nTo: b@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@example.com>\r\n` +
          `MIME-Version: 1.0\r\nContent-Type: text/plain; charset=${charset}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n`,
      );
    // The link would reach linkify-it, which the build left out, if mailparser built textAsHtml after all.
    const french =
      'Merci ! https://example.com/facture\r\n\r\nLe 3 d\u00e9c. 2026 \u00e0 10:00, Jean <jean@example.com> a \u00e9crit :\r\n> Bonjour\r\n';
    await dovecot.addMessages(USER, [
      Buffer.concat([headers('gb18030', 'gb18030'), iconv.encode(`${text}\r\n`.repeat(200), 'gb18030')]),
      Buffer.concat([headers('french', 'utf-8'), Buffer.from(french)]),
    ]);
    const child = await runCompiled('gb');
    try {
      type Payload = { subject: string; text: string; strippedText: string };
      const bySubject = (ds: readonly { json: unknown }[], subject: string) =>
        ds.map((d) => d.json as Payload | undefined).find((p) => p?.subject === subject);
      const deliveries = await receiver.waitFor(
        (ds) => bySubject(ds, 'gb18030') !== undefined && bySubject(ds, 'french') !== undefined,
        30_000,
      );
      expect(bySubject(deliveries, 'gb18030')?.text).toBe(`${text}\n`.repeat(200));
      expect(bySubject(deliveries, 'french')?.strippedText).toBe('Merci ! https://example.com/facture');
    } finally {
      await child.stop();
    }
  }, 60_000);

  it('runs the sources, and says so, when dist/ is older than them', async () => {
    const { atime, mtime } = await stat(BUNDLE);
    await utimes(BUNDLE, 0, 0);
    try {
      const { stdout, stderr } = await run(process.execPath, [BIN, '--version'], {
        env: { ...process.env, POPHOOK_FROM_SOURCE: '' },
        timeout: 20_000,
      });
      expect(stdout).toMatch(/^pophook \d/);
      expect(stderr).toMatch(
        /changed since dist\/ was built \(npm run build\): running the TypeScript sources/,
      );
    } finally {
      await utimes(BUNDLE, atime, mtime);
    }
    const fresh = await run(process.execPath, [BIN, '--version'], {
      env: { ...process.env, ...COMPILED_ENV },
      timeout: 20_000,
    });
    expect(fresh.stderr).toBe('');
  }, 60_000);

  it('runs as an executable, with the V8 flags of its first line in the main isolate', async () => {
    const { stdout } = await run(BIN, ['--version'], {
      env: { ...process.env, ...COMPILED_ENV },
      timeout: 20_000,
    });
    expect(stdout).toMatch(/^pophook \d/);
    // Linux reads at most 256 bytes of a #! line; one longer fails or, on older kernels, loses flags.
    expect(Buffer.byteLength((await readFile(BIN, 'utf8')).split('\n', 1)[0]!)).toBeLessThan(255);
    // The young generation the flags ask for (sized at isolate creation, so only the command line sets it):
    // with two million objects kept, V8 would grow it to 32 MB; the flags hold it at 4 MB (two 2 MB halves).
    const youngSpace = await run(
      process.execPath,
      [
        ...BIN_NODE_FLAGS,
        '-p',
        `const kept = []; for (let i = 0; i < 2e6; i++) kept.push({ i });
         v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size`,
      ],
      { timeout: 20_000 },
    );
    expect(Number(youngSpace.stdout)).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(BIN_NODE_FLAGS).toContain('--single-threaded-gc');
  }, 60_000);

  it("sets its first line's environment (glibc's malloc settings) in the running service", async () => {
    expect(BIN_ENV).toEqual({ MALLOC_ARENA_MAX: '1', MALLOC_MMAP_THRESHOLD_: '131072' });
    const path = join(dir, 'idle.yml');
    await writeFile(path, stringify(idleConfig(redis.url, `env${randomBytes(4).toString('hex')}`)));
    const { MALLOC_ARENA_MAX: _unset, ...env } = process.env;
    const child = spawn(BIN, ['run', '--config', path], {
      env: { ...env, ...COMPILED_ENV },
      stdio: 'ignore',
    });
    try {
      const proc = (file: string) => readFile(`/proc/${child.pid}/${file}`, 'utf8').catch(() => '');
      // env execs node in the same process, its first line's settings set.
      await waitUntil('env to start node', async () => (await proc('cmdline')).startsWith('node\0'), 20_000);
      const environ = (await proc('environ')).split('\0');
      expect(environ).toContain('MALLOC_ARENA_MAX=1');
      expect(environ).toContain('MALLOC_MMAP_THRESHOLD_=131072');
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }, 60_000);

  it("keeps undici's HTTP parser (WebAssembly) on V8's baseline compiler: no 35 MB moment as it warms up", async () => {
    // 1,500 webhook-sized exchanges: V8's tier-up of llhttp's one giant function to TurboFan peaks about 35 MB
    // above where it started (42 MB here without the flags); with them the process grows by about 8 MB. The
    // service sets them once it is up, before its first webhook request (src/runtime/v8-flags.ts).
    const grown = await run(
      process.execPath,
      [
        ...BIN_NODE_FLAGS,
        '--input-type=module',
        '-e',
        `import { createServer } from 'node:http';
         import { readFileSync } from 'node:fs';
         import { setFlagsFromString } from 'node:v8';
         setFlagsFromString(${JSON.stringify(SERVICE_V8_FLAGS.join(' '))});
         const { Agent, request } = await import('undici');
         const peak = () => Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
         const server = createServer((req, res) => req.resume().on('end', () => res.end('ok')));
         await new Promise((listening) => server.listen(0, '127.0.0.1', listening));
         const url = 'http://127.0.0.1:' + server.address().port + '/';
         const agent = new Agent();
         const before = peak();
         for (let i = 0; i < 1500; i++) {
           await (await request(url, { method: 'POST', body: 'x'.repeat(2000), dispatcher: agent })).body.dump();
         }
         console.log(Math.round((peak() - before) / 1024));
         process.exit(0);`,
      ],
      { cwd: ROOT, timeout: 30_000 },
    );
    expect(Number(grown.stdout)).toBeGreaterThan(0);
    expect(Number(grown.stdout)).toBeLessThan(20);
  }, 60_000);

  it("bundles no MIME parsing or charset code into the main thread's bundle (the parse thread has it)", async () => {
    const meta: Metafile = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8'));
    // `pophook run`: the command's bundle, the service inside it.
    const service = inputsLoaded(meta, ['workers/main.ts', 'workers/service.ts']);
    expect(service).toContain('src/mailbox/session.ts');
    // ~1 MB the main thread only needs on rare paths (`pophook check`, onboarding by date, dead-letter
    // headers), which every start would read: required from node_modules on first use there.
    const mime = /node_modules\/(mailparser|libmime|iconv-lite|encoding-japanese|@zone-eu\/mailsplit)\//;
    expect(service.filter((input) => mime.test(input))).toEqual([]);
    expect(inputsLoaded(meta, ['src/payload/parse-thread.ts']).some((input) => mime.test(input))).toBe(true);
  });

  it("bundles one build of libmime, libqp and libbase64 and no linkify-it into the parse thread's bundle", async () => {
    const meta: Metafile = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8'));
    const thread = inputsLoaded(meta, ['src/payload/parse-thread.ts']);
    // mailparser imports them, mailsplit requires them: the CommonJS builds serve both (scripts/build.mjs).
    for (const library of ['libmime', 'libqp', 'libbase64']) {
      const builds = thread.filter((input) => input.startsWith(`node_modules/${library}/dist/`));
      expect(builds.length, library).toBeGreaterThan(0);
      expect(builds.filter((input) => !input.startsWith(`node_modules/${library}/dist/cjs/`))).toEqual([]);
    }
    expect(thread.filter((input) => input.includes('node_modules/linkify-it/'))).toEqual([]);
  });

  it("loads zod's English messages only, not its 40 other locales (`import * as z`, which esbuild can shake)", async () => {
    const meta: Metafile = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8'));
    // (locales/index.js, the namespace of re-exports, leaves a few bytes of it in a CommonJS bundle.)
    const locales = inputsLoaded(meta, ['workers/main.ts', 'workers/service.ts']).filter(
      (input) => input.startsWith('node_modules/zod/v4/locales/') && !input.endsWith('/index.js'),
    );
    expect(locales).toEqual(['node_modules/zod/v4/locales/en.js']);
  });

  it("starts from V8's code cache of both bundles, which the build wrote under the bin's flags", async () => {
    // What a start of the main thread and of a parse thread reads: src/boot/code-cache.ts.
    const cached = await run(
      process.execPath,
      [
        ...BIN_NODE_FLAGS,
        '-e',
        `const { Worker } = require('node:worker_threads');
         const { loadBundle } = require('./dist/boot.cjs');
         const main = loadBundle(require('node:path').resolve('dist/pophook.cjs'));
         const thread = new Worker(
           "const { parentPort } = require('node:worker_threads');" +
           "const { loadBundle } = require(" + JSON.stringify(require.resolve('./dist/boot.cjs')) + ");" +
           "parentPort.postMessage({ cached: loadBundle(" + JSON.stringify(require('node:path').resolve('dist/parse-thread.cjs')) + ").cached });",
           { eval: true, workerData: { limits: {}, payloadOptions: {} } },
         );
         thread.on('message', (m) => {
           if (typeof m.cached !== 'boolean') return;
           console.log(JSON.stringify({ main: main.cached, thread: m.cached, run: typeof main.exports.main }));
           process.exit(0);
         });`,
      ],
      { cwd: ROOT, timeout: 20_000 },
    );
    expect(JSON.parse(cached.stdout)).toEqual({ main: true, thread: true, run: 'function' });
    // Under other V8 flags V8 refuses the cache and compiles the source.
    const refused = await run(
      process.execPath,
      [
        '--expose-gc',
        '-p',
        `const b = require('./dist/boot.cjs').loadBundle(require('node:path').resolve('dist/pophook.cjs'));
         JSON.stringify({ cached: b.cached, run: typeof b.exports.main })`,
      ],
      { cwd: ROOT, timeout: 20_000 },
    );
    expect(JSON.parse(refused.stdout)).toEqual({ cached: false, run: 'function' });
  }, 60_000);

  it("starts from Node's own code cache of its modules: the running service's flags are set once it is up", async () => {
    // Node logs each built-in module's cache as V8 takes or refuses it; V8 refuses all of them under flags
    // other than its defaults (the bin's first line: src/boot/code-cache.ts puts its one such flag back).
    const path = join(dir, 'cache.yml');
    await writeFile(path, stringify(idleConfig(redis.url, `cache${randomBytes(4).toString('hex')}`)));
    // As a user runs it: no NODE_OPTIONS (the other tests' hook loads modules before the bin runs).
    const child = startPophook(['run', '--config', path], {
      POPHOOK_FROM_SOURCE: '',
      NODE_OPTIONS: '',
      NODE_DEBUG_NATIVE: 'CODE_CACHE',
    });
    try {
      await child.waitForLog((line) => line.msg === 'pophook started', 20_000);
      const verdicts = new Map<string, string[]>();
      for (const line of child.text.join('\n').split('\n')) {
        const verdict = /^Code cache of (\S+) \(\w+\) is (accepted|rejected)$/.exec(line.trim());
        if (verdict) verdicts.set(verdict[1]!, [...(verdicts.get(verdict[1]!) ?? []), verdict[2]!]);
      }
      // The main thread's HTTP client and server, Redis's sockets, the parse thread's start.
      for (const module of ['http', '_http_client', 'net', 'tls', 'crypto', 'worker_threads']) {
        expect(verdicts.get(module), module).toContain('accepted');
      }
      const all = [...verdicts.values()].flat();
      expect(all.filter((v) => v === 'accepted').length).toBeGreaterThan(
        all.filter((v) => v === 'rejected').length,
      );
    } finally {
      await child.stop();
    }
  }, 60_000);

  it('offers V8 no cache older than its bundle, and reads a bundle beyond ASCII as UTF-8', async () => {
    // V8 checks a cache against the source's length only: a rebuilt bundle of the same length with the old
    // cache beside it would run the old code.
    const bundle = join(dir, 'tiny.cjs');
    const load = `const b = require(${JSON.stringify(join(ROOT, 'dist', 'boot.cjs'))}).loadBundle(${JSON.stringify(bundle)});`;
    const wrap = (body: string) => `(function (exports, require, module, __filename, __dirname) {${body}})`;
    await writeFile(bundle, wrap("module.exports.word = 'caf\u00e9';"));
    await run(process.execPath, ['-e', `${load} b.saveCodeCache();`], { timeout: 20_000 });
    const fresh = await run(process.execPath, ['-p', `${load} JSON.stringify([b.cached, b.exports.word])`]);
    expect(JSON.parse(fresh.stdout)).toEqual([true, 'caf\u00e9']);
    // The same length, other code, written after the cache.
    await writeFile(bundle, wrap("module.exports.word = 'cafe';"));
    await utimes(bundle, new Date(), new Date(Date.now() + 60_000));
    const rebuilt = await run(process.execPath, ['-p', `${load} JSON.stringify([b.cached, b.exports.word])`]);
    expect(JSON.parse(rebuilt.stdout)).toEqual([false, 'cafe']);
    // Both bundles stay ASCII, read as one-byte strings (half the memory of two-byte ones).
    for (const file of ['pophook.cjs', 'parse-thread.cjs']) {
      expect((await readFile(join(ROOT, 'dist', file))).every((byte) => byte < 0x80)).toBe(true);
    }
    // No import() the loader could not serve: only BullMQ's, for sandboxed processors (unused).
    const imports = (file: string) =>
      readFile(join(ROOT, 'dist', file), 'utf8').then((code) => code.match(/\bimport\([^)]*\)/g) ?? []);
    expect(await imports('pophook.cjs')).toEqual(['import(processorFile)']);
    expect(await imports('parse-thread.cjs')).toEqual([]);
  }, 60_000);
});

/** esbuild's metafile: each output file with its inputs, the files it imports, and its entry point if any. */
interface Metafile {
  outputs: Record<
    string,
    { entryPoint?: string; inputs: Record<string, unknown>; imports: Array<{ path: string; kind: string }> }
  >;
}

/** The source files loading these entry points brings in: their output files and those they import statically. */
function inputsLoaded(meta: Metafile, entryPoints: string[]): string[] {
  const seen = new Set<string>();
  const visit = (output: string) => {
    if (seen.has(output)) return;
    seen.add(output);
    for (const { path, kind } of meta.outputs[output]?.imports ?? []) {
      if (kind === 'import-statement' && path.startsWith('dist/')) visit(path);
    }
  };
  for (const [output, { entryPoint }] of Object.entries(meta.outputs)) {
    if (entryPoint !== undefined && entryPoints.includes(entryPoint)) visit(output);
  }
  return [...seen].flatMap((output) => Object.keys(meta.outputs[output]?.inputs ?? {}));
}
