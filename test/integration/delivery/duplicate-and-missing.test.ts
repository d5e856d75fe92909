// deliverMessage when the raw bytes are gone, against a real Redis and receiver: a duplicate job for a
// message already accepted is not POSTed again; a queued message whose bytes expired is forgotten so the
// next poll retrieves it afresh. Both are told apart by the ledger, asked only once the raw is missing.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DeliverDeps, deliverMessage } from '../../../src/delivery/deliver.ts';
import { Ledger, RawStore } from '../../../src/ledger/index.ts';
import { silentLogger } from '../../../src/ops/logger.ts';
import { DEFAULT_PARSE_LIMITS, ParserPool } from '../../../src/payload/index.ts';
import { WebhookSender } from '../../../src/webhook/index.ts';
import { smallCorpus } from '../../helpers/mail-corpus.ts';
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

function setup() {
  const prefix = uniquePrefix();
  const raw = new RawStore(redis.redis, prefix);
  const ledger = new Ledger(redis.redis, prefix);
  const deps: DeliverDeps = {
    ledger,
    raw,
    parser,
    sender,
    webhooks: {
      rx: {
        id: 'rx',
        url: receiver.url,
        secret: SECRET,
        timeoutMs: 10_000,
        retryForMs: 60_000,
        retryDelayMs: 1_000,
        retryMaxDelayMs: 1_000,
        headers: {},
      },
    },
    afterDelivered: async () => {},
    now: Date.now,
    logger: silentLogger,
  };
  const job = (uidl: string, size: number) => ({
    mailbox: 'inbox',
    uidl,
    webhookId: `msg_${uidl}`,
    webhook: 'rx',
    size,
    queuedAt: Date.now(),
    receivedAt: new Date().toISOString(),
  });
  return { raw, ledger, deps, job };
}

describe('deliverMessage without raw bytes', () => {
  it('delivers once; the same job again is already-delivered and not POSTed', async () => {
    const { raw, ledger, deps, job } = setup();
    receiver.clear();
    const message = smallCorpus(1, 7)[0]!.raw;
    const stored = await raw.write('inbox', 'u1', [message], { ttlMs: 60_000 });
    await ledger.markQueued('inbox', 'u1', { size: stored.size, webhookId: 'msg_u1' });
    expect(await deliverMessage(deps, job('u1', stored.size))).toEqual({ outcome: 'delivered', status: 200 });
    expect(await deliverMessage(deps, job('u1', stored.size))).toEqual({ outcome: 'already-delivered' });
    expect(receiver.deliveries.filter((d) => d.webhookId === 'msg_u1')).toHaveLength(1);
    expect((await ledger.get('inbox', 'u1'))?.state).toBe('delivered');
  });

  it('forgets a queued message whose bytes expired, so the next poll retrieves it again', async () => {
    const { ledger, deps, job } = setup();
    receiver.clear();
    await ledger.markQueued('inbox', 'u2', { size: 100, webhookId: 'msg_u2' });
    expect(await deliverMessage(deps, job('u2', 100))).toEqual({ outcome: 'raw-missing' });
    expect(await ledger.get('inbox', 'u2')).toBeUndefined();
    expect(receiver.deliveries).toHaveLength(0);
  });
});
