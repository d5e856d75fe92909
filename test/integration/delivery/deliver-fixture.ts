// What the delivery tests share: a private Redis, a receiver verifying with the official
// standardwebhooks package, one parser thread and a sender; deps for one webhook `rx` on a fresh prefix.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import type { AttachmentsConfig } from '../../../src/config/index.ts';
import type { DeliverDeps } from '../../../src/delivery/deliver.ts';
import { Ledger, RawStore } from '../../../src/ledger/index.ts';
import { DEFAULT_PARSE_LIMITS, ParserPool } from '../../../src/payload/index.ts';
import type { AttachmentStore } from '../../../src/storage/index.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { WebhookSender } from '../../../src/webhook/index.ts';
import { type Receiver, startReceiver } from '../../helpers/receiver.ts';
import { type RedisFixture, uniquePrefix, useRedis } from '../ledger/redis-fixture.ts';

export interface DepsOptions {
  timeoutMs?: number;
  format?: 'pophook' | 'postmark';
  /** Webhook rx's attachment policy; inline by default. */
  attachments?: AttachmentsConfig;
  storage?: AttachmentStore;
  retryForMs?: number;
}

export interface DeliverFixture {
  receiver: Receiver;
  /** The private Redis the deps use (another client: `redis.client()`). */
  redis: RedisFixture;
  /** Deps on a fresh key prefix; the ledger and raw store are typed as the real ones. */
  deps(options?: DepsOptions): DeliverDeps & {
    ledger: Ledger;
    raw: RawStore;
  };
}

export function useDeliverFixture(): DeliverFixture {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const redis = useRedis();
  let receiver: Receiver;
  let parser: ParserPool;
  let sender: WebhookSender;
  beforeAll(async () => {
    receiver = await startReceiver({ secret });
    parser = new ParserPool({ size: 1, limits: DEFAULT_PARSE_LIMITS });
    sender = new WebhookSender();
  });
  afterAll(async () => {
    await Promise.all([receiver?.stop(), parser?.close(), sender?.close()]);
  });
  return {
    get receiver() {
      return receiver;
    },
    redis,
    deps: ({ timeoutMs = 10_000, format = 'pophook', attachments, storage, retryForMs = 60_000 } = {}) => {
      const prefix = uniquePrefix();
      return {
        ledger: new Ledger(redis.redis, prefix),
        raw: new RawStore(redis.redis, prefix),
        parser,
        sender,
        webhooks: {
          rx: {
            id: 'rx',
            url: receiver.url,
            secret,
            timeoutMs,
            retryForMs,
            retryDelayMs: 1_000,
            retryMaxDelayMs: 1_000,
            headers: {},
            format,
            attachments: attachments ?? { mode: 'inline', referenceFromBytes: 256 * 1024 },
          },
        },
        ...(storage ? { storage } : {}),
        afterDelivered: async () => {},
        // message.dead events have their own tests (test/integration/events/).
        deadLetters: { announce: async () => {} },
        now: Date.now,
        logger: silentLogger,
      };
    },
  };
}

/** A deliver job for message `uidl` of mailbox `inbox` to webhook `rx`, queued now. */
export function deliverJob(uidl: string, size: number) {
  const now = Date.now();
  return {
    mailbox: 'inbox',
    uidl,
    webhookId: `msg_${uidl}`,
    webhook: 'rx',
    size,
    queuedAt: now,
    receivedAt: new Date(now).toISOString(),
  };
}
