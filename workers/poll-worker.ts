// The poll worker: a BullMQ Worker on the poll queue whose jobs run src/mailbox/poll-job.ts.
import { type Job, Worker } from 'bullmq';
import { runPollJob } from '../src/mailbox/poll-job.ts';
import type { PollJobData } from '../src/queue/jobs.ts';
import { bullPrefix, POLL_QUEUE } from '../src/queue/layout.ts';
import type { Runtime } from '../src/runtime/runtime.ts';
import type { OpsObserver } from '../src/telemetry/observations.ts';

export function startPollWorker(
  rt: Runtime,
  concurrency: number,
  observer: OpsObserver,
): Worker<PollJobData> {
  const runJob = (job: Job<PollJobData>, _token?: string, signal?: AbortSignal) =>
    runPollJob(rt, observer, job.data, signal);
  const worker = new Worker<PollJobData>(POLL_QUEUE, runJob, {
    connection: rt.redis.patient,
    prefix: bullPrefix(rt.config.redis.prefix, POLL_QUEUE),
    concurrency,
    // A session holds its own mailbox lock; a stalled poll job is simply run again.
    maxStalledCount: 10,
  });
  worker.on('error', (error) => {
    if (!rt.outage.report(error)) rt.logger.warn({ err: error.message, queue: 'poll' }, 'worker error');
  });
  return worker;
}
