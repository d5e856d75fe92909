// A 50 MB message through the streamed delivery path (prepared-payload.ts over STREAM_THRESHOLD_BYTES): raw bytes in
// a real Redis, read in chunks into shared memory, parsed in a ParserPool thread into a spool file, signed
// and streamed to a receiver that verifies the signature with the official standardwebhooks package; the
// attachment's sha256 is checked on arrival and the spool is gone afterwards. The strict memory figure
// lives in the bench (npm run bench: deliver worker memory).
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { attemptDelivery } from '../../../src/delivery/deliver.ts';
import { STREAM_THRESHOLD_BYTES } from '../../../src/delivery/prepared-payload.ts';
import type { PayloadV1 } from '../../../src/payload/index.ts';
import { bigMessage } from '../../helpers/mail-corpus.ts';
import { deliverJob, useDeliverFixture } from './deliver-fixture.ts';

const fx = useDeliverFixture();

const spools = async () => (await readdir(tmpdir())).filter((name) => name.startsWith('pophook-spool-'));

describe('a delivery attempt with a big message', () => {
  it('streams a 50 MB message to a verifying receiver, attachment sha256 intact, spool removed', async () => {
    const deps = fx.deps({ timeoutMs: 60_000 });
    const { raw, ledger } = deps;
    const message = bigMessage(50 * 1024 * 1024, 11);
    expect(message.raw.length).toBeGreaterThan(STREAM_THRESHOLD_BYTES);
    const stored = await raw.write('inbox', 'big', [message.raw], { ttlMs: 600_000 });
    await ledger.markQueued('inbox', 'big', { size: stored.size, webhookId: 'msg_big' });
    const before = await spools();
    const result = await attemptDelivery(deps, deliverJob('big', stored.size));

    expect(result).toEqual({ outcome: 'accepted', status: 200 });
    const [delivery] = fx.receiver.deliveries;
    expect(delivery?.verified).toBe(true);
    expect(delivery?.headers['content-length']).toBe(String(delivery?.body.length));
    const payload = delivery?.json as PayloadV1;
    const attachment = payload.attachments[0]!;
    const content = Buffer.from(attachment.content ?? '', 'base64');
    expect(createHash('sha256').update(content).digest('hex')).toBe(message.attachments[0]?.sha256);
    expect(attachment.sha256).toBe(message.attachments[0]?.sha256);
    expect(payload.size).toBe(stored.size);
    expect(payload.sha256).toBe(createHash('sha256').update(message.raw).digest('hex'));
    expect(await spools()).toEqual(before);
  }, 60_000);
});
