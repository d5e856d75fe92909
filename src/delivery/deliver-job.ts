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
import type { Limiter, Release } from './limiter.ts';
import { type PreparedPayload, STREAM_THRESHOLD_BYTES } from './prepared-payload.ts';
import { RawReadAhead } from './raw-read-ahead.ts';
import { routeStep, routesDependOnMessage } from './route-step.ts';

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

/** `message` as routed: its webhook-id, `routed`, and `webhook` the one it went to (the job's, unrouted). */
type Settled =
  | {
      message: DeliverMessage;
      webhook: string;
      outcome: 'accepted';
      status: number;
      marked?: boolean;
      attempt: number;
      durationMs: number;
    }
  | { message: DeliverMessage; webhook: string; outcome: 'handed-back' }
  | {
      message: DeliverMessage;
      webhook: string;
      outcome: Exclude<DeliveryAttemptOutcome, 'delivered' | 'dropped' | 'fanned-out'>;
      attempt: number;
      durationMs: number;
      error?: unknown;
    }
  | {
      message: DeliverMessage;
      webhook: string;
      outcome: 'dropped';
      route: string;
      attempt: number;
      durationMs: number;
    }
  | {
      message: DeliverMessage;
      webhook: string;
      outcome: 'fanned-out';
      targets: Array<{ webhook: string; id: string }>;
      attempt: number;
      durationMs: number;
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
  const raw = new RawReadAhead(deps.raw, mailbox, messages);
  const attemptDeps = { ...deps, logger, raw };
  const solo = messages.length === 1;
  const counts: Record<string, number> = {};
  const recorder = new DeliveredRecorder(attemptDeps, mailbox);

  // A slot is set as its attempt settles, in any order, for what splitOff acts on: a 2xx leaves its slot
  // empty (the job lives as long as its last message, and every 2xx it kept was promoted to the old
  // generation with it). Sized up front, so every store is in bounds and the array keeps one shape (a store
  // past the end made it holey mid-job and deoptimized this function).
  const settled = new Array<Settled | undefined>(messages.length);
  const runOne = async (i: number, message: DeliverMessage, release: Release) => {
    let result: Settled;
    try {
      result =
        !solo && deps.draining()
          ? { message, webhook: job.data.webhook, outcome: 'handed-back' }
          : await attemptOne(attemptDeps, job, message, signal);
    } finally {
      release();
    }
    if (result.outcome !== 'accepted') settled[i] = result;
    const outcome = report(observer, logger, job.data, result);
    counts[outcome] = (counts[outcome] ?? 0) + 1;
    if (result.outcome === 'accepted') await recorder.add(result);
  };
  // A message starts once the limiter has a slot for it, not before: a job holds a few attempts, not all of
  // its messages suspended in the limiter's queue for the job's whole life (that garbage outlived scavenges
  // and was promoted: docs/performance.md).
  const failures: unknown[] = [];
  const running = new Set<Promise<void>>();
  for (const [i, message] of messages.entries()) {
    const release = await deps.limiter.acquire(slotsFor(message));
    const run: Promise<void> = runOne(i, message, release)
      .catch((error: unknown) => {
        failures.push(error);
      })
      .finally(() => running.delete(run));
    running.add(run);
  }
  await Promise.all(running);
  // Only a ledger write can fail here (every attempt settles): the job fails and runs again, a repeat.
  if (failures.length > 0) throw failures[0];
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
  let delivery: MessageDelivery = { ...message, mailbox: job.data.mailbox, webhook: job.data.webhook };
  const options = { attempt, ...(signal ? { signal } : {}) };
  const settled = (routed: MessageDelivery) => ({
    message: stripDelivery(routed),
    webhook: routed.webhook,
    attempt,
    durationMs: Date.now() - begun,
  });
  try {
    const routing = message.routed === undefined ? deps.routing?.[delivery.mailbox] : undefined;
    let prepared: PreparedPayload | undefined;
    if (routing && routesDependOnMessage(routing)) {
      const step = await routeStep(deps, delivery, routing, options);
      if ('outcome' in step) return { ...settled(delivery), outcome: step.outcome };
      if (step.kind === 'dropped') return { ...settled(delivery), outcome: 'dropped', route: step.route };
      if (step.kind === 'fanned-out')
        return { ...settled(delivery), outcome: 'fanned-out', targets: step.targets };
      delivery = { ...delivery, webhook: step.webhook, routed: 'single' };
      prepared = step.prepared;
    }
    const result = await attemptDelivery(deps, delivery, { ...options, ...(prepared ? { prepared } : {}) });
    if (result.outcome === 'accepted') return { ...settled(delivery), ...result };
    return { ...settled(delivery), outcome: result.outcome };
  } catch (error) {
    const outcome = error instanceof UnrecoverableError ? 'dead-letter' : 'retry';
    return { ...settled(delivery), outcome, error };
  }
}

