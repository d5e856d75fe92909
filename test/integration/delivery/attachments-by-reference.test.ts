// Attachments by reference against a real S3-compatible store (s3rver on loopback), a real Redis and a
// receiver verifying signatures with standardwebhooks: the receiver downloads each referenced object
// through its pre-signed URL and compares size and sha256. Small attachments stay inline, skipped types
// are listed without content, a redelivery reuses the objects, an S3 outage fails the attempt (retried,
// nothing POSTed) until the store is back, and a 20 MB attachment takes the streamed path.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttachmentsConfig } from '../../../src/config/index.ts';
import { attemptDelivery } from '../../../src/delivery/deliver.ts';
import { STREAM_THRESHOLD_BYTES } from '../../../src/delivery/prepared-payload.ts';
import { isPophookError } from '../../../src/errors.ts';
import { PAYLOAD_SCHEMA_PATH, type PayloadV1 } from '../../../src/payload/index.ts';
import { AttachmentStore } from '../../../src/storage/index.ts';
import { type AttachmentSpec, messageWithAttachments } from '../../helpers/mail-corpus.ts';
import { referenceProblems, type S3Server, startS3Server } from '../../helpers/s3-server.ts';
import { deliverJob, useDeliverFixture } from './deliver-fixture.ts';

const fx = useDeliverFixture();
const KB = 1024;
const REFERENCE: AttachmentsConfig = { mode: 'reference', referenceFromBytes: 256 * KB };

const ajv = new Ajv2020.default({ allErrors: true, strict: false });
addFormats.default(ajv);
const validate = ajv.compile(JSON.parse(readFileSync(PAYLOAD_SCHEMA_PATH, 'utf8')));

