import { describe, expect, it } from 'vitest';
import { isPop3Error, LineReader } from '../../../src/pop3/index.ts';

/** Feeds chunks and returns every line read, as strings. */
function readLines(reader: LineReader, chunks: Buffer[]): string[] {
  const lines: string[] = [];
  for (const chunk of chunks) {
    let at = 0;
    for (let result = reader.read(chunk, at); result; result = reader.read(chunk, at)) {
      lines.push(result.line.toString('latin1'));
      at = result.end;
      if (at >= chunk.length) break;
    }
  }
  return lines;
}

const INPUT = Buffer.from('+OK hello\r\n-ERR [IN-USE] busy\r\n\r\n+ \r\n+OK bare lf\n');
const EXPECTED = ['+OK hello', '-ERR [IN-USE] busy', '', '+ ', '+OK bare lf'];

describe('LineReader', () => {
  it('reads lines fed whole', () => {
    expect(readLines(new LineReader(), [INPUT])).toEqual(EXPECTED);
  });

  it('reads lines fed byte by byte', () => {
    const bytes = [...INPUT].map((byte) => Buffer.from([byte]));
    expect(readLines(new LineReader(), bytes)).toEqual(EXPECTED);
  });

  it('reads lines split at every offset', () => {
    for (let cut = 0; cut <= INPUT.length; cut++) {
      const lines = readLines(new LineReader(), [INPUT.subarray(0, cut), INPUT.subarray(cut)]);
      expect(lines, `cut at ${cut}`).toEqual(EXPECTED);
    }
  });

  it('keeps a CR that is not followed by LF inside the line', () => {
    expect(readLines(new LineReader(), [Buffer.from('+OK a\rb\r\n')])).toEqual(['+OK a\rb']);
  });

  it('reports an unfinished line', () => {
    const reader = new LineReader();
    expect(reader.read(Buffer.from('+OK par'))).toBeNull();
    expect(reader.hasPartialLine).toBe(true);
    expect(reader.read(Buffer.from('tial\r\n'))?.line.toString()).toBe('+OK partial');
    expect(reader.hasPartialLine).toBe(false);
  });

  it('accepts a line of exactly the bound and refuses one byte more, also across chunks', () => {
    const max = 16;
    const exact = Buffer.from(`${'x'.repeat(max)}\r\n`);
    expect(new LineReader(max).read(exact)?.line.length).toBe(max);
    const over = Buffer.from(`${'x'.repeat(max + 1)}\r\n`);
    expect(() => new LineReader(max).read(over)).toThrow(
      expect.objectContaining({ code: 'POP3_LINE_TOO_LONG' }),
    );
    const reader = new LineReader(max);
    let error: unknown;
    try {
      for (let i = 0; i < 100; i++) reader.read(Buffer.from('yyyy'));
    } catch (caught) {
      error = caught;
    }
    expect(isPop3Error(error, 'POP3_LINE_TOO_LONG')).toBe(true);
  });
});
