// The arrays the parse thread's per-message functions hand on keep one shape once V8 optimizes them. An
// Array.prototype.map that TurboFan inlines returns a holey array where the interpreter's returned a packed
// one; the code reading it has seen only packed arrays, deoptimizes ("wrong map") and is optimized again
// hundreds of messages later, in the middle of a backlog (docs/performance.md, "the JIT's warm-up"). Each
// function runs in a child node with V8's natives syntax: warmed up, optimized, then asked once more.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * Calls `fn` of `module` with `args` (an expression for its argument list) warm, then optimized, and says
 * whether it was optimized and whether `pick` of its answer is holey.
 */
function shapeWhenOptimized(module: string, fn: string, args: string, pick: string): string {
  const script = `
    const m = await import(${JSON.stringify(module)});
    const args = ${args};
    // Natives syntax inside Function bodies: only V8 parses them, whatever loader reads this script.
    const natives = (body) => new Function('x', body);
    const prepare = natives('%PrepareFunctionForOptimization(x)');
    const optimizeNext = natives('%OptimizeFunctionOnNextCall(x)');
    const holey = natives('return %HasHoleyElements(x)');
    const optimized = natives('return (%GetOptimizationStatus(x) & 16) !== 0');
    const f = m.${fn};
    prepare(f);
    for (let i = 0; i < 3; i++) await f(...args);
    optimizeNext(f);
    const result = await f(...args);
    console.log(JSON.stringify({ optimized: optimized(f), holey: holey((${pick})(result)) }));`;
  return execFileSync(
    process.execPath,
    ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', script],
    { encoding: 'utf8', timeout: 30_000 },
  ).trim();
}

const MESSAGE = [
  'From: Ann <ann@example.com>',
  'To: desk@example.com',
  'Subject: invoice',
  'Message-ID: <1@example.com>',
  'Content-Type: multipart/mixed; boundary="b"',
  '',
  '--b',
  'Content-Type: text/plain',
  '',
  'Hello',
  '--b',
  'Content-Type: application/pdf; name="a.pdf"',
  'Content-Transfer-Encoding: base64',
  '',
  'JVBERi0=',
  '--b--',
  '',
].join('\r\n');

describe('array shapes under TurboFan', () => {
  it("readRootHeaders' headers stay packed", () => {
    const answer = shapeWhenOptimized(
      './src/payload/root-headers.ts',
      'readRootHeaders',
      JSON.stringify(['From: a@example.com\r\nSubject: hi\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000']),
      '(r) => r.headers',
    );
    expect(JSON.parse(answer)).toEqual({ optimized: true, holey: false });
  });

  it("parseMail's attachments stay packed", () => {
    const answer = shapeWhenOptimized(
      './src/payload/mail-parser.ts',
      'parseMail',
      `[Buffer.from(${JSON.stringify(MESSAGE)}), (await import('./src/payload/index.ts')).DEFAULT_PARSE_LIMITS]`,
      '(r) => r.attachments',
    );
    expect(JSON.parse(answer)).toEqual({ optimized: true, holey: false });
  });
});
