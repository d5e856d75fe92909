// Whether this process can reach Redis, and what an operator is told about it: the one place that owns a
// Redis outage. The runtime's connections report to it (ioredis emits an 'error' per reconnect attempt,
// several a second per connection), and so do BullMQ's queues and workers for the connections they make
// themselves. An outage is logged once when it begins, then reminded every REMINDER_MS, then once when it
// ends; every attempt in between is only counted. The watchdog and readiness ask it, so an outage is never
// taken for a wedged worker. The decisions are pure (nextOutage), the class only feeds them events.
import type { RedisClient } from '../queue/connections.ts';
import type { Logger } from '../telemetry/logger.ts';

/** How often a continuing outage is reminded in the log. */
export const REMINDER_MS = 30_000;

export interface OutageState {
  /** Set while Redis is unreachable: when the outage began. */
  downSince?: number;
  /** When the last outage ended (or the watch began): quiet time before this is not the workers' fault. */
  upSince: number;
  /** Failed attempts and connection errors during the current outage. */
  failures: number;
  lastError?: string;
  lastNoticeAt?: number;
}

export type OutageEvent =
  | { kind: 'error'; message: string; at: number }
  | { kind: 'ready'; at: number }
  | { kind: 'tick'; at: number };

export type OutageNotice =
  | { event: 'redis-down'; error: string }
  | { event: 'redis-still-down'; downForMs: number; failures: number; error: string }
  | { event: 'redis-back'; downForMs: number; failures: number };

/** Pure: the next state, and what to tell the operator (at most one line per event, most events none). */
export function nextOutage(
  state: OutageState,
  event: OutageEvent,
  reminderMs: number,
): { state: OutageState; notice?: OutageNotice } {
  if (event.kind === 'error') {
    if (state.downSince !== undefined) {
      return { state: { ...state, failures: state.failures + 1, lastError: event.message } };
    }
    const down = {
      ...state,
      downSince: event.at,
      failures: 1,
      lastError: event.message,
      lastNoticeAt: event.at,
    };
    return { state: down, notice: { event: 'redis-down', error: event.message } };
  }
  if (state.downSince === undefined) return { state };
  const downForMs = event.at - state.downSince;
  if (event.kind === 'ready') {
    return {
      state: { upSince: event.at, failures: 0 },
      notice: { event: 'redis-back', downForMs, failures: state.failures },
    };
  }
  if (event.at - (state.lastNoticeAt ?? state.downSince) < reminderMs) return { state };
  return {
    state: { ...state, lastNoticeAt: event.at },
    notice: {
      event: 'redis-still-down',
      downForMs,
      failures: state.failures,
      error: state.lastError ?? 'unknown',
    },
  };
}

/**
 * Pure: whether an error means "Redis can't be reached" (refused, unreachable, reset, closed, a command
 * given up on while reconnecting) rather than a problem with a command.
 */
export function isConnectionError(error: { message?: string; code?: unknown }): boolean {
  const code = typeof error.code === 'string' ? error.code : '';
  if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE)$/.test(code))
    return true;
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE|Connection is closed|Stream isn't writeable|Reached the max retries per request|connect ETIMEDOUT|LOADING|Failed to refresh slots cache|None of startup nodes is available|ClusterAllFailedError/.test(
    error.message ?? '',
  );
}

export interface RedisOutageOptions {
  /** The Redis URL with its password masked, for every line about the outage. */
  url: string;
  logger: Logger;
  now?: () => number;
  reminderMs?: number;
}

export class RedisOutage {
  #state: OutageState;
  readonly #clients: RedisClient[] = [];
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(private readonly options: RedisOutageOptions) {
    this.#now = options.now ?? Date.now;
    this.#state = { upSince: this.#now(), failures: 0 };
  }

  /** True while Redis can't be reached. */
  get down(): boolean {
    return this.#state.downSince !== undefined;
  }

  /** When Redis was last reached again after an outage (or the watch began). */
  get upSince(): number {
    return this.#state.upSince;
  }

  /** Down now, or an outage ended after `since`: anything read from Redis since then says nothing. */
  downSince(since: number): boolean {
    return this.down || this.#state.upSince > since;
  }

  /** What readiness shows while down. */
  describe(): string | undefined {
    const { downSince, lastError } = this.#state;
    if (downSince === undefined) return undefined;
    return `unreachable for ${Math.round((this.#now() - downSince) / 1000)} s (${lastError ?? 'unknown'})`;
  }

  /** Follows a connection the runtime owns: its errors open an outage, its 'ready' may close it. */
  watch(client: RedisClient): void {
    this.#clients.push(client);
    client.on('error', (error: Error) => {
      if (this.report(error) || this.#closed) return;
      // Not a network error, yet a connection that is not ready is not usable either (a refused password,
      // an untrusted certificate): that is an outage too, announced once with its reason.
      if (client.status !== 'ready') this.#feed({ kind: 'error', message: error.message, at: this.#now() });
      else this.options.logger.warn({ err: error.message, url: this.options.url }, 'redis error');
    });
    client.on('ready', () => {
      if (this.#clients.every((c) => c.status === 'ready')) this.#feed({ kind: 'ready', at: this.#now() });
    });
  }

  /**
   * An error from any Redis user (a queue, a worker, a connection BullMQ made): a connection error is
   * counted into the outage; returns false for any other error, which the caller logs itself.
   */
  report(error: Error): boolean {
    if (!isConnectionError(error as Error & { code?: unknown })) return false;
    if (this.#closed) return true;
    const watched = this.#clients.some((c) => c.status !== 'ready');
    // Errors of connections we don't watch count, but only our own connections decide up or down.
    if (watched || this.down) this.#feed({ kind: 'error', message: error.message, at: this.#now() });
    return true;
  }

  /** Stops reminding; errors after this (connections closing) are swallowed. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #feed(event: OutageEvent): void {
    const { state, notice } = nextOutage(this.#state, event, this.options.reminderMs ?? REMINDER_MS);
    this.#state = state;
    if (notice) this.#announce(notice);
    if (this.down && !this.#closed) {
      this.#timer ??= setInterval(() => this.#feed({ kind: 'tick', at: this.#now() }), 1_000);
      this.#timer.unref();
    } else {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #announce(notice: OutageNotice): void {
    const { logger, url } = this.options;
    if (notice.event === 'redis-down') {
      logger.warn(
        { ...notice, url },
        'Redis unreachable: pophook waits for it (readiness 503) and resumes by itself once it answers',
      );
    } else if (notice.event === 'redis-still-down') {
      logger.warn(
        { ...notice, url, downForS: Math.round(notice.downForMs / 1000) },
        'still waiting for Redis',
      );
    } else {
      logger.info({ ...notice, url, downForS: Math.round(notice.downForMs / 1000) }, 'Redis is back');
    }
  }
}
