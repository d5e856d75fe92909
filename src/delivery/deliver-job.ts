// One deliver job as the deliver worker runs it: its messages side by side (the process-wide limiter bounds
// them), each attempt observed for metrics and the per-webhook stats as it ends, the 2xx recorded in the
// ledger RECORD_EVERY to a script, and one summary log line (per-message lines at debug, failures at warn).
//
// A message that needs a retry: in a job of its own, the job fails and BullMQ waits the backoff
// (deliverBackoff); in a batch, it leaves as a job of its own, delayed by the same backoff, and the batch
// completes. A batch asked to stop (the process drains) starts no new message and hands the rest back as
// one job. A crash mid-batch makes BullMQ run the whole batch again: messages whose 2xx was recorded are
// skipped (their raw is gone), the others are sent again — a repeat, never a loss.
import { UnrecoverableError } from 'bullmq';
import type { Config } from '../config/index.ts';
import type { DeliverJobData, DeliverMessage, MessageDelivery } from '../queue/jobs.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { DeliveryAttemptOutcome, OpsObserver } from '../telemetry/observations.ts';
import { nextAttemptDelayMs, webhookBackoff } from '../webhook/index.ts';
import { attemptDelivery, type DeliverDeps, describeFailure, earlyPoll } from './deliver.ts';
import type { Limiter } from './limiter.ts';

/** The job as BullMQ hands it over: its data, its id and queue (log bindings) and failed attempts so far. */
export interface DeliverJobRun {
  id: string | undefined;
  queueName: string;
  attemptsMade: number;
  data: DeliverJobData;
}

export interface DeliverJobDeps extends DeliverDeps {
  limiter: Limiter;
  /** True once the process drains: a batch starts no new message. */
  draining(): boolean;
  /** Adds a deliver job after `delayMs` (a retry split off a batch, or the rest of a batch handed back). */
  enqueue(data: DeliverJobData, delayMs: number): Promise<unknown>;
}

type Settled =
  | {
      message: DeliverMessage;
      outcome: 'accepted';
      status: number;
      marked?: boolean;
      attempt: number;
      durationMs: number;
    }
  | { message: DeliverMessage; outcome: 'handed-back' }
  | {
      message: DeliverMessage;
      outcome: Exclude<DeliveryAttemptOutcome, 'delivered'>;
      attempt: number;
      durationMs: number;
      error?: unknown;
    };

/**
 * A batch records its 2xx in the ledger every this many (and at its end): one script per group, and a
 * crash repeats at most a group's worth of accepted messages beside those in flight.
 */
export const RECORD_EVERY = 10;

export async function runDeliverJob(
  deps: DeliverJobDeps,
  observer: OpsObserver,
  job: DeliverJobRun,
  signal?: AbortSignal,
): Promise<{ delivered: number }> {
  const { mailbox, messages } = job.data;
  const logger = deps.logger.child({ queue: job.queueName, jobId: job.id, mailbox });
  const started = Date.now();
  const attemptDeps = { ...deps, logger };
  const solo = messages.length === 1;
  const counts: Record<string, number> = {};
  const recorder = new DeliveredRecorder(attemptDeps, mailbox);

  const outcomes = await Promise.allSettled(
    messages.map(async (message) => {
      const result = await deps.limiter.run(() =>
        !solo && deps.draining()
          ? Promise.resolve<Settled>({ message, outcome: 'handed-back' })
          : attemptOne(attemptDeps, job, message, signal),
      );
      const outcome = report(observer, logger, job.data, result);
      counts[outcome] = (counts[outcome] ?? 0) + 1;
      if (result.outcome === 'accepted') await recorder.add(result);
      return result;
    }),
  );
  // Only a ledger write can fail here (every attempt settles): the job fails and runs again, a repeat.
  const broken = outcomes.find((o) => o.status === 'rejected');
  if (broken) throw broken.reason;
  const settled = outcomes.map((o) => (o as PromiseFulfilledResult<Settled>).value);
  await recorder.flush();
  logger.info({ messages: messages.length, ...counts, durationMs: Date.now() - started }, 'deliveries');

  const [first] = settled;
  // A job of one message fails to retry (BullMQ waits deliverBackoff) or to stay failed as a dead letter.
  if (solo && first && 'error' in first) throw first.error;
  await splitOff(deps, job.data, settled);
  return { delivered: recorder.recorded };
}