let s3: S3Server;
let store: AttachmentStore;
// A private TMPDIR: the attempt directories this file's deliveries leave (none) are told apart from those
// of test files running beside it.
const sharedTmp = process.env.TMPDIR;
let privateTmp: string;
beforeAll(async () => {
  privateTmp = await mkdtemp(join(tmpdir(), 'pophook-s3-test-'));
  process.env.TMPDIR = privateTmp;
  s3 = await startS3Server();
  // Frozen as the loaded config is (the SDK must not write into it).
  const { credentials } = s3.storage;
  store = new AttachmentStore(
    Object.freeze({ ...s3.storage, credentials: Object.freeze({ ...credentials! }) }),
  );
});
afterAll(async () => {
  await store?.close();
  await s3?.stop();
  if (sharedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = sharedTmp;
  await rm(privateTmp, { recursive: true, force: true });
});

const spools = async () => (await readdir(privateTmp)).filter((name) => name.startsWith('pophook-spool-'));

/** Stores message `uidl` in Redis as queued and returns its deliver job. */
async function queue(deps: ReturnType<typeof fx.deps>, uidl: string, specs: AttachmentSpec[], seed: number) {
  const message = messageWithAttachments(specs, seed);
  const stored = await deps.raw.write('inbox', uidl, [message.raw], { ttlMs: 600_000 });
  await deps.ledger.markQueued('inbox', uidl, { size: stored.size, webhookId: `msg_${uidl}` });
  return { message, stored, job: deliverJob(uidl, stored.size) };
}

/** The last verified delivery of `uidl`, its payload schema-valid and its references intact. */
async function received(uidl: string): Promise<PayloadV1> {
  const delivery = fx.receiver.deliveries.filter((d) => d.webhookId === `msg_${uidl}`).at(-1);
  expect(delivery?.verified).toBe(true);
  const payload = delivery?.json as PayloadV1;
  expect(validate(payload) ? [] : validate.errors).toEqual([]);
  expect(await referenceProblems(payload)).toEqual([]);
  return payload;
}

describe('attachments by reference', () => {
  it('keeps attachments under the threshold inline and references the others', async () => {
    const deps = fx.deps({ attachments: REFERENCE, storage: store });
    const specs = [
      { filename: 'small.pdf', contentType: 'application/pdf', size: 10 * KB },
      { filename: 'big.pdf', contentType: 'application/pdf', size: 300 * KB },
      { filename: 'edge.bin', contentType: 'application/octet-stream', size: 256 * KB },
    ];
    const { message, job } = await queue(deps, 'threshold', specs, 1);
    const messageSha256 = createHash('sha256').update(message.raw).digest('hex');
    const created = s3.created();
    const before = Date.now();

    expect(await attemptDelivery(deps, job)).toEqual({ outcome: 'accepted', status: 200 });
    const payload = await received('threshold');
    const [small, big, edge] = payload.attachments;
    expect(small?.content).toBeDefined();
    expect(small?.reference).toBeUndefined();
    expect(Buffer.from(small?.content ?? '', 'base64').length).toBe(10 * KB);
    for (const [attachment, spec] of [
      [big, message.attachments[1]],
      [edge, message.attachments[2]],
    ] as const) {
      expect(attachment?.content).toBeUndefined();
      expect(attachment).toMatchObject({
        size: spec?.size,
        sha256: spec?.sha256,
        contentType: spec?.contentType,
      });
      expect(attachment?.reference?.key).toBe(`pophook/inbox/${messageSha256}/${spec?.sha256}`);
      const expires = Date.parse(attachment?.reference?.expiresAt ?? '');
      expect(expires).toBeGreaterThanOrEqual(before + 3_600_000 - 1_000);
      expect(expires).toBeLessThanOrEqual(Date.now() + 3_600_000);
    }
    expect(s3.created() - created).toBe(2);
  }, 30_000);

  it('lists skipped types without content, in inline mode too', async () => {
    const attachments: AttachmentsConfig = {
      mode: 'inline',
      referenceFromBytes: 256 * KB,
      skip: { types: ['image/*'], belowBytes: 16 * KB },
    };
    const deps = fx.deps({ attachments, storage: store });
    const specs = [
      { filename: 'logo.png', contentType: 'image/png', size: 2 * KB, disposition: 'inline' as const },
      { filename: 'photo.jpg', contentType: 'image/jpeg', size: 20 * KB },
      { filename: 'notes.txt', contentType: 'application/octet-stream', size: 1 * KB },
    ];
    const { message, job } = await queue(deps, 'skip', specs, 2);
    const created = s3.created();

    expect(await attemptDelivery(deps, job)).toEqual({ outcome: 'accepted', status: 200 });
    const [logo, photo, notes] = (await received('skip')).attachments;
    expect(logo).toMatchObject({ skipped: true, size: 2 * KB, sha256: message.attachments[0]?.sha256 });
    expect(logo?.content).toBeUndefined();
    expect(Buffer.from(photo?.content ?? '', 'base64').length).toBe(20 * KB);
    expect(notes?.content).toBeDefined();
    expect(s3.created()).toBe(created);
  }, 30_000);

  it('reuses the objects on a redelivery: no second upload, a freshly signed URL', async () => {
    const deps = fx.deps({ attachments: REFERENCE, storage: store });
    const specs = [{ filename: 'contract.pdf', contentType: 'application/pdf', size: 400 * KB }];
    const { job } = await queue(deps, 'again', specs, 3);
    const created = s3.created();

    await attemptDelivery(deps, job);
    const first = (await received('again')).attachments[0]?.reference;
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // a new second: a new X-Amz-Date
    await attemptDelivery(deps, job);
    const second = (await received('again')).attachments[0]?.reference;

    expect(s3.created() - created).toBe(1);
    expect(second?.key).toBe(first?.key);
    expect(second?.url).not.toBe(first?.url);
  }, 30_000);

  it('fails the attempt retryably while S3 is down, POSTs nothing, and delivers once it is back', async () => {
    const deps = fx.deps({ attachments: REFERENCE, storage: store });
    const specs = [{ filename: 'scan.pdf', contentType: 'application/pdf', size: 300 * KB }];
    const { job } = await queue(deps, 'outage', specs, 4);
    await s3.halt();
    try {
      const failure = await attemptDelivery(deps, job).catch((error: unknown) => error);
      expect(isPophookError(failure, 'STORAGE_UNAVAILABLE')).toBe(true);
      expect((failure as { retryable: boolean }).retryable).toBe(true);
      expect(fx.receiver.deliveries.filter((d) => d.webhookId === 'msg_outage')).toEqual([]);
      expect((await deps.ledger.get('inbox', 'outage'))?.state).toBe('queued');
    } finally {
      await s3.resume();
    }
    expect(await attemptDelivery(deps, job)).toEqual({ outcome: 'accepted', status: 200 });
    expect((await received('outage')).attachments[0]?.reference).toBeDefined();
  }, 60_000);

  it('dead-letters with the S3 code once the retry period is over, and names a refused bucket', async () => {
    const deps = fx.deps({ attachments: REFERENCE, storage: store, retryForMs: 0 });
    const specs = [{ filename: 'late.pdf', contentType: 'application/pdf', size: 300 * KB }];
    const { job } = await queue(deps, 'late', specs, 5);
    await s3.halt();
    try {
      await expect(attemptDelivery(deps, job)).rejects.toThrow(/STORAGE_UNAVAILABLE/);
    } finally {
      await s3.resume();
    }
    expect(await deps.ledger.get('inbox', 'late')).toMatchObject({
      state: 'dead',
      lastError: { code: 'STORAGE_UNAVAILABLE' },
    });

    const wrong = new AttachmentStore({ ...s3.storage, bucket: 'no-such-bucket' });
    try {
      const refused = fx.deps({ attachments: REFERENCE, storage: wrong });
      const { job: other } = await queue(refused, 'refused', specs, 6);
      const failure = await attemptDelivery(refused, other).catch((error: unknown) => error);
      expect(isPophookError(failure, 'STORAGE_REFUSED')).toBe(true);
      expect((failure as Error).message).toContain('no-such-bucket');
    } finally {
      await wrong.close();
    }
  }, 60_000);

  it('streams a 20 MB attachment of a big message into S3; the POST stays small', async () => {
    const deps = fx.deps({ attachments: REFERENCE, storage: store, timeoutMs: 60_000 });
    const specs = [
      { filename: 'video.bin', contentType: 'application/octet-stream', size: 20 * 1024 * KB },
      { filename: 'small.txt', contentType: 'text/csv', size: 4 * KB },
    ];
    const { message, job } = await queue(deps, 'big', specs, 7);
    expect(job.size).toBeGreaterThan(STREAM_THRESHOLD_BYTES);
    expect(await attemptDelivery(deps, job)).toEqual({ outcome: 'accepted', status: 200 });
    const delivery = fx.receiver.deliveries.find((d) => d.webhookId === 'msg_big');
    expect(delivery?.headers['content-length']).toBe(String(delivery?.body.length));
    expect(delivery?.body.length).toBeLessThan(64 * KB);
    const [video, small] = (await received('big')).attachments;
    expect(video).toMatchObject({ size: 20 * 1024 * KB, sha256: message.attachments[0]?.sha256 });
    expect(small?.content).toBeDefined();
    expect(await spools()).toEqual([]);
  }, 120_000);
});
