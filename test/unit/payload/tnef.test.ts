import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPophookError } from '../../../src/errors.ts';
import { buildPayload, DEFAULT_PARSE_LIMITS } from '../../../src/payload/index.ts';
import { unpackTnef } from '../../../src/payload/tnef.ts';
import { meta } from '../../fixtures/mime/corpus.ts';
import { outlookRichText, type TnefEntry, tnef } from '../../fixtures/mime/tnef.ts';

const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(3000, 0xa5), Buffer.from('\n%%EOF\n')]);
const XLSX = Buffer.from('PK\x03\x04 spreadsheet bytes', 'latin1');
const INVOICE: TnefEntry = {
  title: Buffer.from('RECHNU~1.PDF\0'),
  longName: 'Rechnung 2025-07 für Müller.pdf',
  mimeTag: 'application/pdf',
  content: PDF,
};
const SHEET: TnefEntry = { title: Buffer.from('Aufstellung.xlsx\0'), content: XLSX, dataInProps: true };
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('unpackTnef (MS-OXTNEF)', () => {
  it('reads long Unicode names, MIME tags, data in attAttachData or in PR_ATTACH_DATA_BIN', () => {
    const { files, truncated } = unpackTnef(tnef([INVOICE, SHEET]), 100);
    expect(truncated).toBe(false);
    expect(files.map((f) => [f.filename, f.mimeType, f.content.equals(f === files[0] ? PDF : XLSX)])).toEqual(
      [
        ['Rechnung 2025-07 für Müller.pdf', 'application/pdf', true],
        ['Aufstellung.xlsx', null, true],
      ],
    );
  });

  it('decodes an 8.3 title in the stream’s OEM code page', () => {
    const title = Buffer.from([0x83, 0x65, 0x83, 0x58, 0x83, 0x67, 0x2e, 0x74, 0x78, 0x74, 0]); // テスト.txt in cp932
    const { files } = unpackTnef(tnef([{ title, content: Buffer.from('x') }], 932), 100);
    expect(files[0]?.filename).toBe('テスト.txt');
  });

  it('keeps what came before a cut, says truncated, and refuses what is not TNEF', () => {
    const whole = tnef([INVOICE, SHEET]);
    const cut = unpackTnef(whole.subarray(0, whole.length - 40), 100);
    expect(cut.truncated).toBe(true);
    expect(cut.files.map((f) => f.filename)).toEqual(['Rechnung 2025-07 für Müller.pdf']);
    expect(unpackTnef(Buffer.from('not tnef at all'), 100)).toEqual({ files: [], truncated: true });
  });

  it('never throws and never reads past the end, on any bytes after a valid start', () => {
    const start = tnef([]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (tail) => {
        const { files } = unpackTnef(Buffer.concat([start, Buffer.from(tail)]), 100);
        expect(files.length).toBeLessThanOrEqual(100);
      }),
    );
  });

  it('is linear: 2 MB in 300 attributes in well under a second', () => {
    const entries = Array.from({ length: 100 }, (_, i) => ({
      title: Buffer.from(`f${i}.bin\0`),
      content: Buffer.alloc(20_000, i),
    }));
    const started = performance.now();
    expect(unpackTnef(tnef(entries), 1000).files).toHaveLength(100);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('payload: winmail.dat', () => {
  const raw = outlookRichText(tnef([INVOICE, SHEET]));

  it('lists the files after the winmail.dat part, marked tnef, with size and digest', async () => {
    const payload = await buildPayload(raw, meta(), DEFAULT_PARSE_LIMITS);
    expect(payload.text).toBe('Anbei die Rechnung.');
    expect(payload.attachments.map(({ content: _, ...head }) => head)).toEqual([
      expect.objectContaining({
        filename: 'winmail.dat',
        contentType: 'application/ms-tnef',
        source: 'mime',
      }),
      {
        filename: 'Rechnung 2025-07 für Müller.pdf',
        contentType: 'application/pdf',
        size: PDF.length,
        sha256: sha256(PDF),
        contentId: null,
        disposition: 'attachment',
        source: 'tnef',
      },
      expect.objectContaining({
        filename: 'Aufstellung.xlsx',
        contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        source: 'tnef',
      }),
    ]);
    expect(Buffer.from(payload.attachments[1]?.content ?? '', 'base64').equals(PDF)).toBe(true);
    expect(payload.warnings).toEqual([]);
  });

  it('drops the winmail.dat when the mailbox says so, but keeps a corrupt one, with tnef-unreadable', async () => {
    const dropped = await buildPayload(raw, meta(), DEFAULT_PARSE_LIMITS, { winmailDat: 'drop' });
    expect(dropped.attachments.map((a) => a.filename)).toEqual([
      'Rechnung 2025-07 für Müller.pdf',
      'Aufstellung.xlsx',
    ]);
    const whole = tnef([INVOICE, SHEET]);
    const corrupt = outlookRichText(whole.subarray(0, whole.length - 40));
    const kept = await buildPayload(corrupt, meta(), DEFAULT_PARSE_LIMITS, { winmailDat: 'drop' });
    expect(kept.attachments.map((a) => a.source)).toEqual(['mime', 'tnef']);
    expect(kept.warnings).toEqual(['tnef-unreadable']);
  });

  it('counts unpacked files against maxParts: PAYLOAD_LIMIT past it', async () => {
    const many = outlookRichText(
      tnef(
        Array.from({ length: 20 }, (_, i) => ({
          title: Buffer.from(`${i}.txt\0`),
          content: Buffer.from('x'),
        })),
      ),
    );
    const error = await buildPayload(many, meta(), { ...DEFAULT_PARSE_LIMITS, maxParts: 10 }).catch(
      (e: unknown) => e,
    );
    expect(isPophookError(error, 'PAYLOAD_LIMIT')).toBe(true);
    const fits = await buildPayload(many, meta(), { ...DEFAULT_PARSE_LIMITS, maxParts: 23 });
    expect(fits.attachments).toHaveLength(21);
  });
});