/** The message part of a routed delivery (what a retry job carries). */
function stripDelivery({ mailbox: _m, webhook: _w, ...message }: MessageDelivery): DeliverMessage {
  return message;
}

/**
 * A big message (the streamed path) takes two of the limiter's slots: one in flight holds about 1.2x its
 * size (npm run bench -- --only memory), a small one a few tens of KB, so with delivery.concurrency's
 * default of 8 at most four big messages are in flight at once, as before that default was raised from 4.
 */
const slotsFor = (message: DeliverMessage): number => (message.size >= STREAM_THRESHOLD_BYTES ? 2 : 1);

/**
 * Metrics, stats and the watchdog learn of each attempt as it ends; its log line is at debug, at warn when
 * it failed. Returns the outcome's name for the job's summary.
 */
function report(observer: OpsObserver, logger: Logger, data: DeliverJobData, s: Settled): string {
  if (s.outcome === 'handed-back') return s.outcome;
  const { mailbox } = data;
  const { webhook } = s;
  const outcome = s.outcome === 'accepted' ? 'delivered' : s.outcome;
  const failure = 'error' in s ? describeFailure(s.error) : {};
  const status = s.outcome === 'accepted' ? { status: s.status, ...(s.marked ? { marked: true } : {}) } : {};
  const route = s.outcome === 'dropped' ? { route: s.route } : {};
  observer.delivery({ mailbox, webhook, outcome, ...status, ...failure, ...route, durationMs: s.durationMs });
  const facts = { uidl: s.message.uidl, webhook, outcome, attempt: s.attempt, durationMs: s.durationMs };
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

  async add(s: { message: DeliverMessage; webhook: string; status: number; attempt: number }): Promise<void> {
    if (s.message.routed === 'fan-out') {
      // One target of several: its own state; the message is delivered once every target is.
      const after = await this.deps.ledger.markTarget(this.mailbox, s.message.uidl, s.webhook, {
        state: 'delivered',
        status: s.status,
        attempts: s.attempt,
      });
      this.recorded += 1;
      if (after === 'delivered') await earlyPoll(this.deps, this.mailbox);
      // The last target to settle made it dead as a whole (another one dead-lettered before): its event.
      if (after === 'dead') await this.deps.deadLetters.announce(this.mailbox, s.message.uidl, 'queued');
      return;
    }
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

/**
 * Each message of a batch that needs a retry becomes a job of its own (to the webhook routes chose); each
 * pending target of a fanned-out message, a job of its own (id: its webhook-id); the messages not
 * started, one job.
 */
async function splitOff(
  deps: DeliverJobDeps,
  data: DeliverJobData,
  settled: ReadonlyArray<Settled | undefined>,
) {
  const retries = settled.flatMap((s) => {
    if (s === undefined) return [];
    if (s.outcome === 'fanned-out') {
      return s.targets.map(({ webhook, id }) =>
        deps.enqueue({ ...data, webhook, messages: [fanOutTarget(s.message, id)] }, 0),
      );
    }
    if (s.outcome !== 'retry') return [];
    const webhook = deps.webhooks[s.webhook];
    return [
      deps.enqueue(
        {
          ...data,
          webhook: s.webhook,
          messages: [{ ...s.message, priorAttempts: s.attempt, lastError: errorText(s.error) }],
        },
        webhook ? nextAttemptDelayMs(s.attempt, webhook, s.error) : 0,
      ),
    ];
  });
  const rest = settled.flatMap((s) => (s?.outcome === 'handed-back' ? [s.message] : []));
  if (rest.length > 0) retries.push(deps.enqueue({ ...data, messages: rest }, 0));
  await Promise.all(retries);
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** A target's job: its own webhook-id and attempts, the message's retry period (queuedAt). */
function fanOutTarget(message: DeliverMessage, webhookId: string): DeliverMessage {
  const { priorAttempts: _p, lastError: _l, ...rest } = message;
  return { ...rest, webhookId, routed: 'fan-out' };
}

/** BullMQ's backoffStrategy for deliver jobs (only a job of one message fails to retry): its webhook's. */
export function deliverBackoff(webhooks: Config['webhooks']) {
  return webhookBackoff(webhooks, (data: DeliverJobData) => data.messages[0]?.priorAttempts ?? 0);
}
