import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DotDecoder, encodeDotStuffed } from '../../../src/pop3/index.ts';

interface Decoded {
  body: Buffer;
  done: boolean;
  rest: Buffer;
}

function decodeChunks(chunks: Buffer[]): Decoded {
  const decoder = new DotDecoder();
  const out: Buffer[] = [];
  const rest: Buffer[] = [];
  for (const chunk of chunks) {
    if (decoder.done) {
      rest.push(chunk);
      continue;
    }
    const result = decoder.decode(chunk);
    out.push(...result.parts);
    if (result.done) rest.push(chunk.subarray(result.end));
  }
  return { body: Buffer.concat(out), done: decoder.done, rest: Buffer.concat(rest) };
}

function splitAt(data: Buffer, cuts: number[]): Buffer[] {
  const sorted = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const cut of sorted) {
    chunks.push(data.subarray(from, cut));
    from = cut;
  }
  chunks.push(data.subarray(from));
  return chunks;
}

const WIRE = Buffer.from(
  'Subject: x\r\n\r\n..leading dot\r\n...two\r\n.x stripped\r\nbare\nLF\r\n.\r\n+OK next\r\n',
);
const BODY = Buffer.from('Subject: x\r\n\r\n.leading dot\r\n..two\r\nx stripped\r\nbare\nLF\r\n');

describe('DotDecoder', () => {
  it('unstuffs and stops at the terminator, fed whole', () => {
    const decoded = decodeChunks([WIRE]);
    expect(decoded).toEqual({ body: BODY, done: true, rest: Buffer.from('+OK next\r\n') });
  });

  it('gives the same bytes fed byte by byte', () => {
    expect(decodeChunks([...WIRE].map((b) => Buffer.from([b])))).toEqual(decodeChunks([WIRE]));
  });

  it('gives the same bytes split at every offset (".." and the terminator across chunk edges)', () => {
    for (let cut = 0; cut <= WIRE.length; cut++) {
      expect(decodeChunks([WIRE.subarray(0, cut), WIRE.subarray(cut)]), `cut ${cut}`).toEqual(
        decodeChunks([WIRE]),
      );
    }
  });

  it('treats ".CRLF" as the first line as an empty body', () => {
    expect(decodeChunks([Buffer.from('.\r\nrest')])).toEqual({
      body: Buffer.alloc(0),
      done: true,
      rest: Buffer.from('rest'),
    });
  });

  it('does not end at LF "." CRLF: only CRLF "." CRLF terminates', () => {
    const decoded = decodeChunks([Buffer.from('a\n.\r\nb\r\n.\r\n')]);
    expect(decoded.body.toString()).toBe('a\n.\r\nb\r\n');
    expect(decoded.done).toBe(true);
  });

  it('gives back a held CR when ".CR" is not followed by LF', () => {
    const decoded = decodeChunks([Buffer.from('..\r'), Buffer.from('x\r\n.'), Buffer.from('\ry\r\n.\r\n')]);
    expect(decoded.body.toString('latin1')).toBe('.\rx\r\n\ry\r\n');
  });

  it('is not done without a terminator', () => {
    const decoded = decodeChunks([Buffer.from('line\r\n..\r\n'), Buffer.from('.')]);
    expect(decoded.done).toBe(false);
    expect(decoded.body.toString()).toBe('line\r\n.\r\n');
  });

  it('refuses to decode after the terminator', () => {
    const decoder = new DotDecoder();
    decoder.decode(Buffer.from('.\r\n'));
    expect(() => decoder.decode(Buffer.from('x'))).toThrow();
  });

  it('round-trips random bodies split at random offsets (property)', () => {
    const line = fc
      .array(fc.constantFrom('.', '..', '.x', 'a', ' ', '\n', '\r', '\r\n', '\u00e9', 'From '), {
        maxLength: 8,
      })
      .map((parts) => `${parts.join('')}\r\n`);
    const body = fc.array(line, { maxLength: 12 }).map((lines) => Buffer.from(lines.join(''), 'utf8'));
    fc.assert(
      fc.property(body, fc.array(fc.nat(), { maxLength: 6 }), (input, cuts) => {
        const wire = Buffer.concat([encodeDotStuffed(input), Buffer.from('+OK after\r\n')]);
        const decoded = decodeChunks(splitAt(wire, cuts));
        expect(decoded.done).toBe(true);
        expect(decoded.body.equals(input)).toBe(true);
        expect(decoded.rest.toString()).toBe('+OK after\r\n');
      }),
      { numRuns: 500 },
    );
  });
});
