// One deliver job as the deliver worker runs it: the delivery attempt (deliver.ts), its log line and its
// observation for metrics and the per-webhook stats, and the delay BullMQ waits before the next attempt.
import type { Config } from '../config/index.ts';
import type { DeliverJobData } from '../queue/jobs.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { OpsObserver } from '../telemetry/observations.ts';
import { nextAttemptDelayMs } from '../webhook/index.ts';
import { type DeliverDeps, deliverMessage, describeFailure } from './deliver.ts';

/** The job as BullMQ hands it over: its data, its id and queue (log bindings) and failed attempts so far. */
export interface DeliverJobRun {
  id: string | undefined;
  queueName: string;
  attemptsMade: number;
  data: DeliverJobData;
}

export async function runDeliverJob(
  deps: Omit<DeliverDeps, 'logger'> & { logger: Logger },
  observer: OpsObserver,
  job: DeliverJobRun,
  signal?: AbortSignal,
) {
  const logger = deps.logger.child({ queue: job.queueName, jobId: job.id, mailbox: job.data.mailbox });
  const started = Date.now();
  const { mailbox, webhook, uidl } = job.data;
  const facts = () => ({ uidl, attempt: job.attemptsMade + 1, durationMs: Date.now() - started });
  try {
    const attempt = job.attemptsMade + 1;
    const result = await deliverMessage({ ...deps, logger }, job.data, {
      attempt,
      ...(signal ? { signal } : {}),
    });
    logger.info({ ...result, ...facts() }, 'delivery');
    observer.delivery({ mailbox, webhook, ...result, durationMs: Date.now() - started });
    return result;
  } catch (error) {
    const outcome = (error as Error).name === 'UnrecoverableError' ? 'dead-letter' : 'retry';
    const failure = describeFailure(error);
    observer.delivery({ mailbox, webhook, outcome, ...failure, durationMs: Date.now() - started });
    logger.warn({ outcome, ...failure, ...facts() }, 'delivery');
    throw error;
  }
}

/** BullMQ's backoffStrategy for deliver jobs: the backoff of the job's webhook. */
export function deliverBackoff(webhooks: Config['webhooks']) {
  return (
    attemptsMade: number,
    _type: string | undefined,
    error: Error | undefined,
    job?: { data: unknown },
  ) => {
    const webhook = webhooks[(job?.data as DeliverJobData | undefined)?.webhook ?? ''];
    // A webhook gone from the config: the next attempt dead-letters the message, so come back soon.
    if (!webhook) return 0;
    return nextAttemptDelayMs(attemptsMade, webhook, error);
  };
}
