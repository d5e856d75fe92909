// The signed test event that `pophook check` and `pophook send-test` POST to a webhook: signed, timed and
// headed like a delivery, with a body a receiver tells apart by its `type` (it carries no mail; schema in
// schema/test-event.schema.json), and a verdict for a person: 2xx passes, anything else fails with the
// status and the first line of the receiver's answer.
import { randomBytes } from 'node:crypto';
import type { WebhookConfig } from '../config/index.ts';
import { isPophookError } from '../errors.ts';
import type { WebhookSender } from './send.ts';

const TEST_EVENT_TYPE = 'pophook.test';

export interface TestEvent {
  type: typeof TEST_EVENT_TYPE;
  /** Equals the `webhook-id` header; `test_` and random, so a receiver's dedup never swallows it. */
  id: string;
  webhook: string;
  sentAt: string;
}

interface TestEventResult {
  ok: boolean;
  detail: string;
  status?: number;
  code?: string;
}

export function testEvent(webhook: string, now: Date): TestEvent {
  return {
    type: TEST_EVENT_TYPE,
    id: `test_${randomBytes(12).toString('hex')}`,
    webhook,
    sentAt: now.toISOString(),
  };
}

/** POSTs a fresh test event; never throws for the webhook's answer or its absence. */
export async function sendTestEvent(
  sender: WebhookSender,
  webhook: WebhookConfig,
  options: { timeoutMs?: number; now?: Date } = {},
): Promise<TestEventResult> {
  const event = testEvent(webhook.id, options.now ?? new Date());
  const target = { ...webhook, timeoutMs: options.timeoutMs ?? webhook.timeoutMs };
  try {
    const { status, durationMs } = await sender.send(target, {
      webhookId: event.id,
      body: Buffer.from(JSON.stringify(event)),
    });
    return {
      ok: true,
      status,
      detail: `HTTP ${status} to a signed ${TEST_EVENT_TYPE} event in ${durationMs} ms`,
    };
  } catch (error) {
    if (!isPophookError(error)) throw error;
    const status = typeof error.details.status === 'number' ? error.details.status : undefined;
    const firstLine = error.details.bodyFirstLine;
    const answer = status === undefined ? '' : `: HTTP ${status}${firstLine ? `: ${firstLine}` : ''}`;
    return {
      ok: false,
      code: error.code,
      detail: `${error.code}${answer}${status === undefined ? `: ${error.message}` : ''}`,
      ...(status === undefined ? {} : { status }),
    };
  }
}
