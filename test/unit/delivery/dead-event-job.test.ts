// Sending a message.dead event: what retries and what gives up, by the webhook's rules.
import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { WebhookConfig } from '../../../src/config/index.ts';
import { sendDeadEvent } from '../../../src/delivery/dead-event-job.ts';
import { PophookError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { deadEvent } from '../../../src/webhook/dead-event.ts';
import { webhookBackoff } from '../../../src/webhook/index.ts';

const webhook: WebhookConfig = {
  id: 'rx',
  url: 'http://127.0.0.1:1/hook',
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  timeoutMs: 1_000,
  retryForMs: 60_000,
  retryDelayMs: 1_000,
  retryMaxDelayMs: 8_000,
  headers: {},
  format: 'pophook',
  attachments: { mode: 'inline', referenceFromBytes: 256_000 },
};
const event = deadEvent({
  mailbox: 'inbox',
  uidl: 'u1',
  messageWebhookId: 'msg_u1',
  deadAtMs: 1_000,
  error: { code: 'WEBHOOK_HTTP_4XX', status: 400 },
  attempts: 1,
  size: 10,
  subject: null,
  from: null,
  headers: [],
});

function run(fails: unknown, options: { queuedAt?: number; webhook?: string } = {}) {
  const sent: Array<{ webhookId: string; body: string }> = [];
  const sender = {
    send: async (_target: unknown, message: { webhookId: string; body: Buffer }) => {
      sent.push({ webhookId: message.webhookId, body: message.body.toString() });
      if (fails) throw fails;
      return { status: 204, durationMs: 1 };
    },
  };
  const deps = {
    sender: sender as never,
    webhooks: { rx: webhook },
    now: () => 100_000,
    logger: silentLogger,
  };
  const data = { webhook: options.webhook ?? 'rx', queuedAt: options.queuedAt ?? 90_000, event };
  return { sent, result: sendDeadEvent(deps, data) };
}

describe('sendDeadEvent', () => {
  it('POSTs the event with its id as the webhook-id', async () => {
    const { sent, result } = run(undefined);
    expect(await result).toBe(204);
    expect(sent).toEqual([{ webhookId: event.id, body: JSON.stringify(event) }]);
  });

  it('throws a retryable failure as it is, so BullMQ retries it', async () => {
    const down = new PophookError('WEBHOOK_NETWORK', 'connect ECONNREFUSED');
    await expect(run(down).result).rejects.toBe(down);
  });

  it('gives up on a permanent answer, past the retry period, or for a webhook gone from the config', async () => {
    const refused = new PophookError('WEBHOOK_HTTP_4XX', 'HTTP 410', { details: { status: 410 } });
    await expect(run(refused).result).rejects.toBeInstanceOf(UnrecoverableError);
    const down = new PophookError('WEBHOOK_NETWORK', 'connect ECONNREFUSED');
    await expect(run(down, { queuedAt: 0 }).result).rejects.toBeInstanceOf(UnrecoverableError);
    await expect(run(undefined, { webhook: 'gone' }).result).rejects.toBeInstanceOf(UnrecoverableError);
  });
});

describe('webhookBackoff for event jobs', () => {
  it("waits by the event's webhook's retry delays", () => {
    const backoff = webhookBackoff({ rx: webhook });
    const delay = backoff(1, 'webhook', undefined, { data: { webhook: 'rx' } });
    expect(delay).toBeGreaterThan(0);
    expect(delay).toBeLessThanOrEqual(webhook.retryMaxDelayMs);
    expect(backoff(1, 'webhook', undefined, { data: { webhook: 'gone' } })).toBe(0);
  });
});
