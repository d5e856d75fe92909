import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  isMimeLimitError,
  stripAttachments,
  withoutLastDelimiter,
} from '../../../src/mailbox/strip-attachments.ts';
import { buildPayload, DEFAULT_PARSE_LIMITS } from '../../../src/payload/index.ts';
import { fixture, manyParts, meta } from '../../fixtures/mime/corpus.ts';

async function strip(raw: Buffer, keepBytes = 1_000_000, chunkBytes = raw.length) {
  const chunks: Buffer[] = [];
  for (let at = 0; at < raw.length; at += chunkBytes) chunks.push(raw.subarray(at, at + chunkBytes));
  const { body, dropped } = stripAttachments(Readable.from(chunks), { keepBytes });
  const kept: Buffer[] = [];
  for await (const chunk of body) kept.push(chunk as Buffer);
  const bytes = Buffer.concat(kept);
  return { bytes, dropped, payload: await buildPayload(bytes, meta(), DEFAULT_PARSE_LIMITS) };
}

describe('stripAttachments', () => {
  it('keeps the text and lists the dropped attachments, whole or fed in 7-byte pieces', async () => {
    for (const chunkBytes of [Number.MAX_SAFE_INTEGER, 7]) {
      const { bytes, dropped, payload } = await strip(fixture('attachments.eml'), 1_000_000, chunkBytes);
      expect(payload.text).toBe('Invoice attached.');
      expect(payload.attachments).toEqual([]);
      expect(payload.warnings).toEqual([]);
      expect(dropped).toEqual([
        { filename: 'invoice.pdf', contentType: 'application/pdf', approxSize: expect.any(Number) },
        { filename: 'Résumé Q3.csv', contentType: 'text/csv', approxSize: 27 },
      ]);
      expect(dropped[0]!.approxSize).toBeGreaterThan(1700);
      expect(bytes.length).toBeLessThan(fixture('attachments.eml').length / 2);
      expect(bytes.toString()).not.toContain('invoice.pdf');
    }
  });

  it('keeps nested text and HTML, drops an inline image and an attached message', async () => {
    const { dropped, payload } = await strip(fixture('nested.eml'));
    expect(payload.text).toContain('Nested plain.');
    expect(payload.html).toContain('<p>Nested');
    expect(payload.attachments).toEqual([]);
    expect(payload.warnings).toEqual([]);
    expect(dropped.map((d) => [d.filename, d.contentType])).toEqual([
      [null, 'image/gif'],
      ['forwarded.eml', 'message/rfc822'],
    ]);
  });

  it('keeps the header block of a message that is one attachment, without its body', async () => {
    const raw = Buffer.from(
      'From: a@example.com\r\nSubject: scan\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
        'JVBERi0xLjcK\r\n'.repeat(1000),
    );
    const { bytes, dropped, payload } = await strip(raw);
    expect(payload.subject).toBe('scan');
    expect(bytes.length).toBeLessThan(200);
    expect(dropped).toEqual([{ filename: null, contentType: 'application/pdf', approxSize: 10_230 }]);
  });

  it('cuts text past keepBytes, so a huge text part cannot make the stored message big', async () => {
    const raw = Buffer.from(`From: a@example.com\r\nSubject: long\r\n\r\n${'x'.repeat(100_000)}`);
    const { bytes, dropped } = await strip(raw, 1000);
    expect(bytes.length).toBe(1000);
    expect(dropped).toEqual([]);
  });

  it("fails with mailsplit's limit error on a message of more than 1000 parts", async () => {
    const failure = await strip(manyParts(1_500)).catch((error: unknown) => error);
    expect(isMimeLimitError(failure)).toBe(true);
    expect(isMimeLimitError(new Error('connection reset'))).toBe(false);
  });

  it('passes a message without attachments through unchanged', async () => {
    const raw = fixture('alternative.eml');
    const { bytes, dropped } = await strip(raw);
    expect(dropped).toEqual([]);
    expect(bytes.equals(raw)).toBe(true);
  });
});

describe('withoutLastDelimiter', () => {
  it('removes the delimiter line that opened the next part, with the line break before it', () => {
    expect(withoutLastDelimiter(Buffer.from('\r\n--b\r\n'))?.toString()).toBe('');
    expect(withoutLastDelimiter(Buffer.from('preamble\r\n--b\r\n'))?.toString()).toBe('preamble');
    expect(withoutLastDelimiter(Buffer.from('\n--inner--\n\n--outer\n'))?.toString()).toBe('\n--inner--\n');
  });

  it('refuses anything whose last line is not a delimiter', () => {
    expect(withoutLastDelimiter(Buffer.from(''))).toBeUndefined();
    expect(withoutLastDelimiter(Buffer.from('\r\n'))).toBeUndefined();
    expect(withoutLastDelimiter(Buffer.from('text\r\n'))).toBeUndefined();
  });
});
