// The one home of prom-client: pophook's own Registry (never the global one), every series named
// `pophook_…`. Counters and the latency histogram are fed by the workers' observations; the gauges of
// state that lives in Redis (queue depths, ledger sizes, poll times, Redis memory) are set from a cached
// snapshot when Prometheus scrapes, so they describe the whole fleet and cost Redis little.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { MAILBOX_STATES } from '../mailbox/state.ts';
import type { DeliveryObservation, PollObservation } from '../telemetry/observations.ts';
import { statusClass } from '../telemetry/observations.ts';
import { QUEUE_STATES, type Snapshot } from './snapshot.ts';

export const METRIC_PREFIX = 'pophook_';

/** Seconds: webhook answers from a few ms to the 30 s default timeout and beyond. */
const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class PophookMetrics {
  readonly registry = new Registry();
  readonly #polls = this.#counter('polls_total', 'Poll sessions by mailbox and outcome', [
    'mailbox',
    'outcome',
  ]);
  readonly #fetched = this.#counter('messages_fetched_total', 'Messages retrieved (RETR)', ['mailbox']);
  readonly #bytes = this.#counter('bytes_fetched_total', 'Bytes of messages retrieved', ['mailbox']);
  readonly #deleted = this.#counter('messages_deleted_total', 'Messages deleted from the server', [
    'mailbox',
  ]);
  readonly #deliveries = this.#counter('deliveries_total', 'Delivery attempts by webhook and result class', [
    'webhook',
    'mailbox',
    'class',
  ]);
  readonly #latency = new Histogram({
    name: `${METRIC_PREFIX}delivery_duration_seconds`,
    help: 'Duration of delivery attempts (parse, sign, POST) that reached for the webhook',
    labelNames: ['webhook'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly #retries = this.#counter('delivery_retries_total', 'Failed attempts that will be retried', [
    'webhook',
  ]);
  readonly #dead = this.#counter('dead_letters_total', 'Messages dead-lettered by the deliver worker', [
    'mailbox',
    'webhook',
  ]);
  readonly #duplicates = this.#counter(
    'duplicates_total',
    'Copies of an email another copy of which the webhook accepted first (dedupe), skipped or sent marked',
    ['mailbox', 'webhook', 'action'],
  );
  readonly #dropped = this.#counter('messages_dropped_total', 'Messages a drop route took, by route', [
    'mailbox',
    'route',
  ]);
  readonly #recoveries = this.#counter('watchdog_recoveries_total', 'Watchdog recoveries by check', [
    'check',
  ]);
  readonly #queue = this.#gauge('queue_jobs', 'Jobs per queue and state', ['queue', 'state']);
  readonly #ledger = this.#gauge('ledger_entries', 'Ledger entries per mailbox and state', [
    'mailbox',
    'state',
  ]);
  readonly #lastOk = this.#gauge(
    'last_successful_poll_timestamp_seconds',
    'Unix time of the last poll that ended ok',
    ['mailbox'],
  );
  readonly #state = this.#gauge(
    'mailbox_state',
    'The state of each mailbox: 1 for the one it is in (ok, credentials, blocked…), 0 for the others',
    ['mailbox', 'state'],
  );
  readonly #oldest = this.#gauge(
    'oldest_undelivered_age_seconds',
    'Age of the oldest queued (undelivered) message; 0 when none',
    ['mailbox'],
  );
  readonly #redisUsed = this.#gauge('redis_memory_used_bytes', 'Redis used_memory', []);
  readonly #redisMax = this.#gauge('redis_memory_max_bytes', 'Redis maxmemory (0: no limit)', []);
  // Labelled so the series can be absent: a label-less gauge reads 0 after a reset, and 0 headroom is the
  // alarm. Without maxmemory Redis grows until the machine's memory runs out, so that is the limit then.
  readonly #redisLeft = this.#gauge(
    'redis_memory_headroom_bytes',
    'Bytes Redis may still use: maxmemory (limit="maxmemory") or, without one, the machine\'s memory (limit="system") minus used_memory',
    ['limit'],
  );
  readonly #stateUp = this.#gauge('state_read_up', '1 when the last read of the Redis state succeeded', []);

  constructor(
    private readonly snapshot?: () => Promise<Snapshot>,
    options: { processMetrics?: boolean } = {},
  ) {
    if (options.processMetrics ?? true)
      collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  observePoll(o: PollObservation): void {
    this.#polls.inc({ mailbox: o.mailbox, outcome: o.outcome });
    if (o.fetched) this.#fetched.inc({ mailbox: o.mailbox }, o.fetched);
    if (o.fetchedBytes) this.#bytes.inc({ mailbox: o.mailbox }, o.fetchedBytes);
    if (o.deleted) this.#deleted.inc({ mailbox: o.mailbox }, o.deleted);
  }

  observeDelivery(o: DeliveryObservation): void {
    if (o.outcome === 'duplicate' || o.marked) {
      const action = o.marked ? 'marked' : 'skipped';
      this.#duplicates.inc({ mailbox: o.mailbox, webhook: o.webhook, action });
    }
    if (o.outcome === 'dropped') this.#dropped.inc({ mailbox: o.mailbox, route: o.route ?? '' });
    const cls = statusClass(o);
    if (cls === undefined) return;
    this.#deliveries.inc({ webhook: o.webhook, mailbox: o.mailbox, class: cls });
    this.#latency.observe({ webhook: o.webhook }, o.durationMs / 1000);
    if (o.outcome === 'retry') this.#retries.inc({ webhook: o.webhook });
    if (o.outcome === 'dead-letter') this.#dead.inc({ mailbox: o.mailbox, webhook: o.webhook });
  }

  observeRecovery(check: string): void {
    this.#recoveries.inc({ check });
  }

  /** The Prometheus text, with the Redis-backed gauges refreshed from the (cached) snapshot first. */
  async render(): Promise<string> {
    if (this.snapshot) {
      try {
        this.setState(await this.snapshot());
        this.#stateUp.set(1);
      } catch {
        this.#stateUp.set(0);
      }
    }
    return this.registry.metrics();
  }

  setState(s: Snapshot): void {
    for (const gauge of [this.#queue, this.#ledger, this.#lastOk, this.#state, this.#oldest, this.#redisLeft])
      gauge.reset();
    for (const [queue, counts] of Object.entries(s.queues)) {
      for (const state of QUEUE_STATES) this.#queue.set({ queue, state }, counts[state]);
    }
    for (const m of s.mailboxes) {
      for (const [state, count] of Object.entries(m.ledger))
        this.#ledger.set({ mailbox: m.id, state }, count);
      if (m.lastOkAt !== undefined) this.#lastOk.set({ mailbox: m.id }, m.lastOkAt / 1000);
      for (const state of MAILBOX_STATES)
        this.#state.set({ mailbox: m.id, state }, m.state.state === state ? 1 : 0);
      const age = m.oldestQueuedAt === undefined ? 0 : Math.max(0, s.at - m.oldestQueuedAt) / 1000;
      this.#oldest.set({ mailbox: m.id }, age);
    }
    const { usedBytes, maxBytes, systemBytes } = s.redis;
    if (usedBytes !== undefined) this.#redisUsed.set(usedBytes);
    if (maxBytes !== undefined) this.#redisMax.set(maxBytes);
    if (usedBytes === undefined) return;
    if (maxBytes) this.#redisLeft.set({ limit: 'maxmemory' }, maxBytes - usedBytes);
    else if (systemBytes) this.#redisLeft.set({ limit: 'system' }, systemBytes - usedBytes);
  }

  #counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return new Counter({ name: `${METRIC_PREFIX}${name}`, help, labelNames, registers: [this.registry] });
  }

  #gauge<L extends string>(name: string, help: string, labelNames: L[]): Gauge<L> {
    return new Gauge({ name: `${METRIC_PREFIX}${name}`, help, labelNames, registers: [this.registry] });
  }
}
