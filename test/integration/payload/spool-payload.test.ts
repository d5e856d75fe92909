// The streamed payload (spool-payload.ts, used for big messages) is the same payload as buildPayload's:
// same members and values, only some members in another order. Checked over the MIME corpus and a big
// attachment, in this thread (the pool only moves it elsewhere) against real files in a temp dir.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildPayload, DEFAULT_PARSE_LIMITS, spoolPayload, toPostmark } from '../../../src/payload/index.ts';
import { outlookRichText, tnef } from '../../fixtures/mime/tnef.ts';
import { bigMessage, mixedCorpus } from '../../helpers/mail-corpus.ts';

const META = { id: 'msg_spool', mailbox: 'inbox', uidl: 'u1', receivedAt: new Date('2024-05-01T10:00:00Z') };
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pophook-spool-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function spooled(raw: Buffer, name: string) {
  const path = join(dir, name);
  const result = await spoolPayload(raw, META, DEFAULT_PARSE_LIMITS, path);
  const text = await readFile(path, 'utf8');
  expect(Buffer.byteLength(text)).toBe(result.bytes);
  return { json: JSON.parse(text) as unknown, result };
}

describe('spoolPayload', () => {
  it('writes the same payload as buildPayload for every kind of corpus message', async () => {
    const corpus = mixedCorpus(25, 7, { maxAttachmentBytes: 64 * 1024 });
    for (const [i, message] of corpus.entries()) {
      const expected = await buildPayload(message.raw, META, DEFAULT_PARSE_LIMITS);
      const { json, result } = await spooled(message.raw, `m${i}.json`);
      expect(json, message.kind).toEqual(expected);
      expect(result.summary).toEqual({
        messageId: expected.messageId,
        contentKey: expected.contentKey,
        subject: expected.subject,
        attachments: expected.attachments.length,
        size: expected.size,
      });
    }
  });

  it('streams a 6 MB attachment with its size and sha256 intact', async () => {
    const message = bigMessage(6 * 1024 * 1024, 3);
    const { json } = await spooled(message.raw, 'big.json');
    const [attachment] = (json as { attachments: Array<{ size: number; sha256: string; content: string }> })
      .attachments;
    expect(attachment?.sha256).toBe(message.attachments[0]?.sha256);
    expect(attachment?.size).toBe(message.attachments[0]?.size);
    expect(Buffer.from(attachment?.content ?? '', 'base64').length).toBe(message.attachments[0]?.size);
  });

  it('unpacks a winmail.dat like buildPayload, kept or dropped', async () => {
    const entries = [
      { longName: 'Rechnung.pdf', mimeTag: 'application/pdf', content: Buffer.alloc(300_000, 0x25) },
      { title: Buffer.from('LISTE.CSV\0'), content: Buffer.from('a;b\r\n1;2\r\n') },
    ];
    const raw = outlookRichText(tnef(entries));
    for (const winmailDat of ['keep', 'drop'] as const) {
      const expected = await buildPayload(raw, META, DEFAULT_PARSE_LIMITS, { winmailDat });
      const path = join(dir, `tnef-${winmailDat}.json`);
      await spoolPayload(raw, META, DEFAULT_PARSE_LIMITS, path, { winmailDat });
      expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(expected);
      expect(expected.attachments.filter((a) => a.source === 'tnef')).toHaveLength(2);
    }
  });

  it('writes the Postmark shape as toPostmark gives it, for every kind of corpus message', async () => {
    const corpus = mixedCorpus(10, 11, { maxAttachmentBytes: 64 * 1024 });
    for (const [i, message] of corpus.entries()) {
      const meta = { ...META, format: 'postmark' as const };
      const expected = toPostmark(await buildPayload(message.raw, meta, DEFAULT_PARSE_LIMITS));
      const path = join(dir, `pm${i}.json`);
      await spoolPayload(message.raw, meta, DEFAULT_PARSE_LIMITS, path);
      expect(JSON.parse(await readFile(path, 'utf8')), message.kind).toEqual(expected);
    }
  });

  it('refuses a structure over the limits with PAYLOAD_LIMIT, as buildPayload does', async () => {
    const raw = Buffer.from(
      `Content-Type: multipart/mixed; boundary=b\r\n\r\n${'--b\r\nContent-Type: text/plain\r\n\r\nx\r\n'.repeat(20)}--b--\r\n`,
    );
    const limits = { ...DEFAULT_PARSE_LIMITS, maxParts: 5 };
    await expect(spoolPayload(raw, META, limits, join(dir, 'limit.json'))).rejects.toMatchObject({
      code: 'PAYLOAD_LIMIT',
    });
  });
});
