// /readyz: is this process doing its job? Redis reachable and writable, this process's workers running
// and not wedged (the watchdog's verdict), no mailbox polled by this fleet stale past N poll intervals or
// refused until an operator acts (its credentials, or the server's [SYS/PERM]), no stalled delivery. A
// stalled pipeline is unready even while the process is up. The decision is pure; the inputs are gathered
// with a time budget so a hung Redis makes /readyz answer 503, not hang.
import { type MailboxState, OPERATOR_STATES } from '../mailbox/state.ts';
import type { RedisClient } from '../queue/connections.ts';
import { describeState } from './status-text.ts';

export interface ReadinessCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

export interface MailboxFreshness {
  id: string;
  pollIntervalMs: number;
  lastOkAt?: number;
  /** No login before this: the server's LOGIN-DELAY, or a refused login's backoff (see `state`). */
  notBefore?: number;
  /** The mailbox's state (src/mailbox/state.ts). */
  state: MailboxState;
}

/** States whose wait the server asked for: the mailbox is not stale while it waits. */
const WAIT_ASKED: ReadonlySet<MailboxState['state']> = new Set<MailboxState['state']>([
  'new',
  'ok',
  'login-delay',
]);

export interface ReadinessInput {
  now: number;
  startedAt: number;
  /** A mailbox is stale after this many poll intervals without an ok poll. */
  staleIntervals: number;
  redis: { ok: boolean; detail?: string };
  workers: ReadonlyArray<{ name: string; running: boolean }>;
  /** Problems the watchdog currently sees, by check name. */
  watchdog: ReadonlyMap<string, string>;
  /** Undefined when this process neither polls nor schedules (or Redis could not be read). */
  mailboxes?: readonly MailboxFreshness[];
}

/**
 * Pure: why a mailbox is not ready, or undefined. Refused until an operator acts (credentials, blocked): at
 * once, with the state and the server's or provider's text. Otherwise stale after N intervals without an ok
 * poll (grace after start: N intervals from the start count as fresh); a LOGIN-DELAY wait counts as fresh,
 * a refusal's backoff ([SYS/TEMP], [IN-USE]) does not.
 */
export function mailboxStaleness(
  m: MailboxFreshness,
  now: number,
  startedAt: number,
  intervals: number,
): string | undefined {
  if (OPERATOR_STATES.has(m.state.state)) {
    const text = m.state.text === undefined ? '' : `: ${m.state.text}`;
    return `${describeState(m.state, now)}${text} (operator action needed)`;
  }
  const limit = intervals * m.pollIntervalMs;
  const waited = WAIT_ASKED.has(m.state.state) ? (m.notBefore ?? 0) : 0;
  const since = Math.max(m.lastOkAt ?? 0, waited, startedAt);
  if (now - since <= limit) return undefined;
  const last = m.lastOkAt === undefined ? 'never' : `${Math.round((now - m.lastOkAt) / 1000)} s ago`;
  return `no ok poll for over ${intervals} intervals (last ok: ${last})`;
}

export function decideReadiness(input: ReadinessInput): { ready: boolean; checks: ReadinessCheck[] } {
  const checks: ReadinessCheck[] = [
    { name: 'redis', ...input.redis },
    ...input.workers.map((w) => ({
      name: `worker:${w.name}`,
      ok: w.running,
      ...(w.running ? {} : { detail: 'not running' }),
    })),
    ...[...input.watchdog].map(([name, detail]) => ({ name: `watchdog:${name}`, ok: false, detail })),
  ];
  for (const m of input.mailboxes ?? []) {
    const detail = mailboxStaleness(m, input.now, input.startedAt, input.staleIntervals);
    checks.push({ name: `mailbox:${m.id}`, ok: detail === undefined, ...(detail ? { detail } : {}) });
  }
  return { ready: checks.every((c) => c.ok), checks };
}

/** SET and DEL of a probe key on the fail-fast connection, within `timeoutMs`. */
export async function probeRedis(redis: RedisClient, key: string, timeoutMs: number): Promise<true | string> {
  try {
    await withTimeout(
      (async () => {
        await redis.set(key, '1', 'PX', 10_000);
        await redis.del(key);
      })(),
      timeoutMs,
    );
    return true;
  } catch (error) {
    return (error as Error).message;
  }
}

export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  promise.catch(() => {});
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
