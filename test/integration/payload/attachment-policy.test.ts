// The attachment policy in both payload builds: the one-Buffer build and the streamed spool place every
// attachment alike (inline, reference, skipped) around the thresholds, write each referenced attachment's
// exact bytes into its file, and leave placeholders that splice into the same payload (webhook-body.ts),
// whatever the order of members. A message's own text that looks like a placeholder is left alone.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AttachmentsConfig } from '../../../src/config/index.ts';
import { bufferBody, spooledBody } from '../../../src/delivery/webhook-body.ts';
import { References } from '../../../src/payload/attachment-policy.ts';
import {
  buildPayload,
  DEFAULT_PARSE_LIMITS,
  type PayloadV1,
  spoolPayload,
} from '../../../src/payload/index.ts';
import { serializePayload } from '../../../src/payload/thread-protocol.ts';
import type { ReferencedAttachment } from '../../../src/payload/types.ts';
import { messageWithAttachments } from '../../helpers/mail-corpus.ts';

const META = { id: 'msg_policy', mailbox: 'inbox', uidl: 'u1', receivedAt: new Date('2024-05-01T10:00:00Z') };
const KB = 1024;
const POLICY: AttachmentsConfig = {
  mode: 'reference',
  referenceFromBytes: 64 * KB,
  skip: { types: ['image/*'], belowBytes: 8 * KB },
};
const SPECS = [
  { filename: 'logo.png', contentType: 'image/png', size: 8 * KB - 1 },
  { filename: 'photo.png', contentType: 'image/png', size: 8 * KB },
  { filename: 'under.pdf', contentType: 'application/pdf', size: 64 * KB - 1 },
  { filename: 'at.pdf', contentType: 'application/pdf', size: 64 * KB },
  { filename: 'big.bin', contentType: 'application/octet-stream', size: 700 * KB },
  { filename: 'empty.txt', contentType: 'text/plain', size: 0 },
];

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pophook-policy-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Each placeholder replaced by a reference naming the attachment's file, as the deliverer would. */
const placed = (attachments: ReferencedAttachment[]) =>
  attachments.map(({ start, end, sha256 }) => ({
    start,
    end,
    reference: {
      key: `k/${sha256}`,
      url: `https://s3.test/${sha256}`,
      expiresAt: '2024-05-08T10:00:00.000Z',
    },
  }));

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const list: Buffer[] = [];
  for await (const chunk of chunks) list.push(Buffer.from(chunk));
  return Buffer.concat(list);
}

async function expectFilesHold(attachments: ReferencedAttachment[]): Promise<void> {
  for (const attachment of attachments) {
    const bytes = await readFile(attachment.path);
    expect(bytes.length).toBe(attachment.size);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(attachment.sha256);
  }
}

describe('the attachment policy in the payload builds', () => {
  it('places attachments alike in the one-Buffer build and the spool, and both splice to one payload', async () => {
    const message = messageWithAttachments(SPECS, 5);

    await mkdir(join(dir, 'a'));
    await mkdir(join(dir, 'b'));
    const oneBuffer = new References({ policy: POLICY, dir: join(dir, 'a') });
    const payload = await buildPayload(message.raw, META, DEFAULT_PARSE_LIMITS, {}, oneBuffer);
    const json = serializePayload(payload);
    const fromBuffer = oneBuffer.located(json);
    const built = JSON.parse(bufferBody(json, placed(fromBuffer)).toString()) as PayloadV1;

    const streamed = new References({ policy: POLICY, dir: join(dir, 'b') });
    const path = join(dir, 'payload.json');
    const { bytes } = await spoolPayload(message.raw, META, DEFAULT_PARSE_LIMITS, path, {}, streamed);
    const fromSpool = streamed.located();
    const body = spooledBody(path, bytes, placed(fromSpool));
    const whole = await collect(body.open());
    expect(whole.length).toBe(body.byteLength);
    expect(await collect(body.scan!())).toEqual(whole);

    expect(JSON.parse(whole.toString())).toEqual(built);
    expect(
      built.attachments.map((a) => (a.content !== undefined ? 'inline' : a.skipped ? 'skip' : 'reference')),
    ).toEqual(['skip', 'inline', 'inline', 'reference', 'reference', 'inline']);
    expect(built.attachments.map((a) => a.sha256)).toEqual(message.attachments.map((a) => a.sha256));
    expect(fromBuffer.map((a) => a.sha256)).toEqual(fromSpool.map((a) => a.sha256));
    await expectFilesHold(fromBuffer);
    await expectFilesHold(fromSpool);
  });

  it('splices only its own placeholders: a subject that imitates one stays text', async () => {
    const message = messageWithAttachments([SPECS[4]!], 6);
    const fake = '{"key":"pophook-reference-00000000000000000000000000000000-0"}';
    const raw = Buffer.from(
      message.raw.toString('latin1').replace(/^Subject: .*$/m, `Subject: ${fake}`),
      'latin1',
    );
    const references = new References({ policy: POLICY, dir });
    const payload = await buildPayload(raw, META, DEFAULT_PARSE_LIMITS, {}, references);
    const json = serializePayload(payload);
    const spliced = JSON.parse(bufferBody(json, placed(references.located(json))).toString()) as PayloadV1;
    expect(spliced.subject).toBe(fake);
    expect(spliced.attachments[0]?.reference?.url).toBe(`https://s3.test/${message.attachments[0]?.sha256}`);
  });
});
