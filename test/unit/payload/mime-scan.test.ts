import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPophookError } from '../../../src/errors.ts';
import { scanMime } from '../../../src/payload/mime-scan.ts';
import { deepNesting, longHeaderLine, manyParts } from '../../fixtures/mime/corpus.ts';

const limits = { maxParts: 1000, maxDepth: 32, maxHeaderBytes: 64 * 1024 };
const lines = (...l: string[]) => Buffer.from(l.join('\r\n'));

function limitOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return isPophookError(error, 'PAYLOAD_LIMIT') ? error.details.limit : error;
  }
  return 'no error';
}

describe('scanMime', () => {
  it('counts parts and depth of nested multiparts, and finds the root body', () => {
    const raw = lines(
      'Content-Type: multipart/mixed; boundary=o',
      '',
      '--o',
      'Content-Type: multipart/alternative; boundary="i"',
      '',
      '--i',
      '',
      'a',
      '--i',
      '',
      'b',
      '--i--',
      '--o',
      '',
      'c',
      '--o--',
      '',
    );
    const scan = scanMime(raw, limits);
    expect({ parts: scan.parts, depth: scan.maxDepth, warnings: [...scan.warnings] }).toEqual({
      parts: 5,
      depth: 2,
      warnings: [],
    });
    expect(raw.toString('latin1', scan.bodyStart, scan.bodyStart + 3)).toBe('--o');
    expect(scan.rootHeader).toBe('Content-Type: multipart/mixed; boundary=o\r\n');
  });

  it('enforces maxParts, maxDepth and maxHeaderBytes with PAYLOAD_LIMIT', () => {
    expect(limitOf(() => scanMime(manyParts(10_000), limits))).toBe('maxParts');
    expect(limitOf(() => scanMime(deepNesting(100), limits))).toBe('maxDepth');
    expect(limitOf(() => scanMime(longHeaderLine(2 * 1024 * 1024), limits))).toBe('maxHeaderBytes');
    expect(limitOf(() => scanMime(manyParts(999), limits))).toBe('no error');
    expect(limitOf(() => scanMime(deepNesting(32), limits))).toBe('no error');
  });

  it('counts a header block of a nested part against maxHeaderBytes', () => {
    const raw = lines(
      'Content-Type: multipart/mixed; boundary=b',
      '',
      '--b',
      `X-Big: ${'x'.repeat(70_000)}`,
      '',
      'body',
      '--b--',
    );
    expect(limitOf(() => scanMime(raw, limits))).toBe('maxHeaderBytes');
  });

  it('counts an embedded message/rfc822 as a container, but not a base64 one', () => {
    const embedded = (encoding: string) =>
      lines(
        'Content-Type: multipart/mixed; boundary=b',
        '',
        '--b',
        'Content-Type: message/rfc822',
        encoding,
        '',
        'Content-Type: multipart/mixed; boundary=inner',
        '',
        '--inner',
        '',
        'x',
        '--inner--',
        '--b--',
      );
    expect(scanMime(embedded('X-Plain: 1'), limits).maxDepth).toBe(3);
    expect(scanMime(embedded('Content-Transfer-Encoding: base64'), limits).maxDepth).toBe(1);
  });

  it('lets a delimiter of an outer multipart close an inner one left open (RFC 2046 §5.1.1)', () => {
    const raw = lines(
      'Content-Type: multipart/mixed; boundary=o',
      '',
      '--o',
      'Content-Type: multipart/mixed; boundary=i',
      '',
      '--i',
      '',
      'never closed',
      '--o--',
      '',
    );
    expect([...scanMime(raw, limits).warnings]).toEqual([]);
  });

  it('reads boundaries with comments, RFC 2231 continuations and transport padding', () => {
    const raw = lines(
      'Content-Type: multipart/mixed; (a comment) boundary*0="ab"; boundary*1*=%63d',
      '',
      '--abcd  ',
      '',
      'x',
      '--abcd--\t',
    );
    const scan = scanMime(raw, limits);
    expect([scan.parts, [...scan.warnings]]).toEqual([2, []]);
  });

  it('warns about a missing or non-ASCII boundary, an unknown charset, NUL bytes, a missing close', () => {
    const warn = (...l: string[]) => [...scanMime(lines(...l), limits).warnings];
    expect(warn('Content-Type: multipart/mixed', '', 'x')).toEqual(['missing-boundary']);
    expect(warn('Content-Type: multipart/mixed; boundary="\xe9t\xe9"', '', 'x')).toEqual([
      'missing-boundary',
    ]);
    expect(warn('Content-Type: text/plain; charset=utf-7', '', 'x')).toEqual(['invalid-charset']);
    expect(warn('Subject: a', '', 'x\u0000y')).toEqual(['nul-bytes']);
    expect(warn('Content-Type: multipart/mixed; boundary=b', '', '--b', '', 'x')).toEqual([
      'unterminated-multipart',
    ]);
  });

  it('marks a root multipart without boundary so its body can still be delivered', () => {
    expect(scanMime(lines('Content-Type: multipart/mixed', '', 'x'), limits).rootMissingBoundary).toBe(true);
    expect(scanMime(lines('Subject: s', '', 'x'), limits).rootMissingBoundary).toBe(false);
  });

  it('handles a message that is all header, and an empty message', () => {
    expect(scanMime(Buffer.from('Subject: only\r\n'), limits)).toMatchObject({
      parts: 1,
      rootHeader: 'Subject: only\r\n',
    });
    expect(scanMime(Buffer.alloc(0), limits)).toMatchObject({ parts: 1, bodyStart: 0 });
  });

  it('on any mix of MIME-like lines, returns or throws PAYLOAD_LIMIT, nothing else', () => {
    const line = fc.oneof(
      fc.constantFrom('', '--a', '--a--', '--b', '--b--', 'Content-Type: multipart/mixed; boundary=a'),
      fc.constantFrom('Content-Type: multipart/alternative; boundary="b"', 'Content-Type: message/rfc822'),
      fc.constantFrom('Content-Type: text/plain; charset=x-bad', ' folded', 'text\u0000', '\r'),
      fc.string({ maxLength: 20 }),
    );
    const tight = { maxParts: 6, maxDepth: 3, maxHeaderBytes: 200 };
    fc.assert(
      fc.property(fc.array(line, { maxLength: 60 }), fc.constantFrom('\r\n', '\n'), (list, eol) => {
        const raw = Buffer.from(list.join(eol));
        try {
          const scan = scanMime(raw, tight);
          expect(scan.parts).toBeLessThanOrEqual(tight.maxParts);
          expect(scan.maxDepth).toBeLessThanOrEqual(tight.maxDepth);
          expect(scan.bodyStart).toBeLessThanOrEqual(raw.length);
        } catch (error) {
          expect(isPophookError(error, 'PAYLOAD_LIMIT')).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
