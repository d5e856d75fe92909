// The retry rules of a webhook delivery, pure and framework-free so the deliver worker (BullMQ) and the
// tests share them: what a status means, how long Retry-After asks to wait, the backoff between
// attempts and when to give up. Times are epoch milliseconds or Dates; nothing here reads a clock.

/** success: 2xx; redirect: 3xx (never followed); retryable: 408/425/429/5xx; permanent: other 4xx. */
export type StatusClass = 'success' | 'redirect' | 'retryable' | 'permanent';

/** Retry-After is honoured up to this much; a receiver asking for a day is treated as asking for 1 h. */
export const MAX_RETRY_AFTER_MS = 60 * 60_000;

// 408 Request Timeout, 425 Too Early (RFC 8470 §5.2: "the client can repeat the request"),
// 429 Too Many Requests (RFC 6585 §4).
const RETRYABLE_4XX = new Set([408, 425, 429]);

// RFC 9110 §10.2.3: Retry-After = HTTP-date / delay-seconds. All three HTTP-date forms (§5.6.7:
// IMF-fixdate, obsolete RFC 850 and asctime) begin with a day name; requiring one keeps Date.parse's
// lenient guessing ("-5", "12") out.
const DELAY_SECONDS = /^\d+$/;
const HTTP_DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? /;

export function classifyStatus(status: number): StatusClass {
  if (status >= 200 && status <= 299) return 'success';
  if (status >= 300 && status <= 399) return 'redirect';
  if (status >= 400 && status <= 499) return RETRYABLE_4XX.has(status) ? 'retryable' : 'permanent';
  // 5xx, and anything outside the registered ranges, is the receiver's trouble: try again later.
  return 'retryable';
}

/**
 * Milliseconds a Retry-After header asks to wait, from `now`, capped at {@link MAX_RETRY_AFTER_MS};
 * a date in the past gives 0; a missing or unreadable value gives undefined.
 */
export function parseRetryAfter(
  value: string | readonly string[] | null | undefined,
  now: Date | number,
): number | undefined {
  const text = (typeof value === 'string' ? value : value?.[0])?.trim();
  if (!text) return undefined;
  let ms: number;
  if (DELAY_SECONDS.test(text)) {
    ms = Number(text) * 1000;
  } else if (HTTP_DATE.test(text)) {
    // asctime carries no zone but means GMT (§5.6.7); Date.parse would read it as local time.
    const at = Date.parse(text.endsWith('GMT') ? text : `${text} GMT`);
    if (Number.isNaN(at)) return undefined;
    ms = Math.max(0, at - Number(now));
  } else {
    return undefined;
  }
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

export interface RetryDelayOptions {
  /** The ceiling of the first retry's delay; it doubles with every attempt (webhooks.<id>.retryDelay). */
  baseMs: number;
  /** The ceiling never grows past this (webhooks.<id>.retryMaxDelay). */
  maxMs: number;
  /** What the receiver asked for (from {@link parseRetryAfter}): the delay is never shorter. */
  retryAfterMs?: number;
  /** [0, 1), injectable for tests. */
  random?: () => number;
}

/**
 * The delay before the next attempt, `attempt` counting the failed attempts so far (1 after the first,
 * as BullMQ's `attemptsMade`). Exponential backoff with full jitter: uniform in [0, min(maxMs,
 * baseMs·2^(attempt-1))), so a fleet that failed together does not retry together. A Retry-After is a
 * floor on top (itself capped at {@link MAX_RETRY_AFTER_MS}), so it may exceed maxMs.
 */
export function retryDelayMs(attempt: number, options: RetryDelayOptions): number {
  const { baseMs, maxMs, retryAfterMs, random = Math.random } = options;
  const exponent = Number.isFinite(attempt) ? Math.max(0, Math.floor(attempt) - 1) : 0;
  const ceiling = Math.min(maxMs, baseMs * 2 ** exponent);
  const jittered = Math.floor(random() * ceiling);
  const floor = retryAfterMs === undefined ? 0 : Math.min(Math.max(0, retryAfterMs), MAX_RETRY_AFTER_MS);
  return Math.max(jittered, floor);
}

/**
 * BullMQ's backoff for a deliver job after `attemptsMade` failed attempts: the webhook's backoff, never
 * shorter than the Retry-After its last answer asked for (carried in the error's details).
 */
export function nextAttemptDelayMs(
  attemptsMade: number,
  webhook: { retryDelayMs: number; retryMaxDelayMs: number },
  error: unknown,
): number {
  const retryAfterMs = (error as { details?: { retryAfterMs?: unknown } } | null)?.details?.retryAfterMs;
  return retryDelayMs(attemptsMade, {
    baseMs: webhook.retryDelayMs,
    maxMs: webhook.retryMaxDelayMs,
    ...(typeof retryAfterMs === 'number' ? { retryAfterMs } : {}),
  });
}

/** Whether retrying has gone on for `retryForMs` since the first attempt (then: dead letter). */
export function shouldGiveUp(firstAttemptAt: Date | number, now: Date | number, retryForMs: number): boolean {
  return Number(now) - Number(firstAttemptAt) >= retryForMs;
}

/**
 * BullMQ's backoffStrategy for jobs whose data names a webhook (`{ webhook }`): that webhook's delays, counting
 * `priorOf(data)` attempts made before the job. A webhook gone from the config: at once (the next attempt
 * gives up on it).
 */
export function webhookBackoff<T extends { webhook: string }>(
  webhooks: Readonly<Record<string, { retryDelayMs: number; retryMaxDelayMs: number }>>,
  priorOf: (data: T) => number = () => 0,
) {
  return (
    attemptsMade: number,
    _type: string | undefined,
    error: Error | undefined,
    job?: { data: unknown },
  ) => {
    const data = job?.data as T | undefined;
    const webhook = data && webhooks[data.webhook];
    if (!webhook) return 0;
    return nextAttemptDelayMs(attemptsMade + priorOf(data), webhook, error);
  };
}
