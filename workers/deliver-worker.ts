// The deliver worker: one BullMQ Worker per deliver queue (shard), the process's concurrency split between
// them (src/delivery/sizing.ts), a parser thread pool, and jobs that run src/delivery/deliver-job.ts.
import { type Job, Worker } from 'bullmq';
import { Deduper } from '../src/delivery/dedupe.ts';
import { type DeliverJobRun, deliverBackoff, runDeliverJob } from '../src/delivery/deliver-job.ts';
import { EarlyPolls } from '../src/delivery/early-poll.ts';
import { Limiter } from '../src/delivery/limiter.ts';
import { shardConcurrency } from '../src/delivery/sizing.ts';
import { ContentClaims } from '../src/ledger/index.ts';
// Not the payload index: it would load mailparser into this thread, which only the parse threads run.
import { ParserPool } from '../src/payload/parser-pool.ts';
import type { DeliverJobData } from '../src/queue/jobs.ts';
import { bullPrefix } from '../src/queue/layout.ts';
import type { Runtime } from '../src/runtime/runtime.ts';
import { AttachmentStore } from '../src/storage/index.ts';
import type { OpsObserver } from '../src/telemetry/observations.ts';
import { WebhookSender } from '../src/webhook/index.ts';

export interface DeliverWorker {
  /** One BullMQ Worker per deliver queue (shard), in shard order. */
  workers: readonly Worker<DeliverJobData>[];
  /** Resolves once the parser threads are up (a fresh process's first deliveries would wait for them). */
  ready: Promise<void>;
  close(): Promise<void>;
}

export function startDeliverWorker(rt: Runtime, observer: OpsObserver): DeliverWorker {
  const { delivery, webhooks, mailboxes } = rt.config;
  const parser = new ParserPool({
    // One by default (src/config/schema.ts): parsing is CPU work, and each thread warms its own JIT, so a
    // second thread on a small machine costs CPU at the same throughput; deliveries beyond the thread count
    // wait for it while others are in HTTP or Redis I/O.
    size: delivery.parseThreads,
    limits: {
      timeoutMs: delivery.parseTimeoutMs,
      maxParts: delivery.maxParts,
      maxDepth: delivery.maxDepth,
      maxHeaderBytes: delivery.maxHeaderBytes,
    },
    payloadOptions: Object.fromEntries(
      Object.values(rt.config.mailboxes).map((m) => [
        m.id,
        { trustedAuthservIds: m.trustedAuthservIds, winmailDat: m.winmailDat },
      ]),
    ),
  });
  const sender = new WebhookSender();
  // Only when a webhook stores attachments by reference; the AWS SDK itself loads on first upload.
  const byReference = Object.values(webhooks).some((w) => w.attachments.mode === 'reference');
  const storage = byReference && rt.config.storage ? new AttachmentStore(rt.config.storage) : undefined;
  const earlyPolls = new EarlyPolls(
    (mailbox, delayMs) => rt.queues.requestPoll(mailbox, delayMs),
    (mailbox, error) =>
      rt.logger.warn(
        { mailbox, err: (error as Error).message },
        'early poll not queued: the scheduled poll deletes',
      ),
  );
  let draining = false;
  const deps = {
    ...rt.deliverState,
    parser,
    sender,
    webhooks,
    ...(rt.config.dedupe && {
      dedupe: new Deduper(
        new ContentClaims(rt.redis.patient, rt.config.redis.prefix),
        rt.deliverState.ledger,
        rt.config.dedupe,
        rt.logger,
      ),
    }),
    ...(storage ? { storage } : {}),
    routing: Object.fromEntries(Object.values(mailboxes).map((m) => [m.id, m.routing])),
    afterDelivered: (mailbox: string) =>
      mailboxes[mailbox]?.delete ? earlyPolls.afterDelivered(mailbox) : Promise.resolve(),
    now: Date.now,
    logger: rt.logger,
    limiter: new Limiter(delivery.concurrency),
    draining: () => draining,
    enqueue: (data: DeliverJobData, delayMs: number) => rt.queues.enqueueDelivery(data, delayMs),
  };
  const runJob = (job: Job<DeliverJobData>, _token?: string, signal?: AbortSignal) =>
    runDeliverJob(deps, observer, job as DeliverJobRun, signal);

  const queues = rt.queues.deliverShards;
  const perShard = shardConcurrency(delivery.concurrency, queues.length);
  const workers = queues.map((queue, i) => {
    const worker = new Worker<DeliverJobData>(queue.name, runJob, {
      connection: rt.redis.patient,
      prefix: bullPrefix(rt.config.redis.prefix, queue.name),
      concurrency: perShard[i]!,
      // A crash mid-delivery is retried (a repeat, never a loss); a message that kills the worker again and
      // again ends as a failed job, which the next poll of its mailbox turns into a dead letter.
      maxStalledCount: 5,
      settings: { backoffStrategy: deliverBackoff(webhooks) },
    });
    worker.on('error', (error) => {
      if (!rt.outage.report(error)) rt.logger.warn({ err: error.message, queue: queue.name }, 'worker error');
    });
    return worker;
  });
  const ready = parser.start();
  // Only the first start is awaited (by the service); a restart's threads that fail to start fail their
  // parses instead, which retries the deliveries.
  ready.catch(() => {});
  return {
    workers,
    ready,
    async close() {
      draining = true;
      await Promise.allSettled(workers.map((worker) => worker.close()));
      earlyPolls.close();
      await Promise.allSettled([parser.close(), sender.close(), storage?.close()]);
    },
  };
}
