// A 50 MB message through the streamed delivery path (deliver.ts over STREAM_THRESHOLD_BYTES): raw bytes in
// a real Redis, read in chunks into shared memory, parsed in a ParserPool thread into a spool file, signed
// and streamed to a receiver that verifies the signature with the official standardwebhooks package; the
// attachment's sha256 is checked on arrival and the spool is gone afterwards. The strict memory figure
// lives in the bench (npm run bench: deliver worker memory).
import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookConfig } from '../../../src/config/index.ts';
import { type DeliverDeps, deliverMessage, STREAM_THRESHOLD_BYTES } from '../../../src/delivery/deliver.ts';
import { Ledger, RawStore } from '../../../src/ledger/index.ts';
import { silentLogger } from '../../../src/ops/logger.ts';
import { DEFAULT_PARSE_LIMITS, ParserPool, type PayloadV1 } from '../../../src/payload/index.ts';
import { WebhookSender } from '../../../src/webhook/index.ts';
import { bigMessage } from '../../helpers/mail-corpus.ts';
import { type Receiver, startReceiver } from '../../helpers/receiver.ts';
import { uniquePrefix, useRedis } from '../ledger/redis-fixture.ts';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const redis = useRedis();
let receiver: Receiver;
let parser: ParserPool;
let sender: WebhookSender;

beforeAll(async () => {
  receiver = await startReceiver({ secret: SECRET });
  parser = new ParserPool({ size: 1, limits: DEFAULT_PARSE_LIMITS });
  sender = new WebhookSender();
});
afterAll(async () => {
  await Promise.all([receiver?.stop(), parser?.close(), sender?.close()]);
});

const spools = async () => (await readdir(tmpdir())).filter((name) => name.startsWith('pophook-spool-'));

describe('deliverMessage with a big message', () => {
  it('streams a 50 MB message to a verifying receiver, attachment sha256 intact, spool removed', async () => {
    const prefix = uniquePrefix();
    const raw = new RawStore(redis.redis, prefix);
    const ledger = new Ledger(redis.redis, prefix);
    const message = bigMessage(50 * 1024 * 1024, 11);
    expect(message.raw.length).toBeGreaterThan(STREAM_THRESHOLD_BYTES);
    const stored = await raw.write('inbox', 'big', [message.raw], { ttlMs: 600_000 });
    await ledger.markQueued('inbox', 'big', { size: stored.size, webhookId: 'msg_big' });
    const webhook: WebhookConfig = {
      id: 'rx',
      url: receiver.url,
      secret: SECRET,
      timeoutMs: 60_000,
      retryForMs: 60_000,
      retryDelayMs: 1_000,
      retryMaxDelayMs: 1_000,
      headers: {},
    };
    const before = await spools();
    const deps: DeliverDeps = {
      ledger,
      raw,
      parser,
      sender,
      webhooks: { rx: webhook },
      afterDelivered: async () => {},
      now: Date.now,
      logger: silentLogger,
    };
    const now = Date.now();
    const result = await deliverMessage(deps, {
      mailbox: 'inbox',
      uidl: 'big',
      webhookId: 'msg_big',
      webhook: 'rx',
      size: stored.size,
      queuedAt: now,
      receivedAt: new Date(now).toISOString(),
    });

    expect(result).toEqual({ outcome: 'delivered', status: 200 });
    const [delivery] = receiver.deliveries;
    expect(delivery?.verified).toBe(true);
    expect(delivery?.headers['content-length']).toBe(String(delivery?.body.length));
    const payload = delivery?.json as PayloadV1;
    const attachment = payload.attachments[0]!;
    const content = Buffer.from(attachment.content, 'base64');
    expect(createHash('sha256').update(content).digest('hex')).toBe(message.attachments[0]?.sha256);
    expect(attachment.sha256).toBe(message.attachments[0]?.sha256);
    expect(payload.size).toBe(stored.size);
    expect(payload.sha256).toBe(stored.sha256);
    expect((await ledger.get('inbox', 'big'))?.state).toBe('delivered');
    expect(await spools()).toEqual(before);
  }, 60_000);
});
