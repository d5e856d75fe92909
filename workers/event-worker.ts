// The event worker: a BullMQ Worker on the events queue whose jobs send `message.dead` events
// (src/delivery/dead-event-job.ts). It runs in the deliver role, beside the deliver worker, with its own
// HTTP client, so a slow event receiver never holds up deliveries.
import { type Job, Worker } from 'bullmq';
import { sendDeadEvent } from '../src/delivery/dead-event-job.ts';
import type { DeadEventJobData } from '../src/queue/jobs.ts';
import { bullPrefix, EVENTS_QUEUE } from '../src/queue/layout.ts';
import type { Runtime } from '../src/runtime/runtime.ts';
import { WebhookSender, webhookBackoff } from '../src/webhook/index.ts';

/** Events in flight per process: they are rare, and each is one small POST. */
const EVENT_CONCURRENCY = 2;

export function startEventWorker(rt: Runtime): { worker: Worker<DeadEventJobData>; close(): Promise<void> } {
  const { webhooks } = rt.config;
  const sender = new WebhookSender();
  const deps = { sender, webhooks, now: Date.now, logger: rt.logger.child({ queue: EVENTS_QUEUE }) };
  const worker = new Worker<DeadEventJobData>(
    EVENTS_QUEUE,
    (job: Job<DeadEventJobData>) => sendDeadEvent(deps, job.data),
    {
      connection: rt.redis.patient,
      prefix: bullPrefix(rt.config.redis.prefix, EVENTS_QUEUE),
      concurrency: EVENT_CONCURRENCY,
      maxStalledCount: 5,
      settings: { backoffStrategy: webhookBackoff(webhooks) },
    },
  );
  worker.on('error', (error) => {
    if (!rt.outage.report(error)) rt.logger.warn({ err: error.message, queue: EVENTS_QUEUE }, 'worker error');
  });
  return {
    worker,
    async close() {
      await worker.close();
      await sender.close();
    },
  };
}
