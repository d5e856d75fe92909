// What the workers tell the ops layer about each poll and each delivery attempt: one small shape per event,
// so metrics, the per-webhook stats in Redis and the watchdog all learn from the same call.

export interface PollObservation {
  mailbox: string;
  /** PollOutcome ('ok', 'locked', 'in-use', 'login-delay'), a refused login ('credentials', 'temporary',
   * 'blocked'), or 'deferred' / 'error'. */
  outcome: string;
  durationMs: number;
  fetched?: number;
  fetchedBytes?: number;
  deleted?: number;
}

export type DeliveryAttemptOutcome =
  | 'delivered'
  | 'already-delivered'
  | 'raw-missing'
  | 'retry'
  | 'dead-letter'
  | 'duplicate'
  /** A drop route took the message: recorded, never sent. */
  | 'dropped'
  /** Routes chose several webhooks: each gets a job of its own (their attempts are observed there). */
  | 'fanned-out';

export interface DeliveryObservation {
  mailbox: string;
  webhook: string;
  outcome: DeliveryAttemptOutcome;
  durationMs: number;
  status?: number;
  code?: string;
  /** A copy of an email sent marked with duplicateOf (dedupe.mode: mark); skipped ones are `duplicate`. */
  marked?: boolean;
  /** The route that dropped the message (outcome `dropped`). */
  route?: string;
}

export interface OpsObserver {
  poll(observation: PollObservation): void;
  delivery(observation: DeliveryObservation): void;
}

/** Class of an attempt that reached for the webhook: `2xx`…`5xx`, `timeout`, `network`, or `error`. */
export type StatusClass = `${1 | 2 | 3 | 4 | 5}xx` | 'timeout' | 'network' | 'error';

const NOT_SENT: ReadonlySet<DeliveryAttemptOutcome> = new Set([
  'already-delivered',
  'raw-missing',
  'duplicate',
  'dropped',
  'fanned-out',
]);

/**
 * undefined for outcomes that never called the webhook (a duplicate job, a raw message gone, routing, a
 * copy of an email skipped as a duplicate or waiting for another copy's outcome).
 */
export function statusClass(o: DeliveryObservation): StatusClass | undefined {
  if (NOT_SENT.has(o.outcome)) return undefined;
  if (o.code === 'DEDUPE_FIRST_IN_FLIGHT') return undefined;
  if (typeof o.status === 'number' && o.status >= 100 && o.status < 600) {
    return `${Math.floor(o.status / 100) as 1 | 2 | 3 | 4 | 5}xx`;
  }
  if (o.code === 'WEBHOOK_TIMEOUT') return 'timeout';
  if (o.code === 'WEBHOOK_NETWORK') return 'network';
  return 'error';
}