async function attemptOne(
  deps: DeliverDeps,
  job: DeliverJobRun,
  message: DeliverMessage,
  signal: AbortSignal | undefined,
): Promise<Settled> {
  const attempt = (message.priorAttempts ?? 0) + job.attemptsMade + 1;
  const begun = Date.now();
  const delivery: MessageDelivery = { ...message, mailbox: job.data.mailbox, webhook: job.data.webhook };
  try {
    const result = await attemptDelivery(deps, delivery, { attempt, ...(signal ? { signal } : {}) });
    const durationMs = Date.now() - begun;
    if (result.outcome === 'accepted') return { message, ...result, attempt, durationMs };
    return { message, outcome: result.outcome, attempt, durationMs };
  } catch (error) {
    const outcome = error instanceof UnrecoverableError ? 'dead-letter' : 'retry';
    return { message, outcome, attempt, durationMs: Date.now() - begun, error };
  }
}

/**
 * Metrics, stats and the watchdog learn of each attempt as it ends; its log line is at debug, at warn when
 * it failed. Returns the outcome's name for the job's summary.
 */
function report(observer: OpsObserver, logger: Logger, data: DeliverJobData, s: Settled): string {
  if (s.outcome === 'handed-back') return s.outcome;
  const { mailbox, webhook } = data;
  const outcome = s.outcome === 'accepted' ? 'delivered' : s.outcome;
  const failure = 'error' in s ? describeFailure(s.error) : {};
  const status = s.outcome === 'accepted' ? { status: s.status, ...(s.marked ? { marked: true } : {}) } : {};
  observer.delivery({ mailbox, webhook, outcome, ...status, ...failure, durationMs: s.durationMs });
  const facts = { uidl: s.message.uidl, outcome, attempt: s.attempt, durationMs: s.durationMs };
  if ('error' in s) logger.warn({ ...facts, ...failure }, 'delivery');
  else logger.debug({ ...facts, ...status }, 'delivery');
  return outcome;
}

/** The 2xx of a job, written to the ledger RECORD_EVERY at a time (then an early poll for the DELE). */
class DeliveredRecorder {
  recorded = 0;
  #pending: Array<{ uidl: string; status: number; attempts: number }> = [];

  constructor(
    private readonly deps: DeliverDeps,
    private readonly mailbox: string,
  ) {}

  async add(s: { message: DeliverMessage; status: number; attempt: number }): Promise<void> {
    this.#pending.push({ uidl: s.message.uidl, status: s.status, attempts: s.attempt });
    if (this.#pending.length >= RECORD_EVERY) await this.flush();
  }

  async flush(): Promise<void> {
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    await this.deps.ledger.markDeliveredMany(this.mailbox, batch);
    this.recorded += batch.length;
    await earlyPoll(this.deps, this.mailbox);
  }
}

/** Each message of a batch that needs a retry becomes a job of its own; the messages not started, one job. */
async function splitOff(deps: DeliverJobDeps, data: DeliverJobData, settled: readonly Settled[]) {
  const webhook = deps.webhooks[data.webhook];
  const retries = settled.flatMap((s) =>
    s.outcome === 'retry'
      ? [
          deps.enqueue(
            {
              ...data,
              messages: [{ ...s.message, priorAttempts: s.attempt, lastError: errorText(s.error) }],
            },
            webhook ? nextAttemptDelayMs(s.attempt, webhook, s.error) : 0,
          ),
        ]
      : [],
  );
  const rest = settled.filter((s) => s.outcome === 'handed-back').map((s) => s.message);
  if (rest.length > 0) retries.push(deps.enqueue({ ...data, messages: rest }, 0));
  await Promise.all(retries);
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** BullMQ's backoffStrategy for deliver jobs (only a job of one message fails to retry): its webhook's. */
export function deliverBackoff(webhooks: Config['webhooks']) {
  return webhookBackoff(webhooks, (data: DeliverJobData) => data.messages[0]?.priorAttempts ?? 0);
}
