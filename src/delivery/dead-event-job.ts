// One attempt to send a `message.dead` event (dead-events.ts queued it): signed and POSTed like a delivery,
// retried by the webhook's own rules (retryable statuses, backoff, Retry-After, retryFor), given up for good
// on a permanent answer. Whatever happens here, the message's ledger state is not touched.
import { UnrecoverableError } from 'bullmq';
import type { Config } from '../config/index.ts';
import { isRetryable } from '../errors.ts';
import type { DeadEventJobData } from '../queue/jobs.ts';
import type { Logger } from '../telemetry/logger.ts';
import { shouldGiveUp, type WebhookSender } from '../webhook/index.ts';

export interface DeadEventJobDeps {
  sender: Pick<WebhookSender, 'send'>;
  webhooks: Config['webhooks'];
  now(): number;
  logger: Logger;
}

export async function sendDeadEvent(deps: DeadEventJobDeps, data: DeadEventJobData): Promise<number> {
  const { event } = data;
  const webhook = deps.webhooks[data.webhook];
  if (!webhook) throw new UnrecoverableError(`webhook "${data.webhook}" is not configured`);
  const facts = { eventId: event.id, mailbox: event.mailbox, uidl: event.uidl, webhook: webhook.id };
  try {
    const body = Buffer.from(JSON.stringify(event));
    const { status } = await deps.sender.send(webhook, { webhookId: event.id, body });
    deps.logger.info({ ...facts, status }, 'message.dead event sent');
    return status;
  } catch (error) {
    const giveUp = !isRetryable(error) || shouldGiveUp(data.queuedAt, deps.now(), webhook.retryForMs);
    deps.logger.warn({ ...facts, err: (error as Error).message, giveUp }, 'message.dead event not accepted');
    if (!giveUp) throw error;
    const final = new UnrecoverableError(`message.dead event given up: ${(error as Error).message}`);
    final.cause = error;
    throw final;
  }
}
